package resource_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/rp/resource"
)

const api = "https://api.example.com/orders"

// fakeSesame publishes a discovery document and a key set, as Sesame's
// issuer does, and signs tokens with its keys.
type fakeSesame struct {
	srv     *httptest.Server
	issuer  string
	ec, ec2 *ecdsa.PrivateKey
	rsa     *rsa.PrivateKey
	fetches atomic.Int32

	mu        sync.Mutex
	published []jose.JSONWebKey
	down      bool
}

func newFakeSesame(t *testing.T) *fakeSesame {
	t.Helper()
	f := &fakeSesame{}
	var err error
	if f.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if f.ec2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if f.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	f.published = []jose.JSONWebKey{
		{Key: f.ec.Public(), KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
		{Key: f.rsa.Public(), KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": f.issuer, "jwks_uri": f.issuer + "/jwks"})
	})
	mux.HandleFunc("GET /oidc/jwks", func(w http.ResponseWriter, _ *http.Request) {
		f.fetches.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: f.published})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL + "/oidc"
	return f
}

// publish adds the rotated key ec-2 to the key set.
func (f *fakeSesame) publish() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, jose.JSONWebKey{Key: f.ec2.Public(), KeyID: "ec-2", Algorithm: "ES256", Use: "sig"})
}

// claims are a valid access token's claims at now, for alice through
// app-a, edited.
func (f *fakeSesame) claims(now time.Time, edit func(map[string]any)) map[string]any {
	m := map[string]any{"iss": f.issuer, "aud": api, "sub": "alice-sub", "client_id": "app-a",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "jti-1", "scope": "read:orders profile",
		"auth_time": now.Add(-time.Minute).Unix(), "sid": "sid-1"}
	if edit != nil {
		edit(m)
	}
	return m
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// clock is a fake clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// api is the API under test: GET /orders needs read:orders, POST /orders
// read:orders and write:orders. Its handler reports the claims it got.
func newAPI(t *testing.T, f *fakeSesame, clk *clock) (http.Handler, *resource.Verifier) {
	t.Helper()
	v, err := resource.New(t.Context(), resource.Config{Issuer: f.issuer, Audience: api, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := resource.ClaimsFrom(r.Context())
		if !ok {
			t.Error("no claims in the handler's context")
		}
		_ = json.NewEncoder(w).Encode(c)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Require("read:orders")(show))
	mux.Handle("POST /orders", v.Require("read:orders", "write:orders")(show))
	return mux, v
}

type answer struct {
	status    int
	challenge string
	body      map[string]string
	raw       string
}

func call(h http.Handler, method, target string, header ...string) answer {
	req := httptest.NewRequest(method, target, nil)
	for _, v := range header {
		req.Header.Add("Authorization", v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, challenge: rec.Header().Get("WWW-Authenticate"), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &a.body)
	return a
}

// RFC 9068 §4 and RFC 6750 §3: each broken token is refused with the
// status and error code the RFCs give, and never reaches the handler.
func TestRequireRefusesEveryBrokenToken(t *testing.T) {
	f := newFakeSesame(t)
	clk := &clock{now: time.Now()}
	h, _ := newAPI(t, f, clk)
	now := clk.Now()
	good := f.claims(now, nil)
	edit := func(e func(map[string]any)) map[string]any { return f.claims(now, e) }
	valid := sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", good)
	parts := strings.Split(valid, ".")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	pubDER, err := x509.MarshalPKIXPublicKey(f.rsa.Public())
	if err != nil {
		t.Fatal(err)
	}
	hmacSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubDER},
		(&jose.SignerOptions{}).WithHeader("kid", "rsa-1").WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(good)
	hs, _ := hmacSigner.Sign(payload)
	hs256, _ := hs.CompactSerialize()

	cases := []struct {
		name   string
		header []string
		target string
		status int
		code   string // "" : no error attribute at all
	}{
		{"no token", nil, "/orders", 401, ""},
		{"another scheme", []string{"Basic YWxpY2U6cHc="}, "/orders", 401, ""},
		{"empty bearer", []string{"Bearer "}, "/orders", 400, "invalid_request"},
		{"bearer with a space inside", []string{"Bearer abc def"}, "/orders", 400, "invalid_request"},
		{"two Authorization headers", []string{"Bearer " + valid, "Bearer " + valid}, "/orders", 400, "invalid_request"},
		{"token in the query", nil, "/orders?access_token=" + valid, 400, "invalid_request"},
		{"malformed", []string{"Bearer not-a-jwt"}, "/orders", 401, "invalid_token"},
		{"malformed, three parts", []string{"Bearer a.b.c"}, "/orders", 401, "invalid_token"},
		{"wrong typ (an ID token)", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "JWT", good)}, "/orders", 401, "invalid_token"},
		{"no typ", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "", good)}, "/orders", 401, "invalid_token"},
		{"logout token typ", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "logout+jwt", good)}, "/orders", 401, "invalid_token"},
		{"wrong iss", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { m["iss"] = "https://evil.example/oidc" }))}, "/orders", 401, "invalid_token"},
		{"wrong aud", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { m["aud"] = "https://api.example.com/billing" }))}, "/orders", 401, "invalid_token"},
		{"aud the client (an ID token's)", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { m["aud"] = "app-a" }))}, "/orders", 401, "invalid_token"},
		{"expired beyond the leeway", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { m["exp"] = now.Add(-31 * time.Second).Unix() }))}, "/orders", 401, "invalid_token"},
		{"no exp", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { delete(m, "exp") }))}, "/orders", 401, "invalid_token"},
		{"nbf ahead", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() }))}, "/orders", 401, "invalid_token"},
		{"iat ahead", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { m["iat"] = now.Add(time.Hour).Unix() }))}, "/orders", 401, "invalid_token"},
		{"no client_id", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { delete(m, "client_id") }))}, "/orders", 401, "invalid_token"},
		{"no jti", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { delete(m, "jti") }))}, "/orders", 401, "invalid_token"},
		{"alg none", []string{"Bearer " + b64(`{"alg":"none","typ":"at+jwt"}`) + "." + parts[1] + "."}, "/orders", 401, "invalid_token"},
		{"HS256 with the public key as secret", []string{"Bearer " + hs256}, "/orders", 401, "invalid_token"},
		{"ES384", []string{"Bearer " + b64(`{"alg":"ES384","kid":"ec-1","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2]}, "/orders", 401, "invalid_token"},
		{"bad signature", []string{"Bearer " + parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))}, "/orders", 401, "invalid_token"},
		{"another payload under the signature", []string{"Bearer " + parts[0] + "." + b64(`{"iss":"`+f.issuer+`"}`) + "." + parts[2]}, "/orders", 401, "invalid_token"},
		{"signed by a key Sesame never published", []string{"Bearer " + sign(t, jose.ES256, f.ec2, "ec-1", "at+jwt", good)}, "/orders", 401, "invalid_token"},
		{"an EC key id on an RS256 token", []string{"Bearer " + sign(t, jose.RS256, f.rsa, "ec-1", "at+jwt", good)}, "/orders", 401, "invalid_token"},
		{"missing scope", []string{"Bearer " + valid}, "POST /orders", 403, "insufficient_scope"},
		{"no scope at all", []string{"Bearer " + sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", edit(func(m map[string]any) { delete(m, "scope") }))}, "/orders", 403, "insufficient_scope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method, target := "GET", c.target
			if m, rest, ok := strings.Cut(target, " "); ok {
				method, target = m, rest
			}
			a := call(h, method, target, c.header...)
			if a.status != c.status {
				t.Fatalf("status %d, want %d (%s)", a.status, c.status, a.raw)
			}
			if !strings.HasPrefix(a.challenge, `Bearer realm="`+api+`"`) {
				t.Errorf("WWW-Authenticate %q", a.challenge)
			}
			hasError := strings.Contains(a.challenge, "error=")
			switch {
			case c.code == "" && hasError:
				t.Errorf("a request without a token got an error code (RFC 6750 §3.1): %q", a.challenge)
			case c.code != "" && !strings.Contains(a.challenge, `error="`+c.code+`", error_description="`):
				t.Errorf("WWW-Authenticate %q, want error %q with a description", a.challenge, c.code)
			}
			if a.body["error"] != c.code || a.body["error_description"] == "" {
				t.Errorf("body %s, want error %q and a description", a.raw, c.code)
			}
			if _, ok := a.body["sub"]; ok {
				t.Error("the handler ran")
			}
		})
	}

	// insufficient_scope names the scopes the route requires (§3.1).
	a := call(h, "POST", "/orders", "Bearer "+valid)
	want := `Bearer realm="` + api + `", error="insufficient_scope", error_description="the token does not grant write:orders", scope="read:orders write:orders"`
	if a.challenge != want {
		t.Errorf("WWW-Authenticate\n %s\nwant\n %s", a.challenge, want)
	}
}

// The success path: ES256 and RS256 tokens, typ in the forms RFC 9068
// allows, aud as an array, exp within the leeway; the handler gets the
// typed claims.
func TestRequireLetsAValidTokenThrough(t *testing.T) {
	f := newFakeSesame(t)
	clk := &clock{now: time.Now().Truncate(time.Second)}
	h, _ := newAPI(t, f, clk)
	now := clk.Now()
	tokens := map[string]string{
		"ES256":                sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", f.claims(now, nil)),
		"RS256":                sign(t, jose.RS256, f.rsa, "rsa-1", "at+jwt", f.claims(now, nil)),
		"typ application/...":  sign(t, jose.ES256, f.ec, "ec-1", "application/at+jwt", f.claims(now, nil)),
		"typ in capitals":      sign(t, jose.ES256, f.ec, "ec-1", "AT+JWT", f.claims(now, nil)),
		"aud array":            sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", f.claims(now, func(m map[string]any) { m["aud"] = []string{"https://other.example", api} })),
		"expired, within 30 s": sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", f.claims(now, func(m map[string]any) { m["exp"] = now.Add(-20 * time.Second).Unix() })),
	}
	for name, tok := range tokens {
		a := call(h, "GET", "/orders", "Bearer "+tok)
		if a.status != 200 {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	req := httptest.NewRequest("GET", "/orders", nil)
	req.Header.Set("Authorization", "bearer "+tokens["ES256"]) // the scheme is case-insensitive
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var got resource.Claims
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	want := resource.Claims{Issuer: f.issuer, Subject: "alice-sub", ClientID: "app-a", Audience: []string{api},
		Scopes: []string{"read:orders", "profile"}, AuthTime: now.Add(-time.Minute), SessionID: "sid-1",
		ExpiresAt: now.Add(time.Hour), IssuedAt: now, ID: "jti-1"}
	if g, _ := json.Marshal(got); string(g) != string(must(json.Marshal(want))) {
		t.Errorf("claims\n %s\nwant\n %s", g, must(json.Marshal(want)))
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Key rotation: a token signed by a key not yet in the cache makes the
// Verifier fetch the key set again, but not more than once per 30 s, so
// made-up key ids cannot make the API hammer Sesame; the rotated key, once
// published, verifies.
func TestUnknownKeyIsFetchedOnceRotatedAndRateLimited(t *testing.T) {
	f := newFakeSesame(t)
	clk := &clock{now: time.Now()}
	h, _ := newAPI(t, f, clk)
	claims := f.claims(clk.Now(), nil)
	if a := call(h, "GET", "/orders", "Bearer "+sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", claims)); a.status != 200 {
		t.Fatalf("first token: %d %s", a.status, a.raw)
	}
	if n := f.fetches.Load(); n != 1 {
		t.Fatalf("%d key set fetches for the first token, want 1", n)
	}
	rotated := sign(t, jose.ES256, f.ec2, "ec-2", "at+jwt", claims)
	if a := call(h, "GET", "/orders", "Bearer "+rotated); a.status != 401 || a.body["error"] != "invalid_token" {
		t.Fatalf("a key not published yet: %d %s", a.status, a.raw)
	}
	f.publish()
	clk.Add(10 * time.Second)
	if a := call(h, "GET", "/orders", "Bearer "+rotated); a.status != 401 {
		t.Errorf("within the cooldown the key set was fetched again: %d", a.status)
	}
	if n := f.fetches.Load(); n != 1 {
		t.Errorf("%d fetches within the cooldown, want 1", n)
	}
	clk.Add(21 * time.Second)
	if a := call(h, "GET", "/orders", "Bearer "+rotated); a.status != 200 {
		t.Fatalf("the rotated key, published, after the cooldown: %d %s", a.status, a.raw)
	}
	if n := f.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	// A flood of made-up key ids, concurrently: at most one more fetch.
	clk.Add(31 * time.Second)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			tok := sign(t, jose.ES256, f.ec2, "made-up-"+string(rune('a'+i)), "at+jwt", claims)
			if a := call(h, "GET", "/orders", "Bearer "+tok); a.status != 401 {
				t.Errorf("made-up kid: %d", a.status)
			}
		})
	}
	wg.Wait()
	if n := f.fetches.Load(); n != 3 {
		t.Errorf("%d fetches after a flood of unknown key ids, want 3", n)
	}
	// Known keys keep verifying without a fetch.
	if a := call(h, "GET", "/orders", "Bearer "+rotated); a.status != 200 || f.fetches.Load() != 3 {
		t.Errorf("a cached key: %d, %d fetches", a.status, f.fetches.Load())
	}
	// The cache is read again once it is 10 minutes old.
	clk.Add(11 * time.Minute)
	fresh := sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", f.claims(clk.Now(), nil))
	if a := call(h, "GET", "/orders", "Bearer "+fresh); a.status != 200 || f.fetches.Load() != 4 {
		t.Errorf("after 11 minutes: %d, %d fetches, want 200 and 4", a.status, f.fetches.Load())
	}
}

// A token whose key is unknown while Sesame's key set cannot be fetched
// cannot be judged: 503, not 401, so the client retries rather than signs
// the person in again. A key already cached keeps verifying.
func TestKeysUnavailable(t *testing.T) {
	f := newFakeSesame(t)
	clk := &clock{now: time.Now()}
	h, v := newAPI(t, f, clk)
	claims := f.claims(clk.Now(), nil)
	cached := sign(t, jose.ES256, f.ec, "ec-1", "at+jwt", claims)
	if a := call(h, "GET", "/orders", "Bearer "+cached); a.status != 200 {
		t.Fatalf("%d", a.status)
	}
	f.mu.Lock()
	f.down = true
	f.mu.Unlock()
	clk.Add(time.Minute)
	a := call(h, "GET", "/orders", "Bearer "+sign(t, jose.ES256, f.ec2, "ec-2", "at+jwt", claims))
	if a.status != 503 || a.body["error"] != "temporarily_unavailable" {
		t.Errorf("unknown key, key set down: %d %s", a.status, a.raw)
	}
	if _, err := v.Verify(t.Context(), sign(t, jose.ES256, f.ec2, "ec-2", "at+jwt", claims)); !errors.Is(err, resource.ErrUnavailable) {
		t.Errorf("Verify: %v, want ErrUnavailable", err)
	}
	if a := call(h, "GET", "/orders", "Bearer "+cached); a.status != 200 {
		t.Errorf("a cached key while the key set is down: %d", a.status)
	}
}

// New reads the key set's address from discovery and refuses a document
// that names another issuer, or a Config without Issuer and Audience.
func TestNewChecksDiscovery(t *testing.T) {
	f := newFakeSesame(t)
	if _, err := resource.New(t.Context(), resource.Config{Issuer: f.issuer + "/", Audience: api}); err == nil {
		t.Error("a discovery document naming another issuer was accepted")
	}
	if _, err := resource.New(t.Context(), resource.Config{Issuer: f.issuer}); err == nil {
		t.Error("a Config without Audience was accepted")
	}
	if _, err := resource.New(t.Context(), resource.Config{Issuer: f.issuer, Audience: api}); err != nil {
		t.Error(err)
	}
}
