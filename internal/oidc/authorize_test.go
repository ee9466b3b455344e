package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// spec D1-D9: discovery names every endpoint under the issuer.
func TestDiscoveryNamesEveryEndpoint(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	var doc map[string]any
	resp := getJSON(t, s.Issuer+"/.well-known/openid-configuration", &doc)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	want := map[string]string{
		"issuer":                 s.Issuer,
		"authorization_endpoint": s.Issuer + "/auth",
		"token_endpoint":         s.Issuer + "/token",
		"userinfo_endpoint":      s.Issuer + "/me",
		"jwks_uri":               s.Issuer + "/jwks",
		"revocation_endpoint":    s.Issuer + "/token/revocation",
		"introspection_endpoint": s.Issuer + "/token/introspection",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
	for k, v := range map[string]string{
		"code_challenge_methods_supported":      "S256",
		"id_token_signing_alg_values_supported": "RS256",
		"scopes_supported":                      "offline_access",
		"response_types_supported":              "code",
		"subject_types_supported":               "public",
	} {
		if !listHas(doc[k], v) {
			t.Errorf("%s = %v, want it to contain %s", k, doc[k], v)
		}
	}
	if listHas(doc["response_types_supported"], "token") { // spec A15
		t.Error("implicit flow advertised")
	}
}

// spec D10: the JWKS publishes both keys with unique kids and no private parts.
func TestJWKSPublishesPublicKeys(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, s.Issuer+"/jwks", &set)
	algs, kids := map[any]bool{}, map[any]bool{}
	for _, k := range set.Keys {
		algs[k["alg"]], kids[k["kid"]] = true, true
		if _, ok := k["d"]; ok {
			t.Error("private key material in JWKS")
		}
	}
	if !algs["ES256"] || !algs["RS256"] || len(kids) != len(set.Keys) {
		t.Errorf("keys %v", set.Keys)
	}
}

// S4: a second client signs in silently through the session (SSO); A17:
// the post-login redirect is 303.
func TestSSOSignsSecondAppInWithoutSignInPage(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	first := b.Get(s.AuthURL(sesametest.AppA, nil))
	if !sesametest.IsSignInPage(first) {
		t.Fatalf("first sign-in did not show the sign-in page: %d", first.Status)
	}
	done := b.Submit(first, map[string]string{"username": "alice", "password": sesametest.Password})
	if done.Status != http.StatusSeeOther {
		t.Errorf("post-login redirect status %d, want 303", done.Status)
	}
	cb := sesametest.Landed(t, done)
	if cb.Code == "" || cb.State != "state-123" || cb.Iss != s.Issuer {
		t.Fatalf("callback %+v", cb)
	}
	p := b.Get(s.AuthURL(sesametest.AppB, nil))
	if sesametest.IsSignInPage(p) {
		t.Fatal("SSO showed the sign-in page")
	}
	if cb := sesametest.Landed(t, p); cb.Code == "" {
		t.Fatalf("no code for app-b: %+v", cb)
	}
}

// spec A11, S4: prompt=login shows the sign-in page again and yields a newer
// auth_time.
func TestPromptLoginForcesPasswordAgain(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	first := s.IDClaims(t, b.SignedIn(sesametest.AppA, "alice", nil).IDToken)
	s.Clock.Advance(time.Minute)
	p := b.Get(s.AuthURL(sesametest.AppA, url.Values{"prompt": {"login"}}))
	if !sesametest.IsSignInPage(p) {
		t.Fatalf("prompt=login did not show the sign-in page: %d %s", p.Status, p.Location)
	}
	cb := sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password}))
	second := s.IDClaims(t, s.Exchange(t, sesametest.AppA, cb.Code, "").IDToken)
	if second["auth_time"].(float64) <= first["auth_time"].(float64) {
		t.Errorf("auth_time %v not after %v", second["auth_time"], first["auth_time"])
	}
	if second["sid"] != first["sid"] {
		t.Errorf("sid changed on re-authentication of the same account: %v → %v", first["sid"], second["sid"])
	}
}

// S5, spec A9: prompt=none without a session answers login_required by
// redirect, never a page.
func TestPromptNoneWithoutSessionIsLoginRequired(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	p := s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, url.Values{"prompt": {"none"}}))
	cb := sesametest.Landed(t, p)
	if cb.Error != "login_required" || cb.State != "state-123" {
		t.Fatalf("callback %+v", cb)
	}
}

// spec A10: prompt=none with a session succeeds silently with the same sub
// and auth_time.
func TestPromptNoneWithSessionIsSilent(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	first := s.IDClaims(t, b.SignedIn(sesametest.AppA, "alice", nil).IDToken)
	s.Clock.Advance(time.Minute)
	cb := sesametest.Landed(t, b.Get(s.AuthURL(sesametest.AppA, url.Values{"prompt": {"none"}})))
	second := s.IDClaims(t, s.Exchange(t, sesametest.AppA, cb.Code, "").IDToken)
	if second["sub"] != first["sub"] || second["auth_time"] != first["auth_time"] {
		t.Errorf("silent sign-in changed sub or auth_time: %v %v", first, second)
	}
}

// S5: prompt=none to a third-party app without consent is consent_required.
func TestPromptNoneWithoutConsentIsConsentRequired(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", nil)
	cb := sesametest.Landed(t, b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{"prompt": {"none"}})))
	if cb.Error != "consent_required" {
		t.Fatalf("callback %+v", cb)
	}
}

// S8, spec A11: prompt=none with another value, or an unknown value, is
// invalid_request.
func TestPromptValuesAreChecked(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	for _, prompt := range []string{"none login", "select_account", "login login"} {
		cb := sesametest.Landed(t, s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, url.Values{"prompt": {prompt}})))
		if cb.Error != "invalid_request" {
			t.Errorf("prompt=%q: %+v", prompt, cb)
		}
	}
}

// S4, spec A12: max_age exceeded asks for the password again; the ID token
// carries auth_time.
func TestMaxAgeExceededForcesSignIn(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	b.SignedIn(sesametest.AppA, "alice", url.Values{"max_age": {"600"}})
	s.Clock.Advance(5 * time.Minute)
	if p := b.Get(s.AuthURL(sesametest.AppA, url.Values{"max_age": {"600"}})); sesametest.IsSignInPage(p) {
		t.Fatal("max_age not yet exceeded but sign-in page shown")
	}
	s.Clock.Advance(6 * time.Minute)
	if p := b.Get(s.AuthURL(sesametest.AppA, url.Values{"max_age": {"600"}})); !sesametest.IsSignInPage(p) {
		t.Fatalf("max_age exceeded but no sign-in page: %d", p.Status)
	}
	cb := sesametest.Landed(t, b.Get(s.AuthURL(sesametest.AppA, url.Values{"max_age": {"-1"}})))
	if cb.Error != "invalid_request" {
		t.Errorf("negative max_age: %+v", cb)
	}
}

// G3, spec A14: offline_access yields a refresh token only with
// prompt=consent.
func TestOfflineAccessNeedsPromptConsent(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	tok := b.SignedIn(sesametest.AppA, "alice", url.Values{"scope": {"openid offline_access"}})
	if tok.RefreshToken != "" || strings.Contains(tok.Scope, "offline_access") {
		t.Errorf("refresh token without prompt=consent: scope %q", tok.Scope)
	}
	tok = b.SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	if tok.RefreshToken == "" || !strings.Contains(tok.Scope, "offline_access") {
		t.Errorf("no refresh token with prompt=consent: scope %q", tok.Scope)
	}
}

// C1a: a third-party app shows consent once per grant, again for new scopes
// or prompt=consent; deny answers access_denied.
func TestThirdPartyConsentOncePerGrant(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{"scope": {"openid profile"}}))
	p = b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})
	if !sesametest.IsConsentPage(p) {
		t.Fatalf("first sign-in to a third-party app showed no consent page: %d", p.Status)
	}
	if !strings.Contains(p.Body, "third-party") || !strings.Contains(p.Body, "profile") {
		t.Errorf("consent page does not name the app and scopes")
	}
	if cb := sesametest.Landed(t, b.Submit(p, map[string]string{"decision": "allow"})); cb.Code == "" {
		t.Fatalf("no code after consent: %+v", cb)
	}
	if p := b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{"scope": {"openid profile"}})); sesametest.IsConsentPage(p) {
		t.Error("consent asked again for the same scopes")
	}
	if p := b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{"scope": {"openid profile email"}})); !sesametest.IsConsentPage(p) {
		t.Error("no consent for a new scope")
	}
	p = b.Get(s.AuthURL(sesametest.ThirdParty, url.Values{"scope": {"openid profile"}, "prompt": {"consent"}}))
	if !sesametest.IsConsentPage(p) {
		t.Fatal("no consent with prompt=consent")
	}
	if cb := sesametest.Landed(t, b.Submit(p, map[string]string{"decision": "deny"})); cb.Error != "access_denied" {
		t.Errorf("deny: %+v", cb)
	}
}

// C1a: a first-party app never shows the consent page, even for
// offline_access with prompt=consent.
func TestFirstPartyNeverShowsConsent(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := b.Get(s.AuthURL(sesametest.AppA, sesametest.Offline()))
	p = b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})
	if sesametest.IsConsentPage(p) {
		t.Fatal("first-party app showed consent")
	}
	if cb := sesametest.Landed(t, p); cb.Code == "" {
		t.Fatalf("%+v", cb)
	}
}

// spec A2-A4: a request whose client or redirect URI cannot be trusted gets
// a 400 page and is never redirected.
func TestUntrustedRequestsGetAnErrorPage(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	base := func() url.Values {
		return url.Values{"client_id": {sesametest.AppA}, "redirect_uri": {sesametest.RedirectURI(sesametest.AppA)},
			"response_type": {"code"}, "scope": {"openid"}}
	}
	cases := map[string]func(url.Values){
		"unknown client":          func(v url.Values) { v.Set("client_id", "nobody") },
		"missing client":          func(v url.Values) { v.Del("client_id") },
		"repeated client_id":      func(v url.Values) { v.Add("client_id", sesametest.AppB) },
		"unregistered redirect":   func(v url.Values) { v.Set("redirect_uri", "https://evil.example/callback") },
		"redirect with query":     func(v url.Values) { v.Set("redirect_uri", sesametest.RedirectURI(sesametest.AppA)+"?x=1") },
		"redirect trailing slash": func(v url.Values) { v.Set("redirect_uri", sesametest.RedirectURI(sesametest.AppA)+"/") },
		"redirect case":           func(v url.Values) { v.Set("redirect_uri", strings.ToUpper(sesametest.RedirectURI(sesametest.AppA))) },
		"repeated redirect_uri":   func(v url.Values) { v.Add("redirect_uri", sesametest.RedirectURI(sesametest.AppA)) },
		"another app's redirect":  func(v url.Values) { v.Set("redirect_uri", sesametest.RedirectURI(sesametest.AppB)) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			v := base()
			mutate(v)
			p := s.NewBrowser(t).Get(s.Issuer + "/auth?" + v.Encode())
			if p.Status != http.StatusBadRequest || p.Location != "" {
				t.Fatalf("status %d, location %q", p.Status, p.Location)
			}
			if !strings.Contains(p.Header.Get("Content-Type"), "text/html") {
				t.Errorf("content type %q", p.Header.Get("Content-Type"))
			}
		})
	}
}

// spec A5, A6, A7, A15, D9: once the redirect URI is trusted, errors go back
// to the app with state and iss.
func TestRequestErrorsAreRedirectedToTheApp(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	cases := []struct {
		name  string
		extra url.Values
		want  string
	}{
		{"missing response_type", url.Values{"response_type": {""}}, "invalid_request"},
		{"implicit", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"hybrid", url.Values{"response_type": {"code id_token"}}, "unsupported_response_type"},
		{"repeated scope", url.Values{"scope": {"openid", "email"}}, "invalid_request"},
		{"no openid", url.Values{"scope": {"profile"}}, "invalid_scope"},
		{"request object", url.Values{"request": {"eyJ..."}}, "request_not_supported"},
		{"form_post", url.Values{"response_mode": {"form_post"}}, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cb := sesametest.Landed(t, s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, c.extra)))
			if cb.Error != c.want || cb.State != "state-123" || cb.Iss != s.Issuer {
				t.Fatalf("got %+v, want error %s", cb, c.want)
			}
			if !strings.HasPrefix(cb.URL.String(), sesametest.RedirectURI(sesametest.AppA)) {
				t.Errorf("redirected to %s", cb.URL)
			}
		})
	}
	// spec A6: unknown parameters are ignored.
	if cb := sesametest.Landed(t, s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, url.Values{"foo": {"bar"}, "prompt": {"none"}}))); cb.Error != "login_required" {
		t.Errorf("unknown parameter: %+v", cb)
	}
}

// spec A1: the authorization endpoint accepts POST.
func TestAuthorizeAcceptsPost(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	u, _ := url.Parse(s.AuthURL(sesametest.AppA, url.Values{"prompt": {"none"}}))
	cb := sesametest.Landed(t, s.NewBrowser(t).Post(s.Issuer+"/auth", u.Query()))
	if cb.Error != "login_required" {
		t.Fatalf("%+v", cb)
	}
}

// spec A18, S5, A19: pages are not frameable, send no referrer, and the
// authorization endpoint has no CORS.
func TestPagesCarrySecurityHeaders(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := b.Get(s.AuthURL(sesametest.AppA, nil))
	if !sesametest.IsSignInPage(p) {
		t.Fatal("no sign-in page")
	}
	if !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", p.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, s.AuthURL(sesametest.AppA, nil), nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := b.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS on the authorization endpoint")
	}
}

// contract: a wrong password re-renders the sign-in page with 401 and a
// message; A2: an unknown user gets the same answer.
func TestWrongPasswordRerendersSignIn(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := b.Get(s.AuthURL(sesametest.AppA, nil))
	for _, user := range []string{"alice", "nobody"} {
		again := b.Submit(p, map[string]string{"username": user, "password": "wrong"})
		if again.Status != http.StatusUnauthorized || !sesametest.IsSignInPage(again) || !strings.Contains(again.Body, "Wrong username or password") {
			t.Errorf("%s: status %d", user, again.Status)
		}
	}
	if cb := sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})); cb.Code == "" {
		t.Errorf("right password after wrong ones: %+v", cb)
	}
}

// A3: repeated failures for one username are slowed down.
func TestRepeatedFailuresAreThrottled(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	b := s.NewBrowser(t)
	p := b.Get(s.AuthURL(sesametest.AppA, nil))
	var last sesametest.Page
	for range 6 {
		last = b.Submit(p, map[string]string{"username": "alice", "password": "wrong"})
	}
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("sixth failure: status %d", last.Status)
	}
	if got := b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password}); got.Status != http.StatusTooManyRequests {
		t.Errorf("right password while throttled: %d", got.Status)
	}
	s.Clock.Advance(16 * time.Minute)
	if cb := sesametest.Landed(t, b.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})); cb.Code == "" {
		t.Errorf("after the window: %+v", cb)
	}
}

// The sign-in page cannot be completed from another browser (login CSRF).
func TestInteractionIsBoundToItsBrowser(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	p := s.NewBrowser(t).Get(s.AuthURL(sesametest.AppA, nil))
	other := s.NewBrowser(t)
	got := other.Submit(p, map[string]string{"username": "alice", "password": sesametest.Password})
	if got.Status != http.StatusBadRequest || got.Location != "" {
		t.Fatalf("another browser completed the sign-in: %d %s", got.Status, got.Location)
	}
}
