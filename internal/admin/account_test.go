package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/config"
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

// thisDevice is how the page marks the device it is looked at from.
const thisDevice = `<span class="badge">This device</span>`

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
	if !strings.Contains(p.Body, thisDevice) || strings.Count(p.Body, `action="/account/sessions/`) != 2 {
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
	if p := laptop.Get(s.URL + "/account"); !strings.Contains(p.Body, thisDevice) {
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

// userAgent makes a test browser send a real browser's User-Agent.
type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.next.RoundTrip(r)
}

const (
	chromeOnMac  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	safariOnIOS  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	appAName     = "Travel Planner"
	thirdPartyID = sesametest.ThirdParty
)

// browserAs is a test browser that says it is ua.
func browserAs(t *testing.T, s *sesametest.Sesame, ua string) *sesametest.Browser {
	b := s.NewBrowser(t)
	b.HTTP.Transport = userAgent{ua: ua, next: http.DefaultTransport}
	return b
}

// S2: the page names devices by browser and system, not by raw
// User-Agent, marks the one it is seen from and lists it first; apps by
// their name (their id when they have none) with what they may do in
// words.
func TestAccountPageNamesDevicesAndAppsInWords(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		for i := range c.Clients {
			switch c.Clients[i].ID {
			case sesametest.AppA:
				c.Clients[i].Name = appAName
			case thirdPartyID:
				c.Clients[i].Name = "" // falls back to the id
			}
		}
	}})
	phone := browserAs(t, s, safariOnIOS)
	phone.SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	laptop := browserAs(t, s, chromeOnMac)
	laptop.SignedIn(thirdPartyID, "alice", nil)
	p := accountPage(t, s, laptop, "alice")

	for _, want := range []string{
		"<strong>Chrome on macOS</strong> " + thisDevice,
		"<strong>Safari on iOS</strong>",
		"<strong>" + appAName + "</strong>",
		"<strong>" + thirdPartyID + "</strong>",
		"Apps: " + appAName,
		"Can: sign you in; your name and profile; your email address; stay connected when you are away",
		"Can: sign you in; your name and profile; your email address</p>",
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, raw := range []string{"Mozilla/5.0", "AppleWebKit", "offline_access", "openid"} {
		if strings.Contains(p.Body, raw) {
			t.Errorf("the page shows the raw %q", raw)
		}
	}
	if strings.Index(p.Body, "Chrome on macOS") > strings.Index(p.Body, "Safari on iOS") {
		t.Error("this device is not listed first")
	}
}

// The destructive actions are secondary: each form that signs out or
// disconnects sits inside a closed <details> whose summary names the
// action, so nothing is one click away and no action is the page's
// primary button; the form itself, opened without JavaScript, posts as
// before.
func TestAccountPageActionsAskForConfirmation(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	p := accountPage(t, s, b, "alice")
	confirmed := regexp.MustCompile(`(?s)<details>\s*<summary>([^<]+)</summary>\s*<div class="confirm">\s*<p>[^<]+</p>\s*` +
		`<form method="post" action="([^"]+)">.*?<button type="submit" class="danger">Yes, [^<]+</button>.*?</form>\s*</div>\s*</details>`)
	var behind []string
	summaries := map[string]string{}
	for _, m := range confirmed.FindAllStringSubmatch(p.Body, -1) {
		behind = append(behind, m[2])
		summaries[m[2]] = m[1]
	}
	all := forms(p)
	if len(all) != 3 || !slices.Equal(behind, all) {
		t.Fatalf("forms %v, of which behind a confirmation: %v", all, behind)
	}
	if got := summaries["/account/sign-out-everywhere"]; got != "Sign out everywhere" {
		t.Errorf("sign out everywhere's summary is %q", got)
	}
	if strings.Contains(p.Body, `<details open`) {
		t.Error("a confirmation is open before the person asks for it")
	}
	if regexp.MustCompile(`<button type="submit">`).MatchString(p.Body) {
		t.Error("the page has a primary button")
	}
}

// The landing page answers at / and at the issuer (with or without the
// slash): what Sesame is, its issuer and discovery document, and the way
// to the account page, naming who is signed in when someone is.
func TestLandingPage(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	discovery := s.Issuer + "/.well-known/openid-configuration"
	for _, u := range []string{s.URL + "/", s.Issuer, s.Issuer + "/"} {
		p := b.Get(u)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", u, p.Status)
		}
		for _, want := range []string{"OpenID Connect provider", "<code>" + s.Issuer + "</code>", `<a href="` + discovery + `">`,
			`<a href="/account">Sign in to your account</a>`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("GET %s lacks %q", u, want)
			}
		}
		if strings.Contains(p.Body, "signed in as") {
			t.Errorf("GET %s names someone signed in before anyone is", u)
		}
	}
	if d := b.Get(discovery); d.Status != http.StatusOK || !strings.Contains(d.Body, `"issuer":"`+s.Issuer+`"`) {
		t.Errorf("the discovery link answers %d", d.Status)
	}
	b.SignedIn(sesametest.AppA, "alice", nil)
	p := b.Get(s.URL + "/")
	if !strings.Contains(p.Body, "You are signed in as <strong>alice</strong>") || !strings.Contains(p.Body, `<a href="/account">Your account</a>`) {
		t.Errorf("signed in, the landing page says: %s", p.Body)
	}
}

// Other unknown paths keep their 404 page, in words: no bare status text.
func TestUnknownPathsAreStillNotFound(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	for _, u := range []string{s.URL + "/nothing", s.Issuer + "/nothing", s.URL + "/oidcx"} {
		p := b.Get(u)
		if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "<h1>Page not found</h1>") ||
			!strings.Contains(p.Body, "Check the address") || strings.Contains(p.Body, "Not Found") {
			t.Errorf("GET %s: %d %s", u, p.Status, p.Body)
		}
	}
}

// Every change a person makes on the account page is in the audit log:
// by their account, from their address, on what, in the change's own
// transaction.
func TestAccountPageChangesAreAudited(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	phone := s.NewBrowser(t)
	phone.SignedIn(sesametest.AppA, "alice", nil)
	laptop := s.NewBrowser(t)
	laptop.SignedIn(sesametest.AppB, "alice", nil)
	p := accountPage(t, s, laptop, "alice")
	acct, _ := s.Store.AccountByUsername(t.Context(), "alice")
	phoneSession := sessionID(t, s, phone)
	post(laptop, s, p, "/account/sessions/"+phoneSession+"/end")
	p = accountPage(t, s, laptop, "alice")
	var grantAction string
	for _, a := range forms(p) {
		if strings.HasPrefix(a, "/account/grants/") {
			grantAction = a
		}
	}
	if grantAction == "" {
		t.Fatalf("no app to disconnect: %s", p.Body)
	}
	post(laptop, s, p, grantAction)
	p = accountPage(t, s, laptop, "alice")
	post(laptop, s, p, "/account/sign-out-everywhere")

	entries, err := audit.List(t.Context(), s.Store, audit.Filter{Account: acct.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Actor != audit.ByAccount(acct.ID) || e.Address == "" {
			t.Errorf("entry %s: actor %+v, address %q; want alice's account and an address", e.Action, e.Actor, e.Address)
		}
		got = append(got, string(e.Action)+" "+e.Target.ID)
	}
	grantID := strings.TrimSuffix(strings.TrimPrefix(grantAction, "/account/grants/"), "/revoke")
	want := []string{
		string(audit.AccountSignOutEverywhere) + " " + acct.ID,
		string(audit.GrantRevoke) + " " + grantID,
		string(audit.SessionRevoke) + " " + phoneSession,
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit log, newest first:\n got %q\nwant %q", got, want)
	}
}
