package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// The fuzz targets of this file drive the token, revocation and
// introspection endpoints through the whole server (middleware, routes,
// handlers), so they hold whatever the code behind them becomes. Every
// answer, whatever arrives, must keep these properties (spec T1, T2, T3;
// issue 11):
//   - no panic (the middleware would turn it into a 500) and no 5xx but a
//     deliberate 503 with Retry-After; a 429 carries Retry-After too;
//   - Cache-Control: no-store, and never a redirect;
//   - a failure is a JSON object with an error member, and a 401 says how
//     to authenticate (WWW-Authenticate);
//   - a success needs one client's right credentials by one method (a
//     wrong secret is never accepted), and a grant the client may use:
//     a code or refresh token Sesame issued to it, client_credentials for
//     an m2m client; introspection speaks only of the client's own tokens.

// fuzzSesame is one in-process Sesame that every iteration of a fuzz
// target shares: built once per target (once in each fuzzing worker) and
// called through its http.Handler, so an iteration costs no connection.
type fuzzSesame struct {
	*sesametest.Sesame
	// jar holds the cookies of a browser signed in as alice.
	jar     http.CookieJar
	sources atomic.Uint32

	mu sync.Mutex
	// issued maps each code and refresh token Sesame handed out to its
	// client: the grants a token request may succeed with.
	issued map[string]string
}

// quiet is f for starting the Sesame the iterations share: in verbose
// mode its logger would write through f.Log, which panics once the fuzz
// function runs, so its log goes nowhere.
type quiet struct{ *testing.F }

// Log drops the line.
func (quiet) Log(...any) {}

// newFuzzSesame starts a Sesame with alice signed in to app-a in a
// browser whose cookies the iterations share.
func newFuzzSesame(f *testing.F) *fuzzSesame {
	f.Helper()
	s := &fuzzSesame{Sesame: sesametest.New(quiet{f}, sesametest.Options{}), issued: map[string]string{}}
	b := s.NewBrowser(f)
	s.jar = b.HTTP.Jar
	s.code(f, sesametest.AppA, nil)
	return s
}

// serve runs req through the whole server. Each request comes from an
// address of its own: failed client authentication is throttled per
// source (issue 11), and a fuzzer at one address would soon meet nothing
// but 429 and reach no code behind it.
func (s *fuzzSesame) serve(req *http.Request) *httptest.ResponseRecorder {
	n := s.sources.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:50000", byte(n>>16), byte(n>>8), byte(n))
	rec := httptest.NewRecorder()
	s.Server.ServeHTTP(rec, req)
	return rec
}

// issue records that value (a code or refresh token) belongs to clientID.
func (s *fuzzSesame) issue(value, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued[value] = clientID
}

// issuedTo returns the client value was issued to, or "".
func (s *fuzzSesame) issuedTo(value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[value]
}

// code runs an authorization request of clientID in the signed-in browser
// (signing in again, or consenting, when asked) and returns a fresh code
// for sesametest.PKCE's verifier.
func (s *fuzzSesame) code(t sesametest.TB, clientID string, extra url.Values) string {
	t.Helper()
	b := s.NewBrowser(t)
	b.HTTP.Jar = s.jar
	_, challenge := sesametest.PKCE()
	q := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	cb := b.SignIn(clientID, "alice", q)
	if cb.Code == "" {
		t.Fatalf("no code for %s: %q", clientID, cb.Error)
	}
	s.issue(cb.Code, clientID)
	return cb.Code
}

// credentials returns what the placeholders of a seed stand for, made for
// this process when a seed uses them: go test -fuzz hands the
// coordinator's seed values to worker processes that each built their own
// Sesame, so a code or token written into a seed would be unknown there.
// {code} and {spa_code} are fresh codes of app-a and spa (for
// sesametest.PKCE's verifier); {access} and {refresh} are app-a's tokens
// with offline_access.
func (s *fuzzSesame) credentials(t sesametest.TB) map[string]func() string {
	var tok sesametest.Tokens
	tokens := func() sesametest.Tokens {
		if tok.AccessToken == "" {
			verifier, _ := sesametest.PKCE()
			tok = s.Exchange(t, sesametest.AppA, s.code(t, sesametest.AppA, sesametest.Offline()), verifier)
			if tok.RefreshToken == "" {
				t.Fatalf("no refresh token: %+v", tok.Raw)
			}
			s.issue(tok.RefreshToken, sesametest.AppA)
		}
		return tok
	}
	return map[string]func() string{
		"code":     func() string { return s.code(t, sesametest.AppA, nil) },
		"spa_code": func() string { return s.code(t, sesametest.SPA, nil) },
		"access":   func() string { return tokens().AccessToken },
		"refresh":  func() string { return tokens().RefreshToken },
	}
}

// post sends a form body, its placeholders expanded, to an endpoint under
// the issuer with an Authorization header. It returns the body sent; ok is
// false when the header could not reach a handler at all.
func (s *fuzzSesame) post(t *testing.T, path, authorization, body string) (req *http.Request, sent string, rec *httptest.ResponseRecorder, ok bool) {
	if !sesametest.HeaderValue(authorization) {
		return nil, "", nil, false
	}
	body = sesametest.Expand(body, s.credentials(t))
	req = httptest.NewRequest(http.MethodPost, s.Issuer+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req, body, s.serve(req), true
}

// basic is an Authorization header for client_secret_basic, encoded as
// RFC 6749 §2.3.1 asks.
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// Which test clients are confidential (all with sesametest.Secret), public,
// and m2m.
var (
	fuzzConfidential = map[string]bool{
		sesametest.AppA: true, sesametest.AppB: true, sesametest.AppC: true, sesametest.AppD: true,
		sesametest.ThirdParty: true, sesametest.Robot: true, sesametest.Worker: true,
	}
	fuzzPublic = map[string]bool{sesametest.SPA: true, sesametest.Native: true}
	fuzzM2M    = map[string]bool{sesametest.Robot: true, sesametest.Worker: true}
)

// authenticatedClient is the oracle a success is judged by, written from
// RFC 6749 §2.3.1 and spec T3 rather than from Sesame's code: the client
// whose right credentials req carries by exactly one method, or "" when
// none does. Basic credentials are form-urlencoded before base64; a
// client_id in the body may repeat the Basic one, a client_secret may not
// come with Basic; a public client sends its client_id and no secret.
func authenticatedClient(req *http.Request, body string) string {
	form, err := url.ParseQuery(body)
	if err != nil {
		return ""
	}
	for _, vs := range form {
		if len(vs) > 1 { // RFC 6749 §3.2: no parameter twice
			return ""
		}
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if basicID, basicSecret, ok := req.BasicAuth(); ok {
		var err1, err2 error
		basicID, err1 = url.QueryUnescape(basicID)
		basicSecret, err2 = url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil || secret != "" || (id != "" && id != basicID) {
			return ""
		}
		id, secret = basicID, basicSecret
	}
	if (fuzzConfidential[id] && secret == sesametest.Secret) || (fuzzPublic[id] && secret == "") {
		return id
	}
	return ""
}

// checkAnswer holds what every answer of a client endpoint must, success
// or failure, and returns its JSON body (nil when it has none).
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	status, h, body := rec.Code, rec.Header(), rec.Body.String()
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		t.Fatalf("answered %d: %s", status, body)
	case (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && h.Get("Retry-After") == "":
		t.Fatalf("answered %d without Retry-After: %s", status, body)
	case status >= 300 && status < 400:
		t.Fatalf("answered %d to %q", status, h.Get("Location"))
	case !strings.Contains(h.Get("Cache-Control"), "no-store"): // spec T1
		t.Fatalf("answered %d with Cache-Control %q", status, h.Get("Cache-Control"))
	}
	var m map[string]any
	if body != "" {
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("answered %d with a body that is no JSON object: %q", status, body)
		}
	}
	if status == http.StatusOK {
		return m
	}
	// spec T2, RFC 6749 §5.2.
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt != "application/json" {
		t.Fatalf("error %d as %q: %s", status, h.Get("Content-Type"), body)
	}
	if code, _ := m["error"].(string); code == "" {
		t.Fatalf("error %d without an error member: %s", status, body)
	}
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		t.Fatalf("401 without WWW-Authenticate: %s", body)
	}
	return m
}

// clientRequestSeeds are bodies and Authorization headers of requests to
// the token, revocation and introspection endpoints: right and wrong
// credentials by each method, and the malformed shapes of each part. The
// bodies carry placeholders (see credentials).
func clientRequestSeeds() []struct{ body, authorization string } {
	right := basic(sesametest.AppA, sesametest.Secret)
	robot := basic(sesametest.Robot, sesametest.Secret)
	verifier, _ := sesametest.PKCE()
	secretPost := "client_id=" + sesametest.Worker + "&client_secret=" + sesametest.Secret
	code := "grant_type=authorization_code&code={code}&redirect_uri=" + url.QueryEscape(sesametest.RedirectURI(sesametest.AppA)) + "&code_verifier=" + verifier
	refresh := "grant_type=refresh_token&refresh_token={refresh}"
	return []struct{ body, authorization string }{
		{"grant_type=client_credentials", robot},
		{"grant_type=client_credentials&scope=sesame%3Aadmin", robot},
		{"grant_type=client_credentials&" + secretPost, ""},
		{code, right},
		{"grant_type=authorization_code&code={code}&redirect_uri=" + url.QueryEscape(sesametest.RedirectURI(sesametest.AppA)), right},
		{"grant_type=authorization_code&code={code}&code_verifier=" + verifier, right},
		{"grant_type=authorization_code&client_id=spa&code={spa_code}&redirect_uri=" + url.QueryEscape(sesametest.RedirectURI(sesametest.SPA)) + "&code_verifier=" + verifier, ""},
		{refresh, right},
		{refresh + "&scope=openid+offline_access", right},
		{refresh + "&scope=openid+sesame%3Aadmin", right},
		{"token={access}", right},
		{"token={refresh}&token_type_hint=refresh_token", right},
		{"token={access}&token_type_hint=refresh_token", right},
		{"token={access}&token_type_hint=access_token", basic(sesametest.AppB, sesametest.Secret)},
		{"token={access}&client_id=" + sesametest.AppA + "&client_secret=" + sesametest.Secret, ""},
		// Wrong credentials, two methods, a Basic id the body contradicts.
		{"grant_type=client_credentials", basic(sesametest.Robot, "wrong")},
		{"grant_type=client_credentials", basic(sesametest.Robot, sesametest.Secret+" ")},
		{"grant_type=client_credentials", basic("nobody", sesametest.Secret)},
		{"grant_type=client_credentials&client_secret=" + sesametest.Secret, robot},
		{"grant_type=client_credentials&client_id=" + sesametest.Worker, robot},
		{refresh + "&client_id=" + sesametest.AppA, right},
		{"grant_type=client_credentials&client_id=" + sesametest.Robot, ""},
		{"grant_type=client_credentials&client_id=spa", ""},
		{"grant_type=authorization_code&client_id=spa&client_secret=x&code={spa_code}", ""},
		{"token={access}&client_id=" + sesametest.AppA, ""},
		// Malformed Basic headers.
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("robot"))},
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("robot%zz:"+sesametest.Secret))},
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte(":"))},
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("spa:"))},
		{"grant_type=client_credentials", "Basic !!!!"},
		{"grant_type=client_credentials", "Basic"},
		{"grant_type=client_credentials", "basic " + base64.RawURLEncoding.EncodeToString([]byte("robot:"+sesametest.Secret))},
		{"grant_type=client_credentials", "Bearer x"},
		// Malformed and unexpected bodies.
		{"grant_type=client_credentials&grant_type=client_credentials", robot},
		{"grant_type=password&username=alice&password=" + url.QueryEscape(sesametest.Password), right},
		{"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token={access}", right},
		{"grant_type=authorization_code&code={code}x", right},
		{"grant_type=authorization_code&code={code}&code={code}", right},
		{"grant_type=refresh_token&refresh_token=", right},
		{"grant_type=client_credentials&scope=" + strings.Repeat("openid+", 200), robot},
		{"token=&token_type_hint=x", right},
		{"token=" + strings.Repeat("A", 2048), right},
		{"%zz", robot},
		{"a=1;b=2", robot},
		{"=&&=", right},
		{"", ""},
	}
}

// FuzzTokenRequest posts arbitrary bodies and Authorization headers to the
// token endpoint (RFC 6749 §3.2, spec T1-T3).
func FuzzTokenRequest(f *testing.F) {
	s := newFuzzSesame(f)
	for _, seed := range clientRequestSeeds() {
		f.Add(seed.body, seed.authorization)
	}
	f.Fuzz(func(t *testing.T, body, authorization string) {
		req, body, rec, ok := s.post(t, "/token", authorization, body)
		if !ok {
			return
		}
		m := checkAnswer(t, rec)
		if rec.Code != http.StatusOK {
			return
		}
		id := authenticatedClient(req, body)
		if id == "" {
			t.Fatalf("token request succeeded without right credentials: %s", rec.Body)
		}
		if at, _ := m["access_token"].(string); at == "" {
			t.Fatalf("success without an access token: %s", rec.Body)
		}
		form, _ := url.ParseQuery(body)
		switch gt := form.Get("grant_type"); gt {
		case "client_credentials":
			if !fuzzM2M[id] {
				t.Fatalf("client_credentials granted to %s", id)
			}
		case "authorization_code", "refresh_token":
			value := form.Get("code")
			if gt == "refresh_token" {
				value = form.Get("refresh_token")
			}
			if owner := s.issuedTo(value); owner != id {
				t.Fatalf("%s granted to %s for a credential issued to %q", gt, id, owner)
			}
		default:
			t.Fatalf("grant_type %q granted", gt)
		}
		if rt, _ := m["refresh_token"].(string); rt != "" {
			s.issue(rt, id)
		}
	})
}

// FuzzRevocationRequest posts arbitrary bodies and Authorization headers to
// the revocation endpoint (RFC 7009, spec V1-V6).
func FuzzRevocationRequest(f *testing.F) {
	s := newFuzzSesame(f)
	for _, seed := range clientRequestSeeds() {
		f.Add(seed.body, seed.authorization)
	}
	f.Fuzz(func(t *testing.T, body, authorization string) {
		req, body, rec, ok := s.post(t, "/token/revocation", authorization, body)
		if !ok {
			return
		}
		checkAnswer(t, rec)
		if rec.Code == http.StatusOK && authenticatedClient(req, body) == "" {
			t.Fatalf("revocation succeeded without right credentials: %s", rec.Body)
		}
	})
}

// FuzzIntrospectionRequest posts arbitrary bodies and Authorization headers
// to the introspection endpoint (RFC 7662, spec I1-I5): a client learns
// about its own tokens only.
func FuzzIntrospectionRequest(f *testing.F) {
	s := newFuzzSesame(f)
	for _, seed := range clientRequestSeeds() {
		f.Add(seed.body, seed.authorization)
	}
	f.Fuzz(func(t *testing.T, body, authorization string) {
		req, body, rec, ok := s.post(t, "/token/introspection", authorization, body)
		if !ok {
			return
		}
		m := checkAnswer(t, rec)
		if rec.Code != http.StatusOK {
			return
		}
		id := authenticatedClient(req, body)
		if id == "" {
			t.Fatalf("introspection answered without right credentials: %s", rec.Body)
		}
		if active, ok := m["active"].(bool); !ok {
			t.Fatalf("introspection without active: %s", rec.Body)
		} else if active && m["client_id"] != id {
			t.Fatalf("%s learned about a token of %v: %s", id, m["client_id"], rec.Body)
		}
	})
}

// FuzzBasicCredentials fuzzes what an HTTP Basic Authorization header
// carries (RFC 7617, RFC 6749 §2.3.1): the scheme as written and the
// credentials before base64, on a client_credentials request that succeeds
// exactly when they are an m2m client's right ones. FuzzTokenRequest
// covers the header's base64 itself.
func FuzzBasicCredentials(f *testing.F) {
	s := newFuzzSesame(f)
	seeds := []struct{ scheme, credentials, body string }{
		{"Basic ", "robot:" + sesametest.Secret, ""},
		{"Basic ", "worker:" + sesametest.Secret, "client_id=worker"},
		{"basic ", "robot:" + sesametest.Secret, ""},
		{"BASIC   ", "robot:" + sesametest.Secret, ""},
		{"Basic ", "rob%6Ft:s3cret%2Dfor-tests", ""},
		{"Basic ", "robot:s3cret-for-tests:", ""},
		{"Basic ", "robot:" + sesametest.Secret, "client_id=worker"},
		{"Basic ", "robot:" + sesametest.Secret, "client_secret=" + sesametest.Secret},
		{"Basic ", "robot:wrong", ""},
		{"Basic ", "robot:", ""},
		{"Basic ", "robot", ""},
		{"Basic ", ":" + sesametest.Secret, ""},
		{"Basic ", "robot%:" + sesametest.Secret, ""},
		{"Basic ", "robot:%zz", ""},
		{"Basic ", "robot:s3cret+for+tests", ""},
		{"Basic ", "spa:", ""},
		{"Basic ", "app-a:" + sesametest.Secret, ""},
		{"Basic ", "ｒｏｂｏｔ:" + sesametest.Secret, ""},
		{"Basic ", "robot\x00:" + sesametest.Secret, ""},
		{"Bearer ", "robot:" + sesametest.Secret, ""},
		{"Basic", "robot:" + sesametest.Secret, ""},
		{"", "", ""},
	}
	for _, seed := range seeds {
		f.Add(seed.scheme, seed.credentials, seed.body)
	}
	f.Fuzz(func(t *testing.T, scheme, credentials, extra string) {
		body := "grant_type=client_credentials"
		if extra != "" {
			body += "&" + extra
		}
		authorization := scheme + base64.StdEncoding.EncodeToString([]byte(credentials))
		req, body, rec, ok := s.post(t, "/token", authorization, body)
		if !ok {
			return
		}
		checkAnswer(t, rec)
		if rec.Code == http.StatusOK && !fuzzM2M[authenticatedClient(req, body)] {
			t.Fatalf("Basic %q (body %q) accepted: %s", credentials, body, rec.Body)
		}
	})
}
