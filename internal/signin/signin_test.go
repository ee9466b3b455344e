package signin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signin"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// sessionCookie is the session cookie b holds.
func sessionCookie(t *testing.T, b *sesametest.Browser) string {
	t.Helper()
	c := b.SessionCookie()
	if c == "" {
		t.Fatal("no session cookie")
	}
	return c
}

func account(t *testing.T, s *sesametest.Sesame, username string) store.Account {
	t.Helper()
	a, err := s.Store.AccountByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// S1, S7, W1: one sign-in for both routes. A browser's previous session of
// the same account is superseded and its apps carried; another account's
// is signed out globally, back-channel included; with none, the session
// is new and empty. Every sign-in has a new id and cookie.
func TestSignIn(t *testing.T) {
	for _, c := range []struct {
		name      string
		previous  string // who was signed in to app-a in the browser, if anyone
		username  string
		carried   bool
		signedOut bool
	}{
		{"no previous session", "", "alice", false, false},
		{"same account again (S1)", "alice", "alice", true, false},
		{"another account (S7)", "bob", "alice", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sesametest.New(t, sesametest.Options{})
			b := s.NewBrowser(t)
			var prevCookie string
			var prev store.Session
			if c.previous != "" {
				b.SignedIn(sesametest.AppA, c.previous, nil)
				prevCookie = sessionCookie(t, b)
				cur, err := s.Sessions.FromCookie(t.Context(), prevCookie)
				if err != nil {
					t.Fatal(err)
				}
				prev = cur.Session
			}
			si, err := s.SignIns.Begin(t.Context(), signin.Request{
				Account: account(t, s, c.username), PreviousCookie: prevCookie, AMR: []string{"pwd"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := si.Commit(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			si.Deliver(t.Context())

			cur, err := s.Sessions.FromCookie(t.Context(), si.Cookie)
			if err != nil || cur.Account.Username != c.username {
				t.Fatalf("new session %+v, %v", cur, err)
			}
			if prev.ID != "" && (cur.Session.ID == prev.ID || si.Cookie == prevCookie) {
				t.Error("the sign-in kept the previous session's id or cookie (fixation)")
			}
			if got := len(cur.Session.Authorizations) == 1; got != c.carried {
				t.Errorf("authorizations %+v, want carried %v", cur.Session.Authorizations, c.carried)
			}
			if c.carried && cur.Session.Authorizations[0].SID != prev.Authorizations[0].SID {
				t.Error("the carried app has a new sid: its back-channel logout would name another session")
			}
			if prev.ID != "" {
				if _, err := s.Store.Session(t.Context(), prev.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the previous session is still there: %v", err)
				}
			}
			recs, err := s.Store.ReceiptsByAccount(t.Context(), account(t, s, "bob").ID, 5)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(recs) == 1 && recs[0].Cause == signout.CauseAccountSwitch; got != c.signedOut {
				t.Errorf("receipts of bob %+v, want a sign-out %v", recs, c.signedOut)
			}
			if c.signedOut && len(s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second)) != 1 {
				t.Error("app-a was not told bob signed out")
			}
		})
	}
}

// A sign-in is one transaction with the caller's own step: when that step
// fails, nothing is recorded and the previous session lives on.
func TestSignInIsOneTransaction(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok := b.SignedIn(sesametest.AppA, "bob", nil)
	si, err := s.SignIns.Begin(t.Context(), signin.Request{Account: account(t, s, "alice"), PreviousCookie: sessionCookie(t, b)})
	if err != nil {
		t.Fatal(err)
	}
	failed := errors.New("the caller's step failed")
	if err := si.Commit(t.Context(), func(store.Tx) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := s.Sessions.FromCookie(t.Context(), si.Cookie); err == nil {
		t.Error("the new session was created")
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 200 {
		t.Errorf("bob was signed out by a sign-in that failed: %d", st)
	}
}

// W1: the account page signs in as the OIDC flow does: signing in there
// again as the same account keeps the browser's apps signed in (it used
// to leave the old session alive beside the new one).
func TestAccountPageSignInCarriesApps(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	// The account page's sign-in form, left open in one tab while the
	// person signs in to app-a in another.
	action, form := b.Form(b.Get(s.URL+"/account"), map[string]string{"username": "alice", "password": sesametest.Password})
	b.SignedIn(sesametest.AppA, "alice", nil)
	before := sessionCookie(t, b)
	if p := b.Post(action, form); !strings.Contains(p.Body, "Devices") {
		t.Fatalf("account sign-in: %d %s", p.Status, p.Body)
	}
	after := sessionCookie(t, b)
	cur, err := s.Sessions.FromCookie(t.Context(), after)
	if before == after || err != nil || len(cur.Session.Authorizations) != 1 {
		t.Fatalf("session after the account page's sign-in: %+v, %v", cur.Session, err)
	}
	if _, err := s.Sessions.FromCookie(t.Context(), before); err == nil {
		t.Error("the superseded session still works")
	}
}
