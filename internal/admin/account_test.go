package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signout"
)

// accountPage opens /account in b, signing in there first if needed.
func accountPage(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser, username string) sesametest.Page {
	t.Helper()
	p := b.Get(s.URL + "/account")
	if sesametest.IsSignInPage(p) {
		p = b.Submit(p, map[string]string{"username": username, "password": sesametest.Password})
	}
	if p.Status != 200 || !strings.Contains(p.Body, "Devices") {
		t.Fatalf("account page: %d %s", p.Status, p.Body)
	}
	return p
}

// forms returns the action of each form on the page.
func forms(p sesametest.Page) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// post submits an account-page form, keeping its csrf.
func post(b *sesametest.Browser, s *sesametest.Sesame, p sesametest.Page, action string) sesametest.Page {
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
	return b.Post(s.URL+action, url.Values{"csrf": {csrf}})
}

// O7, §2 account page: signing a device out from the page sends its apps a
// back-channel logout and writes a receipt.
func TestAccountPageSignsADeviceOut(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	phone := s.NewBrowser(t)
	tok := phone.SignedIn(sesametest.AppA, "alice", nil)
	laptop := s.NewBrowser(t)
	p := accountPage(t, s, laptop, "alice")
	if !strings.Contains(p.Body, "(this device)") || strings.Count(p.Body, "Sign out this device") != 2 {
		t.Fatalf("devices not listed: %s", p.Body)
	}
	phoneAction := "/account/sessions/" + sessionID(t, s, phone) + "/end"
	if !strings.Contains(p.Body, phoneAction) {
		t.Fatalf("no form for the phone's session %s", phoneAction)
	}
	done := post(laptop, s, p, phoneAction)
	if done.Status != 200 || !strings.Contains(done.Body, "That device is signed out") {
		t.Fatalf("after signing the phone out: %d", done.Status)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("the phone's app token survived: %d", st)
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	recs, _ := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 5)
	if len(recs) != 1 || recs[0].Cause != signout.CauseAccount {
		t.Errorf("receipts %+v", recs)
	}
	if p := laptop.Get(s.URL + "/account"); !strings.Contains(p.Body, "(this device)") {
		t.Error("the laptop was signed out too")
	}
}

// The page of one person never shows or acts on another's sessions or
// grants (tested by trying); a stale csrf is refused.
func TestAccountPageIsOnlyYours(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	bobs := s.NewBrowser(t)
	bobTok := bobs.SignedIn(sesametest.AppA, "bob", nil)
	bobPage := accountPage(t, s, bobs, "bob")
	alice := s.NewBrowser(t)
	p := accountPage(t, s, alice, "alice")
	if strings.Contains(p.Body, "bob") {
		t.Error("alice's page shows bob")
	}
	for _, action := range forms(bobPage) {
		if action == "/account/sign-out-everywhere" {
			continue
		}
		if got := post(alice, s, p, action); got.Status != http.StatusNotFound {
			t.Errorf("alice acting on %s: %d", action, got.Status)
		}
	}
	if st, _ := s.UserInfo(t, bobTok.AccessToken); st != 200 {
		t.Errorf("alice ended bob's access: %d", st)
	}
	stale := alice.Post(s.URL+"/account/sign-out-everywhere", url.Values{"csrf": {"forged"}})
	if stale.Status != http.StatusBadRequest {
		t.Errorf("forged csrf: %d", stale.Status)
	}
}

// O6 from the page: every device signed out, this one included.
func TestAccountPageSignsOutEverywhere(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	phone := s.NewBrowser(t)
	tok := phone.SignedIn(sesametest.AppA, "alice", nil)
	laptop := s.NewBrowser(t)
	p := accountPage(t, s, laptop, "alice")
	after := post(laptop, s, p, "/account/sign-out-everywhere")
	if !sesametest.IsSignInPage(after) {
		t.Errorf("still signed in on this device: %d", after.Status)
	}
	if st, _ := s.UserInfo(t, tok.AccessToken); st != 401 {
		t.Errorf("the phone's token survived: %d", st)
	}
}

// Disconnecting an app from the page revokes its grant and tells it.
func TestAccountPageDisconnectsAnApp(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok := b.SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	p := accountPage(t, s, b, "alice")
	var action string
	for _, a := range forms(p) {
		if strings.HasPrefix(a, "/account/grants/") {
			action = a
		}
	}
	if done := post(b, s, p, action); !strings.Contains(done.Body, "That app is disconnected") {
		t.Fatalf("disconnect: %d", done.Status)
	}
	if r := s.Refresh(t, sesametest.AppA, tok.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("offline refresh after disconnect: %+v", r.Raw)
	}
	if got := s.Apps[sesametest.AppA].WaitReceived(1, 5*time.Second); len(got) != 1 {
		t.Errorf("app-a got %d logout tokens", len(got))
	}
}

// sessionID is the id of the session b's cookie names.
func sessionID(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser) string {
	t.Helper()
	u, _ := url.Parse(s.URL + "/")
	for _, c := range b.HTTP.Jar.Cookies(u) {
		if c.Name == session.CookieName {
			cur, err := s.Sessions.FromCookie(t.Context(), c.Value)
			if err != nil {
				t.Fatal(err)
			}
			return cur.Session.ID
		}
	}
	t.Fatal("no session cookie")
	return ""
}
