package backchannel_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/backchannel"
)

const event = "http://schemas.openid.net/event/backchannel-logout"

// Back-Channel Logout §2.6: each broken token is refused with 400; a valid
// one is 200 even when the app has no such session (§2.8), and a replayed
// jti is refused.
func TestHandlerValidatesLogoutTokens(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	c, err := rp.New(t.Context(), rp.Config{Issuer: s.Issuer, ClientID: sesametest.AppA, ClientSecret: sesametest.Secret,
		RedirectURL: sesametest.RedirectURI(sesametest.AppA)})
	if err != nil {
		t.Fatal(err)
	}
	sessions := rp.NewMemoryStore()
	_ = sessions.Put(t.Context(), &rp.Session{ID: "app-session", Subject: "alice-sub", SID: "sid-1"})
	h, err := backchannel.New(backchannel.Config{Verifier: c.Verifier(), Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(edit func(map[string]any)) map[string]any {
		m := map[string]any{"iss": s.Issuer, "aud": sesametest.AppA, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
			"jti": "jti-" + time.Now().Format(time.RFC3339Nano), "events": map[string]any{event: map[string]any{}},
			"sub": "alice-sub", "sid": "sid-1"}
		if edit != nil {
			edit(m)
		}
		return m
	}
	sign := func(m map[string]any) string {
		tok, err := s.Keys.Sign("ES256", "logout+jwt", m)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	target := h
	post := func(tok string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/backchannel-logout", strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		target.ServeHTTP(rec, req)
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Error("answer without Cache-Control: no-store")
		}
		return rec.Code
	}
	good := sign(claims(nil))
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"logout+jwt"}`)) + "." + parts[1] + "."
	bad := map[string]string{
		"bad signature":  parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"alg none":       none,
		"wrong iss":      sign(claims(func(m map[string]any) { m["iss"] = "https://evil.example" })),
		"wrong aud":      sign(claims(func(m map[string]any) { m["aud"] = "app-b" })),
		"expired":        sign(claims(func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() })),
		"missing events": sign(claims(func(m map[string]any) { delete(m, "events") })),
		"with nonce":     sign(claims(func(m map[string]any) { m["nonce"] = "n" })),
		"no sub, no sid": sign(claims(func(m map[string]any) { delete(m, "sub"); delete(m, "sid") })),
		"iat in future":  sign(claims(func(m map[string]any) { m["iat"] = now.Add(time.Hour).Unix() })),
		"empty":          "",
		"not a JWT":      "garbage",
	}
	for name, tok := range bad {
		if code := post(tok); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, code)
		}
	}
	if _, err := sessions.Get(t.Context(), "app-session"); err != nil {
		t.Fatal("a refused token ended the session")
	}
	if code := post(good); code != http.StatusOK {
		t.Fatalf("valid token: %d", code)
	}
	if _, err := sessions.Get(t.Context(), "app-session"); err == nil {
		t.Error("the valid token did not end the session")
	}
	if code := post(good); code != http.StatusBadRequest {
		t.Errorf("replayed jti: %d, want 400", code)
	}
	if code := post(sign(claims(func(m map[string]any) { m["sid"] = "a-session-long-gone" }))); code != http.StatusOK {
		t.Errorf("valid token for a session the app no longer has: %d, want 200", code)
	}

	// A store that fails gives 503, so Sesame retries; the retry carries
	// the same jti and must not be refused as a replay.
	flaky := &failingStore{SessionStore: rp.NewMemoryStore(), fail: true}
	_ = flaky.Put(t.Context(), &rp.Session{ID: "app-session", Subject: "alice-sub", SID: "sid-1"})
	if target, err = backchannel.New(backchannel.Config{Verifier: c.Verifier(), Sessions: flaky}); err != nil {
		t.Fatal(err)
	}
	retried := sign(claims(nil))
	if code := post(retried); code != http.StatusServiceUnavailable {
		t.Errorf("store failing: %d, want 503", code)
	}
	flaky.fail = false
	if code := post(retried); code != http.StatusOK {
		t.Errorf("the retry after a store failure: %d, want 200", code)
	}
	if _, err := flaky.Get(t.Context(), "app-session"); err == nil {
		t.Error("the retried token did not end the session")
	}
	if code := post(retried); code != http.StatusBadRequest {
		t.Errorf("the same token once it took effect: %d, want 400 (replay)", code)
	}
}

// failingStore fails to end sessions while fail is set.
type failingStore struct {
	rp.SessionStore
	fail bool
}

func (f *failingStore) EndBySID(ctx context.Context, sid string) (int, error) {
	if f.fail {
		return 0, errors.New("store down")
	}
	return f.SessionStore.EndBySID(ctx, sid)
}

// A Handler without a verifier or a store is refused when it is made,
// not discovered at the first logout Sesame sends.
func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	c, err := rp.New(t.Context(), rp.Config{Issuer: s.Issuer, ClientID: sesametest.AppA, ClientSecret: sesametest.Secret,
		RedirectURL: sesametest.RedirectURI(sesametest.AppA)})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]backchannel.Config{
		"no verifier": {Sessions: rp.NewMemoryStore()},
		"no sessions": {Verifier: c.Verifier()},
		"nothing":     {},
	} {
		if h, err := backchannel.New(cfg); err == nil || h != nil {
			t.Errorf("%s: %v, %v; want an error and no Handler", name, h, err)
		}
	}
	if _, err := backchannel.New(backchannel.Config{Verifier: c.Verifier(), Sessions: rp.NewMemoryStore()}); err != nil {
		t.Error(err)
	}
}

// A Handler not made by New (a zero value, or a nil one) answers every
// logout with an error that says so, and never panics.
func TestHandlerNotMadeByNewAnswersAnError(t *testing.T) {
	for name, h := range map[string]*backchannel.Handler{"zero value": {}, "nil": nil} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/backchannel-logout", strings.NewReader("logout_token=x.y.z"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "backchannel.New") {
			t.Errorf("%s: %d %q, want a 500 naming backchannel.New", name, rec.Code, rec.Body)
		}
	}
}
