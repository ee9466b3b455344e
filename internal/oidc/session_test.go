package oidc_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/session"
)

// S1, spec S1: the session cookie is HttpOnly, SameSite=Lax, path /, and the
// database holds only its hash.
func TestSessionCookieAttributes(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := b.Get(s.AuthURL(sesametest.AppA, nil))
	resp := submitRaw(t, b, p)
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == session.CookieName {
			c = ck
		}
	}
	if c == nil {
		t.Fatal("no session cookie set")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || len(c.Value) < 43 {
		t.Errorf("cookie %+v", c)
	}
	if c.Secure {
		t.Error("Secure cookie on a plain-http loopback issuer would never be sent back")
	}
	if _, err := s.Store.SessionByCookie(t.Context(), []byte(c.Value)); err == nil {
		t.Error("the store finds the session by the raw cookie value")
	}
}

// S1, spec S2: every sign-in makes a new session id and cookie (no
// fixation), also for the same account.
func TestEverySignInMakesANewSession(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	before := cookie(t, b, s)
	p := b.Get(s.AuthURL(sesametest.AppA, url.Values{"prompt": {"login"}}))
	sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password}))
	after := cookie(t, b, s)
	if before == after {
		t.Fatal("re-authentication kept the session cookie")
	}
	if _, err := s.Sessions.FromCookie(t.Context(), before); err == nil {
		t.Error("the old session still works")
	}
	cur, err := s.Sessions.FromCookie(t.Context(), after)
	if err != nil || len(cur.Session.Authorizations) != 1 {
		t.Errorf("new session %+v, %v: want app-a's authorization carried over", cur.Session, err)
	}
}

// S2: a session ends 14 days after last use, and 90 days after sign-in at
// the latest.
func TestSessionExpiry(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	silent := url.Values{"prompt": {"none"}}
	for day := 13; day <= 89; day += 13 {
		s.Clock.Advance(13 * 24 * time.Hour)
		if cb := b.SignIn(sesametest.AppA, "alice", silent); cb.Code == "" {
			t.Fatalf("day %d: session ended while in use: %+v", day, cb)
		}
	}
	s.Clock.Advance(13 * 24 * time.Hour) // day 91
	if cb := b.SignIn(sesametest.AppA, "alice", silent); cb.Error != "login_required" {
		t.Errorf("session outlived its 90-day maximum: %+v", cb)
	}

	b2 := s.NewBrowser(t)
	b2.SignedIn(sesametest.AppA, "alice", nil)
	s.Clock.Advance(14*24*time.Hour + time.Second)
	if cb := b2.SignIn(sesametest.AppA, "alice", silent); cb.Error != "login_required" {
		t.Errorf("idle session outlived 14 days: %+v", cb)
	}
}

// S6: each browser has its own session.
func TestBrowsersHaveSeparateSessions(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
	if cb := s.NewBrowser(t).SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); cb.Error != "login_required" {
		t.Errorf("a second browser shared the first one's session: %+v", cb)
	}
}

// S7: another account signing in on a browser signs the previous one out
// globally first: its non-offline grants are revoked with their tokens.
func TestAnotherAccountSignsThePreviousOneOut(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	alice := b.SignedIn(sesametest.AppA, "alice", nil)
	aliceOffline := b.SignedIn(sesametest.AppB, "alice", sesametest.Offline())
	p := b.Get(s.AuthURL(sesametest.AppA, url.Values{"prompt": {"login"}}))
	bob := s.Exchange(t, sesametest.AppA, sesametest.Landed(t, b.Submit(p, map[string]string{"username": "bob", "password": sesametest.Password})).Code, "")
	if bob.Status != 200 {
		t.Fatalf("bob: %+v", bob.Raw)
	}
	if st, _ := s.UserInfo(t, alice.AccessToken); st != 401 {
		t.Errorf("alice's token survived bob signing in: %d", st)
	}
	if r := s.Refresh(t, sesametest.AppB, aliceOffline.RefreshToken); r.Status != 200 {
		t.Errorf("alice's offline grant did not survive (O4): %+v", r.Raw)
	}
	_, claims := s.UserInfo(t, bob.AccessToken)
	if claims["preferred_username"] != "bob" {
		t.Errorf("userinfo after switching accounts: %v", claims)
	}
}

// A disabled account's session no longer signs anyone in (S4).
func TestDisabledAccountLosesSSO(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok := b.SignedIn(sesametest.AppA, "alice", nil)
	acct, err := s.Store.AccountByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	acct.Disabled = true
	if err := s.Store.InTx(t.Context(), storeDurable, func(tx storeTx) error { return tx.UpsertAccount(t.Context(), acct) }); err != nil {
		t.Fatal(err)
	}
	if cb := b.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}); cb.Error != "login_required" {
		t.Errorf("disabled account signed in silently: %+v", cb)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("disabled account's token still works: %d", st)
	}
}
