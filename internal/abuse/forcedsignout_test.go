package abuse_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// endSessionAs loads {issuer}/session/end with q in b, by GET or by a form
// POST, with referer as the Referer header when it is not empty (what a
// browser sends when a page at that address links or posts here).
func endSessionAs(t *testing.T, s *sesametest.Sesame, b *sesametest.Browser, method string, q url.Values, referer string) sesametest.Page {
	t.Helper()
	endpoint := s.Issuer + "/session/end"
	var req *http.Request
	if method == http.MethodPost {
		req, _ = http.NewRequest(method, endpoint, strings.NewReader(q.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, endpoint+"?"+q.Encode(), nil)
	}
	if referer != "" {
		req.Header.Set("Referer", referer)
	}
	resp, err := b.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return sesametest.Page{URL: req.URL.String(), Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

// submitsItself reports whether p is the confirm page that signs out by
// script: the script, and the CSP nonce that lets it run.
func submitsItself(p sesametest.Page) bool {
	return strings.Contains(p.Body, "<script") && strings.Contains(p.Header.Get("Content-Security-Policy"), "'nonce-")
}

// stillSignedIn reports whether b's session still signs in to app-a
// without a page (prompt=none).
func stillSignedIn(b *sesametest.Browser) bool {
	return b.SignIn(sesametest.AppA, "alice", url.Values{"prompt": {"none"}}).Code != ""
}

// O3, spec L8 (RP-Initiated Logout §2, §6): with signout_confirm: auto, a
// request that does not prove where it came from gets the confirm page
// without the self-submitting script, and loading it signs nobody out: no
// session ends and no app hears a back-channel logout. A link on any page
// (logout CSRF) is such a request.
func TestForcedSignOutShowsTheConfirmPage(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		b := s.NewBrowser(t)
		b.SignedIn(sesametest.AppA, "alice", nil)
		b.SignedIn(sesametest.AppB, "alice", nil)
		// An ID token Sesame issued, for app-a, but of another browser's
		// session: an attacker's own, or one leaked from elsewhere.
		other := s.NewBrowser(t).SignedIn(sesametest.AppA, "alice", nil)
		registered := url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}}
		withHint := url.Values{"id_token_hint": {other.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}}
		cases := []struct {
			name    string
			method  string
			q       url.Values
			referer string
		}{
			{"a bare link", http.MethodGet, url.Values{}, ""},
			{"a bare link from another site", http.MethodGet, url.Values{}, "https://evil.example/"},
			{"a cross-site form post", http.MethodPost, url.Values{}, "https://evil.example/"},
			{"client_id only", http.MethodGet, url.Values{"client_id": {sesametest.AppA}}, ""},
			{"client_id only, from the app's origin", http.MethodGet, url.Values{"client_id": {sesametest.AppA}}, "https://app-a.example/home"},
			{"client_id and registered URI, no Referer", http.MethodGet, registered, ""},
			{"client_id and registered URI, Referer of another site", http.MethodGet, registered, "https://evil.example/app-a.example/"},
			{"client_id and registered URI, Referer of another app", http.MethodGet, registered, "https://app-b.example/"},
			{"client_id and registered URI, Referer on another port", http.MethodGet, registered, "https://app-a.example:8443/"},
			{"client_id and registered URI, posted from another site", http.MethodPost, registered, "https://evil.example/"},
			{"a valid hint of another session", http.MethodGet, withHint, ""},
			{"a valid hint of another session, from the app's origin", http.MethodGet,
				url.Values{"id_token_hint": {other.IDToken}, "client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}},
				"https://app-a.example/"},
			{"a valid hint of another session, posted", http.MethodPost, withHint, ""},
		}
		for _, c := range cases {
			p := endSessionAs(t, s, b, c.method, c.q, c.referer)
			if p.Status != http.StatusOK || p.Location != "" || !strings.Contains(p.Body, `name="logout"`) {
				t.Errorf("%s: %d %q, want the confirm page", c.name, p.Status, p.Location)
				continue
			}
			if submitsItself(p) {
				t.Errorf("%s: the confirm page submits itself", c.name)
			}
		}
		if !stillSignedIn(b) {
			t.Error("the browser was signed out by pages nobody confirmed")
		}
		for _, id := range []string{sesametest.AppA, sesametest.AppB} {
			if got := s.Apps[id].Received(); len(got) != 0 {
				t.Errorf("%s was told of a sign-out: %+v", id, got)
			}
		}
	})
}

// O3: requests that prove where they came from still get the
// self-submitting page (Logto's flow and the SDKs that send the ID token):
// an id_token_hint of this browser's session, expired too, by GET or POST;
// or a client_id with a registered post_logout_redirect_uri from a page of
// one of the app's registered origins. Submitting it (as the script does)
// signs out.
func TestProvenSignOutSubmitsItself(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		b := s.NewBrowser(t)
		tok := b.SignedIn(sesametest.AppA, "alice", nil)
		registered := url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}, "state": {"bye"}}
		cases := []struct {
			name    string
			method  string
			q       url.Values
			referer string
		}{
			{"this session's hint", http.MethodGet, url.Values{"id_token_hint": {tok.IDToken}}, ""},
			{"this session's hint, posted", http.MethodPost, url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {"https://app-a.example/"}}, ""},
			{"client_id, registered URI, from the app's page", http.MethodGet, registered, "https://app-a.example/account?tab=1"},
			{"client_id, registered URI, from the app's origin with its default port", http.MethodGet, registered, "https://APP-A.example:443/"},
			{"client_id, registered URI, posted from the app's page", http.MethodPost, registered, "https://app-a.example/"},
		}
		for _, c := range cases {
			if p := endSessionAs(t, s, b, c.method, c.q, c.referer); p.Status != http.StatusOK || !submitsItself(p) {
				t.Errorf("%s: %d, want the self-submitting confirm page", c.name, p.Status)
			}
		}
		s.Clock.Advance(2 * time.Hour) // the ID token (1 h) has expired; the session lives on
		p := endSessionAs(t, s, b, http.MethodGet, url.Values{"id_token_hint": {tok.IDToken}}, "")
		if !submitsItself(p) {
			t.Fatalf("this session's expired hint: %d, want the self-submitting confirm page", p.Status)
		}
		if done := b.Submit(p, map[string]string{"logout": "true"}); done.Status != http.StatusOK || stillSignedIn(b) {
			t.Errorf("confirming: %d, and still signed in: %v", done.Status, stillSignedIn(b))
		}
	})
}

// O2, O3, spec L3 (issue 11): only ID tokens are accepted as
// id_token_hint. A logout token, or any other JWT Sesame's key signed
// that is not an ID token, is refused like a forged hint: the 400 page,
// no redirect, nothing signed out, even with this session's sid.
func TestLogoutTokenIsNoIDTokenHint(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		b := s.NewBrowser(t)
		tok := b.SignedIn(sesametest.AppA, "alice", nil)
		id := s.IDClaims(t, tok.IDToken)
		now := s.Clock.Now().Unix()
		events := map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}
		sign := func(typ string, claims map[string]any) string {
			t.Helper()
			raw, err := s.Keys.Sign("ES256", typ, claims)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		logoutClaims := map[string]any{"iss": s.Issuer, "aud": sesametest.AppA, "iat": now, "exp": now + 120,
			"jti": "j1", "sub": id["sub"], "sid": id["sid"], "events": events}
		idShaped := func(drop string, extra map[string]any) map[string]any {
			m := map[string]any{}
			for k, v := range id {
				m[k] = v
			}
			delete(m, drop)
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		hints := map[string]string{
			"a logout token (typ logout+jwt, events)": sign("logout+jwt", logoutClaims),
			"a logout token's claims with typ JWT":    sign("JWT", logoutClaims),
			"an ID token with an events claim":        sign("JWT", idShaped("", map[string]any{"events": events})),
			"an ID token's claims with typ at+jwt":    sign("at+jwt", id),
			"an ID token without sub":                 sign("JWT", idShaped("sub", nil)),
			"an ID token without aud":                 sign("JWT", idShaped("aud", nil)),
			"an ID token of another issuer":           sign("JWT", idShaped("", map[string]any{"iss": "https://evil.example"})),
		}
		for name, hint := range hints {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://app-a.example/"}}
				p := endSessionAs(t, s, b, method, q, "https://app-a.example/")
				if p.Status != http.StatusBadRequest || p.Location != "" || submitsItself(p) || strings.Contains(p.Body, `name="logout"`) {
					t.Errorf("%s (%s): %d %q, want the 400 page", name, method, p.Status, p.Location)
				}
			}
		}
		// The genuine ID token, re-signed as Sesame signs one, is accepted:
		// the refusals are for what the token is, not how it was made.
		if p := endSessionAs(t, s, b, http.MethodGet, url.Values{"id_token_hint": {sign("JWT", id)}}, ""); !submitsItself(p) {
			t.Errorf("an ID token: %d", p.Status)
		}
		if !stillSignedIn(b) || len(s.Apps[sesametest.AppA].Received()) != 0 {
			t.Error("signed out by a refused hint")
		}
	})
}
