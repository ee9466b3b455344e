package rp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/rp"
)

const (
	ordersAPI  = "https://api.example.com/orders"
	billingAPI = "https://api.example.com/billing"
)

// fakeSesame is the token side of Sesame as rp sees it: discovery, a key
// set, and a token endpoint that rotates refresh tokens (a spent one
// presented again revokes the grant, G4) and answers a refresh with
// resource by a JWT access token for that API, invalid_target for an API
// it does not know.
type fakeSesame struct {
	srv    *httptest.Server
	issuer string
	key    *ecdsa.PrivateKey
	now    func() time.Time

	mu        sync.Mutex
	current   string          // the grant's live refresh token
	spent     map[string]bool // refresh tokens used once
	revoked   bool            // the grant
	reuses    int
	requests  map[string]int // token requests by resource ("" for none)
	revokedAt []string       // tokens posted to revocation
	serial    int
	ttl       time.Duration
	// delay holds each token answer, to widen races.
	delay time.Duration
	// broken makes the token endpoint answer an HTML 502.
	broken bool
	// subject is the sub of the ID tokens and userinfo answers.
	subject string
}

// fakeTB is what newFakeSesame needs of a test, or of an example.
type fakeTB interface {
	Helper()
	Fatal(...any)
	Cleanup(func())
}

func newFakeSesame(t fakeTB, now func() time.Time) *fakeSesame {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSesame{key: key, now: now, current: "rt-0", spent: map[string]bool{}, requests: map[string]int{}, ttl: time.Hour,
		subject: "alice-sub"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.issuer, "authorization_endpoint": f.issuer + "/auth", "token_endpoint": f.issuer + "/token",
			"jwks_uri": f.issuer + "/jwks", "userinfo_endpoint": f.issuer + "/me", "revocation_endpoint": f.issuer + "/token/revocation",
			"end_session_endpoint": f.issuer + "/session/end", "id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("GET /oidc/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /oidc/token", f.token)
	mux.HandleFunc("GET /oidc/me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": f.subject, "name": "Alice Example", "email": "alice@example.com",
			"email_verified": true, "updated_at": 1767225600})
	})
	mux.HandleFunc("POST /oidc/token/revocation", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.revokedAt = append(f.revokedAt, r.PostFormValue("token"))
		f.mu.Unlock()
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL + "/oidc"
	return f
}

func (f *fakeSesame) token(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": "the fake says " + code})
	}
	if id, secret, ok := r.BasicAuth(); !ok || id != "app-a" || secret != "secret" {
		fail(401, "invalid_client")
		return
	}
	if r.PostFormValue("grant_type") != "refresh_token" {
		fail(400, "unsupported_grant_type")
		return
	}
	if len(r.PostForm["resource"]) > 1 {
		fail(400, "invalid_target")
		return
	}
	resource := r.PostFormValue("resource")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<h1>Bad gateway</h1>")
		return
	}
	f.requests[resource]++
	rt := r.PostFormValue("refresh_token")
	switch {
	case f.spent[rt]:
		f.reuses++
		f.revoked = true
		fail(400, "invalid_grant")
		return
	case f.revoked || rt != f.current:
		fail(400, "invalid_grant")
		return
	case resource != "" && resource != ordersAPI && resource != billingAPI:
		fail(400, "invalid_target") // the grant is not spent by a refused request
		return
	}
	// Spent at once, before the answer: a second request with it, even
	// while this one is under way, is a reuse.
	f.serial++
	f.spent[rt] = true
	f.current = fmt.Sprintf("rt-%d", f.serial)
	n, next := f.serial, f.current
	f.mu.Unlock()
	time.Sleep(f.delay)
	f.mu.Lock()
	now := f.now()
	answer := map[string]any{"token_type": "Bearer", "expires_in": int(f.ttl.Seconds()), "refresh_token": next,
		"id_token": f.sign("JWT", map[string]any{"iss": f.issuer, "aud": "app-a", "sub": f.subject, "sid": "sid-1",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Add(-time.Hour).Unix(),
			"preferred_username": "alice", "email": "alice@example.com"})}
	if resource == "" {
		answer["access_token"] = fmt.Sprintf("opaque-%d", n)
		answer["scope"] = "openid profile email offline_access"
	} else {
		answer["scope"] = "read:orders"
		answer["access_token"] = f.sign("at+jwt", map[string]any{"iss": f.issuer, "aud": resource, "sub": "alice-sub",
			"client_id": "app-a", "iat": now.Unix(), "exp": now.Add(f.ttl).Unix(), "jti": fmt.Sprintf("jti-%d", n),
			"scope": "read:orders", "sid": "sid-1"})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

// sign signs claims with the fake's key; with a valid P-256 key and
// marshalable claims it cannot fail, so a failure is a broken test.
func (f *fakeSesame) sign(typ string, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: f.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType(jose.ContentType(typ)))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return tok
}

// state returns, under the lock, the fake's live refresh token, reuse
// count and number of token requests for resource.
func (f *fakeSesame) state(resource string) (current string, reuses, requests int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.current, f.reuses, f.requests[resource]
}

// client is app-a at the fake, with sessions in store.
func (f *fakeSesame) client(t *testing.T, store rp.SessionStore, now func() time.Time, hc *http.Client) *rp.Client {
	t.Helper()
	c, err := rp.New(t.Context(), rp.Config{Issuer: f.issuer, ClientID: "app-a", ClientSecret: "secret",
		RedirectURL: "https://app-a.example/callback", Resources: []string{ordersAPI, billingAPI},
		Sessions: store, Now: now, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signedIn stores alice's session, signed in with offline_access and the
// fake's live refresh token, and returns its cookie.
func (f *fakeSesame) signedIn(t fakeTB, store rp.SessionStore, now time.Time) *http.Cookie {
	t.Helper()
	current, _, _ := f.state("")
	s := &rp.Session{ID: "app-session", Created: now, Subject: "alice-sub", SID: "sid-1",
		Claims:      rp.Claims{Subject: "alice-sub", SessionID: "sid-1", PreferredUsername: "alice"},
		AccessToken: "opaque-0", RefreshToken: current, Expiry: now.Add(time.Hour)}
	if err := store.Put(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	value := s.ID
	if enc, ok := store.(rp.Encoder); ok {
		var err error
		if value, err = enc.Encode(s); err != nil {
			t.Fatal(err)
		}
	}
	return &http.Cookie{Name: "rp_session", Value: value}
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
