package signout_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// O6: every device at once: each session of the account ends as O4; other
// accounts are untouched.
func TestSignOutOfEveryDevice(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	laptop, phone, bobs := s.NewBrowser(t), s.NewBrowser(t), s.NewBrowser(t)
	a := laptop.SignedIn(sesametest.AppA, "alice", nil)
	b := phone.SignedIn(sesametest.AppB, "alice", nil)
	bob := bobs.SignedIn(sesametest.AppA, "bob", nil)
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	done, err := s.Signout.AllDevices(t.Context(), acct.ID, signout.CauseAccount, nil)
	if err != nil || len(done) != 2 {
		t.Fatalf("%d receipts, %v", len(done), err)
	}
	for _, d := range done {
		if d.Receipt.Scope != string(signout.ScopeAllDevices) {
			t.Errorf("receipt scope %q", d.Receipt.Scope)
		}
	}
	for _, tok := range []string{a.AccessToken, b.AccessToken} {
		if st, _ := s.UserInfo(t, tok); st != 401 {
			t.Errorf("a token of alice survived: %d", st)
		}
	}
	if st, _ := s.UserInfo(t, bob.AccessToken); st != 200 {
		t.Errorf("bob was signed out too: %d", st)
	}
	for _, br := range []*sesametest.Browser{laptop, phone} {
		if cb := br.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); cb.Error != "login_required" {
			t.Errorf("a device is still signed in: %+v", cb)
		}
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
	if got := s.Apps[sesametest.AppB].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-b got %d logout tokens", len(got))
	}
}

// O7: an admin revoking a grant kills its tokens, tells its app by back
// channel, and leaves the session and the other apps signed in.
func TestAdminRevokesAGrant(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	br := s.NewBrowser(t)
	a := br.SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	br.SignedIn(sesametest.AppB, "alice", nil)
	at, err := s.Store.AccessToken(t.Context(), token.Key(a.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Signout.RevokeGrant(t.Context(), at.GrantID, signout.CauseAdmin, nil)
	if err != nil || len(d.Deliveries) != 1 {
		t.Fatalf("%+v %v", d, err)
	}
	if r := s.Refresh(t, sesametest.AppA, a.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("refresh after admin revocation: %+v", r.Raw)
	}
	if got := s.Apps[sesametest.AppA].Received(); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
	if cb := br.SignIn(sesametest.AppB, "alice", url.Values{"prompt": {"none"}}); cb.Code == "" {
		t.Errorf("app-b lost its sign-in: %+v", cb)
	}
	r, _ := signout.ReadReceipt(t.Context(), s.Store, d.Receipt.ID)
	if r.Cause != signout.CauseAdmin || len(r.Deliveries) != 1 || r.Deliveries[0].State != store.DeliveryDelivered {
		t.Errorf("receipt %+v", r)
	}
}

// O7: an admin revoking a session signs it out as O4.
func TestAdminRevokesASession(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	br := s.NewBrowser(t)
	a := br.SignedIn(sesametest.AppA, "alice", nil)
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	sessions, _ := s.Store.SessionsByAccount(t.Context(), acct.ID)
	if _, err := s.Signout.RevokeSession(t.Context(), sessions[0].ID, signout.CauseAdmin, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.UserInfo(t, a.AccessToken); st != 401 {
		t.Errorf("token survived: %d", st)
	}
	if got := s.Apps[sesametest.AppA].Received(); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
}

// S7: another account signing in on the browser signs the previous one
// out globally, back-channel included.
func TestAccountSwitchNotifiesTheApps(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	p := b.Get(s.AuthURL(sesametest.AppA, url.Values{"prompt": {"login"}}))
	sesametest.Landed(t, b.Submit(p, map[string]string{"username": "bob", "password": sesametest.Password}))
	got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second)
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	if len(got) != 1 || got[0].Subject != acct.ID {
		t.Errorf("app-a received %+v, want alice's logout", got)
	}
	recs, _ := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 5)
	if len(recs) != 1 || recs[0].Cause != signout.CauseAccountSwitch {
		t.Errorf("receipts %+v", recs)
	}
}

// A client's device limit (max_grants, Logto's maxAllowedGrants): signing
// in beyond it ends the oldest grant with back-channel logout.
func TestDeviceLimitEndsTheOldestGrant(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == sesametest.AppC {
				c.Clients[i].MaxGrants = 2
			}
		}
	}})
	var toks []sesametest.Tokens
	for range 3 {
		toks = append(toks, s.NewBrowser(t).SignedIn(sesametest.AppC, "alice", nil))
		s.Clock.Advance(time.Second) // an order among the grants
	}
	if st, _ := s.UserInfo(t, toks[0].AccessToken); st != 401 {
		t.Errorf("the oldest device kept its access: %d", st)
	}
	for i, tok := range toks[1:] {
		if st, _ := s.UserInfo(t, tok.AccessToken); st != 200 {
			t.Errorf("device %d lost its access: %d", i+2, st)
		}
	}
	got := s.Apps[sesametest.AppC].WaitReceived(1, 5*time.Second)
	if len(got) != 1 || got[0].SID != s.IDClaims(t, toks[0].IDToken)["sid"] {
		t.Errorf("app-c received %+v, want the oldest device's logout", got)
	}
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	recs, _ := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 5)
	if len(recs) != 1 || recs[0].Cause != signout.CauseDeviceLimit {
		t.Errorf("receipts %+v", recs)
	}
}

// O6, B3: the first attempts of every device's sign-out start at once, in
// parallel, as one sign-out's do. With an app that takes longer than
// backchannel_wait to answer, each sign-out delivered after the one before
// waited that out while its leases ran, and the last went to the queue
// for the rest of its lease: by the time AllDevices returns, the app has
// been called once per device.
func TestEveryDeviceIsToldAtOnce(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	const devices = 4
	for range devices {
		s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
	}
	app := s.Apps[sesametest.AppA]
	app.Hang(3 * time.Second) // longer than backchannel_wait (2 s)
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	done, err := s.Signout.AllDevices(t.Context(), acct.ID, signout.CauseAccount, nil)
	if err != nil || len(done) != devices {
		t.Fatalf("%d receipts, %v", len(done), err)
	}
	if got := app.Calls(); got != devices {
		t.Errorf("the app was called %d times when every device was signed out, want %d at once", got, devices)
	}
}
