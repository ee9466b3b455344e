package rp_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/rp"
)

// RFC 8707 §2: the sign-in asks for every API of Config.Resources, one
// resource parameter each, so the grant covers them; a malformed
// indicator is refused when the Client is made.
func TestSignInSendsEveryResource(t *testing.T) {
	clk := &clock{now: time.Now()}
	f := newFakeSesame(t, clk.Now)
	c := f.client(t, rp.NewMemoryStore(), clk.Now, nil)
	rec := httptest.NewRecorder()
	if err := c.SignIn(rec, httptest.NewRequest("GET", "/sign-in", nil), rp.WithOfflineAccess()); err != nil {
		t.Fatal(err)
	}
	to, _ := url.Parse(rec.Header().Get("Location"))
	q := to.Query()
	if got := strings.Join(q["resource"], " "); got != ordersAPI+" "+billingAPI {
		t.Errorf("resource parameters %q", got)
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "offline_access") {
		t.Errorf("the other parameters were lost: %v", q)
	}
	_, err := rp.New(t.Context(), rp.Config{Issuer: f.issuer, ClientID: "app-a", Resources: []string{"https://api.example.com/x#frag"}})
	if err == nil {
		t.Error("a resource indicator with a fragment was accepted")
	}
}

// Typed claims: UserInfo answers a struct, and refuses an answer about
// another subject than the session's (OpenID Connect Core §5.3.2); a
// refresh whose ID token names another subject is refused and changes
// nothing.
func TestUserInfoAndRefreshKeepTheSubject(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	store := rp.NewMemoryStore()
	c := f.client(t, store, clk.Now, nil)
	cookie := f.signedIn(t, store, clk.Now())
	info, err := c.UserInfo(t.Context(), nil, withCookie(cookie))
	if err != nil {
		t.Fatal(err)
	}
	want := rp.UserInfo{Subject: "alice-sub", Name: "Alice Example", Email: "alice@example.com", EmailVerified: true, UpdatedAt: time.Unix(1767225600, 0)}
	if b, _ := json.Marshal(info); string(b) != string(must(json.Marshal(want))) {
		t.Errorf("userinfo %s, want %s", b, must(json.Marshal(want)))
	}

	f.mu.Lock()
	f.subject = "mallory-sub"
	f.mu.Unlock()
	if _, err := c.UserInfo(t.Context(), nil, withCookie(cookie)); err == nil {
		t.Error("a userinfo answer about another subject was accepted")
	}
	s, _ := store.Get(t.Context(), "app-session")
	s.Expiry = clk.Now().Add(-time.Second)
	_ = store.Update(t.Context(), s)
	if _, err := c.AccessToken(t.Context(), nil, withCookie(cookie)); err == nil {
		t.Error("a refresh whose ID token names another subject was accepted")
	}
	if after, _ := store.Get(t.Context(), "app-session"); after.Subject != "alice-sub" || after.AccessToken != s.AccessToken {
		t.Errorf("the refused refresh changed the session: %+v", after)
	}
}

// A refresh's ID token replaces the claims; an old session stored with
// claims as a map (rp before typed claims) still reads.
func TestRefreshAdoptsTypedClaims(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	store := rp.NewMemoryStore()
	c := f.client(t, store, clk.Now, nil)
	cookie := f.signedIn(t, store, clk.Now())
	s, _ := store.Get(t.Context(), "app-session")
	s.Expiry = clk.Now().Add(-time.Second)
	_ = store.Update(t.Context(), s)
	if _, err := c.AccessToken(t.Context(), nil, withCookie(cookie)); err != nil {
		t.Fatal(err)
	}
	claims, err := c.Claims(withCookie(cookie))
	if err != nil || claims.Email != "alice@example.com" || claims.SessionID != "sid-1" || !claims.AuthTime.Equal(clk.Now().Add(-time.Hour)) {
		t.Errorf("claims after refresh: %+v %v", claims, err)
	}

	var old rp.Session
	legacy := `{"ID":"x","Subject":"alice-sub","Claims":{"sub":"alice-sub","sid":"sid-1","auth_time":1767225600,"email":"alice@example.com","preferred_username":"alice","amr":["pwd"],"custom":{"a":1}}}`
	if err := json.Unmarshal([]byte(legacy), &old); err != nil {
		t.Fatal(err)
	}
	if old.Claims.PreferredUsername != "alice" || !old.Claims.AuthTime.Equal(time.Unix(1767225600, 0)) || old.Claims.AMR[0] != "pwd" {
		t.Errorf("a session stored with map claims reads as %+v", old.Claims)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
