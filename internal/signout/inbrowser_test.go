package signout_test

import (
	"slices"
	"testing"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
)

// F2, O6, O7, O9: a sign-out of several sessions answered in one browser
// (InBrowser) returns and records the front-channel pages of that
// browser's session alone; the other sessions' apps get none, and a
// sign-out that names no browser, or another browser than the session it
// ends, returns and records none.
func TestInBrowserFramesOnlyThatBrowsersSession(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		opts.Configure = func(c *config.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == sesametest.AppA {
					c.Clients[i].FrontchannelLogoutURI = "https://app-a.example/fc"
				}
			}
		}
		s := sesametest.New(t, opts)
		ctx := t.Context()
		acct, err := s.Store.AccountByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		// signIn signs alice in to app-a in n new browsers and returns
		// their sessions' ids.
		signIn := func(n int) []string {
			for range n {
				s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
			}
			list, err := s.Store.SessionsByAccount(ctx, acct.ID)
			if err != nil || len(list) != n {
				t.Fatalf("sessions %+v, %v", list, err)
			}
			var ids []string
			for _, sess := range list {
				ids = append(ids, sess.ID)
			}
			return ids
		}
		// pages fails unless the sign-out of each session in want
		// returned, and recorded, app-a's page, and the others none.
		pages := func(name string, done []signout.Done, want ...string) {
			t.Helper()
			for _, d := range done {
				framed, n := slices.Contains(want, d.Receipt.SessionID), 0
				if framed {
					n = 1
				}
				if len(d.Frontchannel) != n {
					t.Errorf("%s: session %s returned pages %+v, want %d", name, d.Receipt.SessionID, d.Frontchannel, n)
				}
				rec, err := s.Store.Receipt(ctx, d.Receipt.ID)
				if err != nil || len(rec.Outcomes) != 1 {
					t.Fatalf("%s: receipt %+v, %v", name, rec, err)
				}
				if got := rec.Outcomes[0].FrontchannelURI != ""; got != framed {
					t.Errorf("%s: session %s's receipt records a page: %v, want %v", name, d.Receipt.SessionID, got, framed)
				}
			}
		}

		ids := signIn(3)
		done, err := s.Signout.AllDevices(ctx, acct.ID, signout.CauseAccount, nil, signout.InBrowser(ids[1]))
		if err != nil || len(done) != 3 {
			t.Fatalf("every device: %d sign-outs, %v", len(done), err)
		}
		pages("every device, in one of them", done, ids[1])

		signIn(2)
		done, err = s.Signout.AllDevices(ctx, acct.ID, signout.CauseAdmin, nil)
		if err != nil || len(done) != 2 {
			t.Fatalf("every device: %d sign-outs, %v", len(done), err)
		}
		pages("every device, no browser", done)

		ids = signIn(2)
		for _, c := range []struct {
			name            string
			session, within string
		}{
			{"this device", ids[0], ids[0]},
			{"another device", ids[1], "elsewhere"},
		} {
			d, err := s.Signout.RevokeSession(ctx, c.session, signout.CauseAccount, nil, signout.InBrowser(c.within))
			if err != nil || d.Receipt.ID == "" {
				t.Fatalf("%s: %+v, %v", c.name, d, err)
			}
			pages(c.name, []signout.Done{d}, c.within)
		}
	})
}
