package signout_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// F2, FCL §2-§3: the page's URL keeps the registered query and appends
// iss and sid, both, encoded.
func TestFrontchannelURL(t *testing.T) {
	const iss = "https://id.example/oidc"
	for uri, want := range map[string]string{
		"https://app.example/fc":          "https://app.example/fc?iss=https%3A%2F%2Fid.example%2Foidc&sid=s+1%2F%3D",
		"https://app.example/fc?tenant=7": "https://app.example/fc?tenant=7&iss=https%3A%2F%2Fid.example%2Foidc&sid=s+1%2F%3D",
		"https://app.example/fc?":         "https://app.example/fc?iss=https%3A%2F%2Fid.example%2Foidc&sid=s+1%2F%3D",
		"https://app.example/fc?a=1&":     "https://app.example/fc?a=1&iss=https%3A%2F%2Fid.example%2Foidc&sid=s+1%2F%3D",
	} {
		got := signout.Frontchannel{URI: uri, SID: "s 1/="}.URL(iss)
		if got != want {
			t.Errorf("%s: %s, want %s", uri, got, want)
		}
		u, err := url.Parse(got)
		if err != nil || u.Query().Get("iss") != iss || u.Query().Get("sid") != "s 1/=" {
			t.Errorf("%s: %s does not read back iss and sid (%v)", uri, got, err)
		}
	}
}

// F2, O4, O5: a sign-out the browser ends returns one front-channel page
// per ended app that has one, with that app's sid; the app-only sign-out
// returns the requesting app's alone; a sign-out that does not ask for
// them returns and records none.
func TestSignOutReturnsFrontchannelPages(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		for i := range c.Clients {
			if id := c.Clients[i].ID; id == sesametest.AppA || id == sesametest.AppB {
				c.Clients[i].FrontchannelLogoutURI = "https://" + id + ".example/fc"
			}
		}
	}})
	ctx := t.Context()
	// session signs alice in to app-a, app-b and app-c in a new browser
	// and returns that browser's session, with the sid of each app.
	session := func() (store.Session, map[string]string) {
		b := s.NewBrowser(t)
		sids := map[string]string{}
		for _, id := range []string{sesametest.AppA, sesametest.AppB, sesametest.AppC} {
			tok := b.SignedIn(id, "alice", nil)
			sids[id], _ = s.IDClaims(t, tok.IDToken)["sid"].(string)
		}
		acct, _ := s.Store.AccountByUsername(ctx, "alice")
		list, err := s.Store.SessionsByAccount(ctx, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sess := range list {
			for _, a := range sess.Authorizations {
				if a.SID == sids[sesametest.AppA] {
					return sess, sids
				}
			}
		}
		t.Fatal("no session of the browser")
		return store.Session{}, nil
	}
	run := func(fn func(tx store.Tx) (signout.Done, error)) signout.Done {
		var d signout.Done
		err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
			var err error
			d, err = fn(tx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Signout.Deliver(ctx, d)
		return d
	}
	wantPages := func(name string, d signout.Done, sids map[string]string, ids ...string) {
		t.Helper()
		if len(d.Frontchannel) != len(ids) {
			t.Errorf("%s: pages %+v, want %v", name, d.Frontchannel, ids)
			return
		}
		// Authorizations come in sign-in order, which a fake clock may
		// not tell apart: compare by client.
		slices.SortFunc(d.Frontchannel, func(a, b signout.Frontchannel) int { return strings.Compare(a.ClientID, b.ClientID) })
		for i, id := range ids {
			want := signout.Frontchannel{ClientID: id, URI: "https://" + id + ".example/fc", SID: sids[id]}
			if d.Frontchannel[i] != want {
				t.Errorf("%s: page %+v, want %+v", name, d.Frontchannel[i], want)
			}
		}
	}

	sess, sids := session()
	d := run(func(tx store.Tx) (signout.Done, error) {
		return s.Signout.Global(ctx, tx, signout.Request{Session: sess, ClientID: sesametest.AppC, Cause: signout.CauseEndSession, Frontchannel: true})
	})
	wantPages("global", d, sids, sesametest.AppA, sesametest.AppB)

	sess, sids = session()
	d = run(func(tx store.Tx) (signout.Done, error) {
		d, _, _, err := s.Signout.App(ctx, tx, signout.Request{Session: sess, ClientID: sesametest.AppB, Cause: signout.CauseEndSession, Frontchannel: true})
		return d, err
	})
	wantPages("this app only", d, sids, sesametest.AppB)

	sess, sids = session()
	d = run(func(tx store.Tx) (signout.Done, error) {
		return s.Signout.Global(ctx, tx, signout.Request{Session: sess, Cause: signout.CauseAdmin})
	})
	wantPages("no browser", d, sids)
	rec, err := s.Store.Receipt(ctx, d.Receipt.ID)
	if err != nil || len(rec.Outcomes) != 3 {
		t.Fatalf("receipt %+v, %v", rec, err)
	}
	for _, o := range rec.Outcomes {
		if o.FrontchannelURI != "" {
			t.Errorf("a sign-out without a page records one: %+v", o)
		}
	}
}
