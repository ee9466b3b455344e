package endsession_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/web"
)

// endSessionFuzz is the state a FuzzEndSession run shares across its
// iterations: one in-process Sesame, and a browser session signed in to
// app-a and app-b that a sign-out may end (the next iteration that wants
// one signs in again).
type endSessionFuzz struct {
	s       *sesametest.Sesame
	clients map[string]client.Spec
	sources atomic.Uint32

	mu sync.Mutex
	// browser holds the current session's cookies; nil once it may have
	// ended.
	browser *sesametest.Browser
	checked bool
	// idTokens are the ID tokens Sesame issued in this run, by the
	// decoded header and payload they carry: the only hints end-session
	// may accept (spec L3; issue 11: a logout token is no hint).
	idTokens map[string]bool
	// latest are the ID tokens of the newest sign-in, to app-a and app-b.
	latest []string
}

// session returns the cookies of a browser signed in to app-a and app-b,
// signing in again when the last one was signed out.
func (fz *endSessionFuzz) session(t sesametest.TB) []*http.Cookie {
	fz.mu.Lock()
	defer fz.mu.Unlock()
	if fz.browser != nil && !fz.checked {
		jar := fz.browser.HTTP.Jar
		rec := fz.serve(httptest.NewRequest(http.MethodGet, fz.s.URL+"/account", nil), jar)
		if !strings.Contains(rec.Body.String(), `action="/account/sign-out-everywhere"`) {
			fz.browser = nil
		}
		fz.checked = true
	}
	if fz.browser == nil {
		b := fz.s.NewBrowser(t)
		verifier, challenge := sesametest.PKCE()
		pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		fz.latest = fz.latest[:0]
		for _, id := range []string{sesametest.AppA, sesametest.AppB} {
			tok := fz.s.Exchange(t, id, b.SignIn(id, "alice", pkce).Code, verifier)
			if tok.IDToken == "" {
				t.Fatalf("sign-in to %s: %+v", id, tok.Raw)
			}
			fz.idTokens[sesametest.JWSContent(tok.IDToken)] = true
			fz.latest = append(fz.latest, tok.IDToken)
		}
		fz.browser, fz.checked = b, true
	}
	return fz.browser.HTTP.Jar.Cookies(fz.base())
}

// keep stores the session browser's cookies after an iteration that may
// have signed it out or re-keyed its session.
func (fz *endSessionFuzz) keep(cookies []*http.Cookie) {
	fz.mu.Lock()
	defer fz.mu.Unlock()
	if fz.browser != nil {
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(fz.base(), cookies)
		fz.browser.HTTP.Jar, fz.checked = jar, false
	}
}

func (fz *endSessionFuzz) base() *url.URL {
	u, _ := url.Parse(fz.s.URL + "/")
	return u
}

// serve runs req through the whole server as a browser with jar, each
// request from an address of its own.
func (fz *endSessionFuzz) serve(req *http.Request, jar http.CookieJar) *httptest.ResponseRecorder {
	n := fz.sources.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:50000", byte(n>>16), byte(n>>8), byte(n))
	for _, c := range jar.Cookies(fz.base()) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	fz.s.Server.ServeHTTP(rec, req)
	jar.SetCookies(fz.base(), rec.Result().Cookies())
	return rec
}

// hint returns the ID token of the latest sign-in for app-a (0) or app-b
// (1).
func (fz *endSessionFuzz) hint(i int) string {
	fz.mu.Lock()
	defer fz.mu.Unlock()
	return fz.latest[i]
}

// issued reports whether hint is one of the ID tokens Sesame issued.
func (fz *endSessionFuzz) issued(hint string) bool {
	fz.mu.Lock()
	defer fz.mu.Unlock()
	return fz.idTokens[sesametest.JWSContent(hint)]
}

// proves is a lenient reading of O3: a sign-out page may submit itself
// only for a request that carries an ID token Sesame issued, or that names
// a client, a post_logout_redirect_uri registered for it, and a Referer.
func (fz *endSessionFuzz) proves(v url.Values, referer string) bool {
	if hint := v.Get("id_token_hint"); hint != "" {
		return fz.issued(hint)
	}
	c, ok := fz.clients[v.Get("client_id")]
	return ok && referer != "" && slices.Contains(c.PostLogoutRedirectURIs, v.Get("post_logout_redirect_uri"))
}

// allowedTarget reports whether the browser may be sent to loc after the
// end-session request v: Sesame's own end-session endpoint, or the
// post_logout_redirect_uri the request sent, registered for the client it
// names (by client_id or the aud of its hint), with only its state added
// (spec L5-L7).
func (fz *endSessionFuzz) allowedTarget(loc string, v url.Values) bool {
	own, _ := url.Parse(fz.s.Issuer + "/session/end?")
	if strings.HasPrefix(loc, own.String()) || strings.HasPrefix(loc, own.RequestURI()) {
		return true
	}
	target := v.Get("post_logout_redirect_uri")
	registered := false
	for _, id := range []string{v.Get("client_id"), hintAudience(v.Get("id_token_hint"))} {
		if c, ok := fz.clients[id]; ok && target != "" && slices.Contains(c.PostLogoutRedirectURIs, target) {
			registered = true
		}
	}
	if !registered {
		return false
	}
	rest, ok := strings.CutPrefix(loc, target)
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return ok && (rest == "" || rest == sep+url.Values{"state": {v.Get("state")}}.Encode())
}

// FuzzEndSession sends arbitrary RP-Initiated Logout requests to GET and
// POST {issuer}/session/end (O2, O3, spec L1-L13), with or without a
// session and with any Referer, and confirms every sign-out page it gets
// as the person would. No answer may panic or fail with a 5xx, redirect
// anywhere but to Sesame itself or to the post_logout_redirect_uri the
// request sent and registered for its client, accept an id_token_hint
// that is not an ID token Sesame issued, or show a page that signs out by
// itself for a request that proves nothing (O3, leniently: see proves).
//
// The seeds' placeholders stand for tokens of this process (go test -fuzz
// hands the coordinator's seed values to worker processes that each built
// their own Sesame): {hint_a} and {hint_b} for the ID tokens of the latest
// sign-in to app-a and app-b (the session's, when the request has one),
// {header_a}, {payload_a} and {signature_a} for the parts of the first,
// {hs256_a} for its payload signed with HS256 keyed by a public JWK, and
// {logout} for a logout token Sesame signed.
func FuzzEndSession(f *testing.F) {
	// A sign-out does not wait for its back-channel deliveries: they are
	// not what is fuzzed, and waiting would slow every iteration down.
	s := sesametest.New(quiet{f}, sesametest.Options{Configure: func(c *config.Config) { c.BackchannelWait = time.Millisecond }})
	fz := &endSessionFuzz{s: s, clients: map[string]client.Spec{}, idTokens: map[string]bool{}}
	for _, c := range sesametest.DefaultClients() {
		fz.clients[c.ID] = c
	}
	fz.session(f)
	logoutToken, err := s.Keys.Sign("ES256", "logout+jwt", map[string]any{
		"iss": s.Issuer, "aud": sesametest.AppA, "sub": "alice", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		"jti": "fuzz", "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	if err != nil {
		f.Fatal(err)
	}
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(s.Keys.JWKS(), &jwks); err != nil || len(jwks.Keys) == 0 {
		f.Fatalf("JWKS: %v", err)
	}
	// The placeholders of the seeds (see the doc comment).
	hint := func(i, part int) func() string {
		return func() string {
			tok := fz.hint(i)
			if part < 0 {
				return tok
			}
			return strings.Split(tok, ".")[part]
		}
	}
	placeholders := map[string]func() string{
		"hint_a": hint(0, -1), "hint_b": hint(1, -1),
		"header_a": hint(0, 0), "payload_a": hint(0, 1), "signature_a": hint(0, 2),
		"logout":  func() string { return logoutToken },
		"hs256_a": func() string { return hs256(jwks.Keys[0], hint(0, 1)()) },
	}

	app := func(id string) string { return url.QueryEscape("https://" + id + ".example/") }
	seeds := []string{
		"id_token_hint={hint_a}&post_logout_redirect_uri=" + app("app-a") + "&state=bye",
		"id_token_hint={hint_b}&client_id=app-b&post_logout_redirect_uri=" + app("app-b"),
		"id_token_hint={hint_a}&client_id=app-b",
		"id_token_hint={hint_a}&post_logout_redirect_uri=" + app("app-b"),
		"client_id=app-a&post_logout_redirect_uri=" + app("app-a") + "&state=s",
		"client_id=app-a&post_logout_redirect_uri=" + app("evil"),
		"client_id=app-a&post_logout_redirect_uri=https%3A%2F%2Fapp-a.example",
		"client_id=app-a&post_logout_redirect_uri=https%3A%2F%2Fapp-a.example%2F%3Fnext%3Dx",
		"client_id=app-a&post_logout_redirect_uri=https%3A%2F%2FAPP-A.example%2F",
		"client_id=app-a&post_logout_redirect_uri=https%3A%2F%2Fapp-a.example%40evil.example%2F",
		"client_id=app-a&post_logout_redirect_uri=%2F%2Fevil.example%2F",
		"client_id=app-a&post_logout_redirect_uri=" + app("app-a") + "&post_logout_redirect_uri=" + app("evil"),
		"client_id=spa&post_logout_redirect_uri=" + app("spa"),
		"client_id=nobody&post_logout_redirect_uri=" + app("app-a"),
		"post_logout_redirect_uri=" + app("app-a") + "&state=s",
		"client_id=app-a&state=" + strings.Repeat("s", 600) + "&ui_locales=fr+de&logout_hint=alice",
		"client_id=app-a&client_id=app-b",
		// Hints Sesame did not issue as ID tokens.
		"id_token_hint=" + b64(`{"alg":"none"}`) + ".{payload_a}.&post_logout_redirect_uri=" + app("app-a"),
		"id_token_hint={header_a}.{payload_a}.&post_logout_redirect_uri=" + app("app-a"),
		"id_token_hint={header_a}.{payload_a}&post_logout_redirect_uri=" + app("app-a"),
		"id_token_hint={hs256_a}&post_logout_redirect_uri=" + app("app-a"),
		"id_token_hint={header_a}." + b64(`{"iss":"x","aud":"app-a"}`) + ".{signature_a}&post_logout_redirect_uri=" + app("app-a"),
		"id_token_hint={logout}&post_logout_redirect_uri=" + app("app-a") + "&state=s",
		"id_token_hint=garbage",
		"id_token_hint=a.b.c.d.e",
		"%zz",
		"",
	}
	for _, seed := range seeds {
		for _, referer := range []string{"", "https://app-a.example/page"} {
			f.Add(seed, referer, false, true, false)
			f.Add(seed, referer, true, true, true)
		}
		f.Add(seed, "https://evil.example/", false, false, false)
	}

	f.Fuzz(func(t *testing.T, params, referer string, post, withSession, appOnly bool) {
		if !sesametest.HeaderValue(referer) || (!post && !queryValue(params)) {
			return
		}
		jar, _ := cookiejar.New(nil)
		if withSession {
			jar.SetCookies(fz.base(), fz.session(t))
			defer func() { fz.keep(jar.Cookies(fz.base())) }()
		}
		params = sesametest.Expand(params, placeholders)
		v, _ := url.ParseQuery(params)
		var req *http.Request
		if post {
			req = httptest.NewRequest(http.MethodPost, s.Issuer+"/session/end", strings.NewReader(params))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, s.Issuer+"/session/end", nil)
			req.URL.RawQuery = params
		}
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		rec := fz.serve(req, jar)
		fz.check(t, "end-session", rec, v)
		if hint := v.Get("id_token_hint"); hint != "" && !fz.issued(hint) && rec.Code/100 != 4 {
			t.Fatalf("id_token_hint %q that is no ID token Sesame issued: %d %s", hint, rec.Code, rec.Body)
		}
		if loc := rec.Header().Get("Location"); rec.Code/100 == 3 {
			// Sesame's own endpoint (a POST answered as a GET): follow it
			// as the browser would.
			next := httptest.NewRequest(http.MethodGet, s.Issuer+"/session/end", nil)
			if next.URL, _ = url.Parse(loc); next.URL == nil {
				t.Fatalf("Location %q does not parse", loc)
			}
			rec = fz.serve(next, jar)
			fz.check(t, "end-session, redirected", rec, v)
		}
		if strings.Contains(rec.Body.String(), "f.submit()") && !fz.proves(v, referer) {
			t.Fatalf("the sign-out page submits itself for a request that proves nothing (O3): %v, Referer %q", v, referer)
		}
		action, form, ok := web.FirstForm(rec.Body.String())
		if rec.Code != http.StatusOK || !ok {
			return
		}
		choice := "logout"
		if appOnly {
			choice = "app_only"
		}
		form.Set(choice, "true")
		confirm := httptest.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
		confirm.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec = fz.serve(confirm, jar)
		fz.check(t, "confirm", rec, v)
	})
}

// check holds what every answer of the flow must: no 5xx (a panic is a
// 500), and a redirect only to where allowedTarget says.
func (fz *endSessionFuzz) check(t *testing.T, step string, rec *httptest.ResponseRecorder, v url.Values) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s answered %d: %s", step, rec.Code, rec.Body)
	}
	if loc := rec.Header().Get("Location"); (rec.Code/100 == 3 || loc != "") && !fz.allowedTarget(loc, v) {
		t.Fatalf("%s redirected (%d) to %q, not registered for the request %v", step, rec.Code, loc, v)
	}
}

// quiet is f for starting the Sesame the iterations share: in verbose
// mode its logger would write through f.Log, which panics once the fuzz
// function runs, so its log goes nowhere.
type quiet struct{ *testing.F }

// Log drops the line.
func (quiet) Log(...any) {}

// hintAudience is the aud a hint claims, unverified: a string or an array
// of one.
func hintAudience(hint string) string {
	parts := strings.Split(hint, ".")
	if len(parts) < 2 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	var one string
	if json.Unmarshal(claims.Aud, &one) == nil {
		return one
	}
	var list []string
	if json.Unmarshal(claims.Aud, &list) == nil && len(list) == 1 {
		return list[0]
	}
	return ""
}

// hs256 is an HS256 token keyed with a public key's JWK, the classic
// algorithm confusion.
func hs256(key []byte, payload string) string {
	signing := b64(`{"alg":"HS256","typ":"JWT"}`) + "." + payload
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// queryValue reports whether q can arrive as a request's query: no space,
// fragment or control character, which no request line carries.
func queryValue(q string) bool {
	return !strings.ContainsFunc(q, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' })
}
