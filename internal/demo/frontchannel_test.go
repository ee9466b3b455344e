package demo

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/client"
)

const wantNotifiedFront = "Sesame told this app, by front-channel logout, that your session ended " +
	"(you signed out at Sesame in this browser, through this app or another). " +
	"Sign in again to continue."

// frontchannelOnly registers the apps' front-channel logout pages and no
// back-channel URI, so that whatever ends a session here is the
// front-channel request.
func frontchannelOnly(c *client.Spec, base string) {
	c.BackchannelLogoutURI = ""
	c.BackchannelLogoutSessionRequired = false
	c.FrontchannelLogoutURI = base + "/frontchannel-logout"
	c.FrontchannelLogoutSessionRequired = true
}

var (
	iframeSrc   = regexp.MustCompile(`<iframe src="([^"]*)"`)
	continueURL = regexp.MustCompile(`<a id="continue" href="([^"]*)">`)
)

// sid is the sid of the app session this browser holds at base, or "".
func (w *world) sid(base string) (string, string) {
	w.t.Helper()
	u, _ := url.Parse(base)
	for _, c := range w.browser.Jar.Cookies(u) {
		if !strings.HasSuffix(c.Name, "_session") {
			continue
		}
		if x, err := w.sessions[base].Get(w.t.Context(), c.Value); err == nil && x.SignedIn() {
			return c.Value, x.SID
		}
	}
	return "", ""
}

// frontchannelGet loads u as a frame of a page on another site would: no
// cookie (SameSite=Lax keeps the app's own from a cross-site frame).
func frontchannelGet(t *testing.T, u string) *http.Response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// F2, FCL §3: signing out of App One through Sesame ends its page with
// the front-channel page; the frame it loads for App Two, which carries no
// cookie, ends App Two's session by its sid, and App Two says it was told
// by front-channel logout. The page then goes on to App One, which says
// the person signed out of it.
func TestDemoFrontchannelLogoutEndsTheSessionBySID(t *testing.T) {
	w := newWorld(t, frontchannelOnly)
	w.signIn(w.one)
	w.signIn(w.two)
	twoSession, twoSID := w.sid(w.two)
	if twoSID == "" {
		t.Fatal("App Two holds no session for this browser")
	}

	page, at := w.get(w.one + "/sign-out")
	page, at = w.submit(page, at, url.Values{"logout": {"true"}})
	frames := iframeSrc.FindAllStringSubmatch(page, -1)
	next := continueURL.FindStringSubmatch(page)
	if len(frames) != 2 || next == nil {
		t.Fatalf("at %s, want the front-channel page with two frames and a way on: %s", at, page)
	}
	if w.sessions[w.two].Notified(twoSession) != "" {
		t.Fatal("App Two's session ended before its frame loaded: something else than the front channel ended it")
	}
	for _, f := range frames {
		u := html.UnescapeString(f[1])
		resp := frontchannelGet(t, u)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
			t.Errorf("frame %s: %d, Cache-Control %q", u, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	if got := w.sessions[w.two].Notified(twoSession); got != Frontchannel {
		t.Errorf("App Two's session after its frame loaded: notified by %q, want front-channel", got)
	}
	page, _ = w.get(w.two + "/")
	mustSay(t, "App Two after the front-channel page", page, "Not signed in", wantNotifiedFront)
	mustNotSay(t, "App Two after the front-channel page", page, "back-channel", "You signed out")

	page, at = w.get(html.UnescapeString(next[1]))
	if !strings.HasPrefix(at, w.one+"/?state=") {
		t.Fatalf("the page went on to %s", at)
	}
	mustSay(t, "App One after its own sign-out", page, "Not signed in", wantOwnOne)
	mustNotSay(t, "App One after its own sign-out", page, "Sesame told this app")
}

// FCL §3: the front-channel page answers 200, never cached, whatever it
// is given, and ends a session only for Sesame's iss and that session's
// sid, each given once.
func TestDemoFrontchannelLogoutNeedsTheIssuerAndSID(t *testing.T) {
	w := newWorld(t, frontchannelOnly)
	w.signIn(w.two)
	session, sid := w.sid(w.two)
	for _, q := range []url.Values{
		{},
		{"sid": {sid}},
		{"iss": {w.s.Issuer}},
		{"iss": {"https://elsewhere.example/oidc"}, "sid": {sid}},
		{"iss": {w.s.Issuer + "/"}, "sid": {sid}},
		{"iss": {w.s.Issuer}, "sid": {"another sid"}},
		{"iss": {w.s.Issuer}, "sid": {""}},
		{"iss": {w.s.Issuer, w.s.Issuer}, "sid": {sid}},
		{"iss": {w.s.Issuer}, "sid": {sid, sid}},
	} {
		resp := frontchannelGet(t, w.two+"/frontchannel-logout?"+q.Encode())
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-cache, no-store" {
			t.Errorf("?%s: %d, Cache-Control %q", q.Encode(), resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if got := w.sessions[w.two].Notified(session); got != "" {
			t.Fatalf("?%s ended the session", q.Encode())
		}
	}
	if page, _ := w.get(w.two + "/"); !strings.Contains(page, "Signed in as alice") {
		t.Fatalf("App Two lost its session: %s", page)
	}
	resp := frontchannelGet(t, w.two+"/frontchannel-logout?"+url.Values{"iss": {w.s.Issuer}, "sid": {sid}, "tenant": {"7"}}.Encode())
	if resp.StatusCode != http.StatusOK || w.sessions[w.two].Notified(session) != Frontchannel {
		t.Fatalf("Sesame's iss and the session's sid: %d, notified %q", resp.StatusCode, w.sessions[w.two].Notified(session))
	}
	resp, err := http.Post(w.two+"/frontchannel-logout", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /frontchannel-logout: %d", resp.StatusCode)
	}
}
