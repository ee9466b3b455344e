package rp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/rp"
)

// AccessTokenFor caches one token per API in the app session until 30 s
// before it expires, gets each with the session's refresh token and a
// resource parameter, and keeps the rotated refresh token.
func TestAccessTokenForCachesPerResourceAndRotates(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	store := rp.NewMemoryStore()
	c := f.client(t, store, clk.Now, nil)
	cookie := f.signedIn(t, store, clk.Now())
	get := func(resource string) (string, time.Time) {
		t.Helper()
		tok, exp, err := c.AccessTokenFor(t.Context(), nil, withCookie(cookie), resource)
		if err != nil {
			t.Fatalf("AccessTokenFor %s: %v", resource, err)
		}
		return tok, exp
	}

	orders, exp := get(ordersAPI)
	if !strings.HasPrefix(orders, "eyJ") || !exp.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("token %q expiring %v, want a JWT expiring in an hour", orders, exp)
	}
	current, _, n := f.state(ordersAPI)
	s, _ := store.Get(t.Context(), "app-session")
	if s.RefreshToken != current || current == "rt-0" {
		t.Errorf("the session keeps refresh token %q; Sesame's live one is %q", s.RefreshToken, current)
	}
	if s.ResourceTokens[ordersAPI].AccessToken != orders || s.ResourceTokens[ordersAPI].Scope != "read:orders" || s.AccessToken != "opaque-0" {
		t.Errorf("session after AccessTokenFor: %+v", s)
	}
	if again, _ := get(ordersAPI); again != orders || n != 1 {
		t.Errorf("second call: %q (first %q), %d requests", again, orders, n)
	}
	if _, _, n := f.state(ordersAPI); n != 1 {
		t.Errorf("a cached token was asked for again: %d requests", n)
	}
	billing, _ := get(billingAPI)
	if billing == orders || billing == "" {
		t.Errorf("billing token %q", billing)
	}
	if again, _ := get(ordersAPI); again != orders {
		t.Error("a token for another API displaced the cached one")
	}

	clk.Add(time.Hour - 31*time.Second)
	if again, _ := get(ordersAPI); again != orders {
		t.Error("replaced 31 s before expiry; the leeway is 30 s")
	}
	clk.Add(2 * time.Second)
	renewed, exp := get(ordersAPI)
	if renewed == orders || !exp.Equal(clk.Now().Add(time.Hour)) {
		t.Error("not replaced 29 s before expiry")
	}
	if _, reuses, n := f.state(ordersAPI); reuses != 0 || n != 2 {
		t.Errorf("%d reuses, %d requests for orders; want 0 and 2", reuses, n)
	}
}

// Concurrent calls for one session, for two APIs and for the userinfo
// token, take turns: Sesame sees each refresh token once (no reuse, which
// would revoke the grant), and each API is asked for once.
func TestAccessTokenForConcurrentCallsSpendEachRefreshTokenOnce(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	f.delay = 20 * time.Millisecond
	store := rp.NewMemoryStore()
	c := f.client(t, store, clk.Now, nil)
	cookie := f.signedIn(t, store, clk.Now())
	s, _ := store.Get(t.Context(), "app-session")
	s.Expiry = clk.Now().Add(-time.Second) // the userinfo token needs a refresh too
	_ = store.Update(t.Context(), s)

	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]map[string]bool{}
	for i := range 24 {
		wg.Go(func() {
			var tok, which string
			var err error
			switch i % 3 {
			case 0:
				which = ordersAPI
				tok, _, err = c.AccessTokenFor(t.Context(), nil, withCookie(cookie), ordersAPI)
			case 1:
				which = billingAPI
				tok, _, err = c.AccessTokenFor(t.Context(), nil, withCookie(cookie), billingAPI)
			default:
				tok, err = c.AccessToken(t.Context(), nil, withCookie(cookie))
			}
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
				return
			}
			mu.Lock()
			if got[which] == nil {
				got[which] = map[string]bool{}
			}
			got[which][tok] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	_, reuses, _ := f.state("")
	if reuses != 0 {
		t.Fatalf("Sesame saw %d reused refresh tokens: the grant would be revoked", reuses)
	}
	for _, r := range []string{"", ordersAPI, billingAPI} {
		if _, _, n := f.state(r); n != 1 || len(got[r]) != 1 {
			t.Errorf("resource %q: %d token requests, %d distinct tokens handed out; want 1 and 1", r, n, len(got[r]))
		}
	}
}

// Each failure is typed, and says whether the person must sign in again.
func TestAccessTokenForErrors(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	store := rp.NewMemoryStore()
	c := f.client(t, store, clk.Now, nil)
	cookie := f.signedIn(t, store, clk.Now())
	call := func(r *http.Request, resource string) error {
		_, _, err := c.AccessTokenFor(t.Context(), nil, r, resource)
		return err
	}

	if err := call(httptest.NewRequest("GET", "/", nil), ordersAPI); !errors.Is(err, rp.ErrNoSession) || !rp.NeedsSignIn(err) {
		t.Errorf("no session: %v", err)
	}

	err := call(withCookie(cookie), "https://api.example.com/unknown")
	var oe *rp.Error
	if !errors.Is(err, rp.ErrInvalidTarget) || !errors.As(err, &oe) || oe.Code != "invalid_target" || oe.Description == "" || rp.NeedsSignIn(err) {
		t.Errorf("unregistered API: %v", err)
	}
	if err := call(withCookie(cookie), ordersAPI); err != nil {
		t.Errorf("after invalid_target the session's refresh token must still work: %v", err)
	}
	_, _, before := f.state("")
	for _, bad := range []string{"", "orders", "https://api.example.com/orders#x", "/relative"} {
		if err := call(withCookie(cookie), bad); !errors.Is(err, rp.ErrInvalidTarget) {
			t.Errorf("resource %q: %v, want invalid_target", bad, err)
		}
	}
	if _, _, after := f.state(""); after != before {
		t.Error("a malformed resource indicator was sent to Sesame")
	}

	f.mu.Lock()
	f.broken = true
	f.mu.Unlock()
	var te *rp.TransportError
	if err := call(withCookie(cookie), billingAPI); !errors.As(err, &te) || te.StatusCode != http.StatusBadGateway || rp.NeedsSignIn(err) {
		t.Errorf("Sesame answering 502: %v", err)
	}
	f.mu.Lock()
	f.broken = false
	f.mu.Unlock()
	offline := f.client(t, store, clk.Now, &http.Client{Transport: failTokenRequests{}})
	_, _, err = offline.AccessTokenFor(t.Context(), nil, withCookie(cookie), billingAPI)
	if !errors.As(err, &te) || te.StatusCode != 0 || !errors.Is(err, errNetwork) {
		t.Errorf("Sesame unreachable: %v", err)
	}

	f.mu.Lock()
	f.revoked = true // signed out at Sesame: the grant is gone
	f.mu.Unlock()
	if err := call(withCookie(cookie), billingAPI); !errors.Is(err, rp.ErrInvalidGrant) || !rp.NeedsSignIn(err) {
		t.Errorf("dead refresh token: %v", err)
	}

	plain := &rp.Session{ID: "no-offline", Created: clk.Now(), Subject: "bob-sub", SID: "sid-2", AccessToken: "at", Expiry: clk.Now().Add(time.Hour)}
	_ = store.Put(t.Context(), plain)
	_, _, before = f.state("")
	err = call(withCookie(&http.Cookie{Name: "rp_session", Value: "no-offline"}), ordersAPI)
	if !errors.Is(err, rp.ErrNoRefreshToken) || !rp.NeedsSignIn(err) {
		t.Errorf("no refresh token: %v", err)
	}
	if _, _, after := f.state(""); after != before {
		t.Error("a session without a refresh token made a token request")
	}
}

var errNetwork = errors.New("network down")

// failTokenRequests is a network on which the token endpoint cannot be
// reached.
type failTokenRequests struct{}

func (failTokenRequests) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		return nil, errNetwork
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A sign-out that lands while the refresh is on the wire stays a
// sign-out: ErrSignedOut, the session is not brought back, and the
// refresh token Sesame just issued is revoked.
func TestAccessTokenForCannotUndoASignOut(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	store := rp.NewMemoryStore()
	cookie := f.signedIn(t, store, clk.Now())
	c := f.client(t, store, clk.Now, &http.Client{Transport: signOutDuring{sessions: store, id: "app-session"}})
	if _, _, err := c.AccessTokenFor(t.Context(), nil, withCookie(cookie), ordersAPI); err != rp.ErrSignedOut {
		t.Fatalf("refresh racing a sign-out: %v, want ErrSignedOut", err)
	}
	if _, err := store.Get(t.Context(), "app-session"); err == nil {
		t.Error("the refresh brought the signed-out session back")
	}
	current, _, _ := f.state("")
	f.mu.Lock()
	revoked := strings.Join(f.revokedAt, " ")
	f.mu.Unlock()
	if revoked != current {
		t.Errorf("revoked %q; the refresh token issued during the sign-out is %q", revoked, current)
	}
}

// With a CookieStore the rotated refresh token goes into the cookie written
// to w, the API tokens stay out of it (a browser keeps 4 KB a cookie) and
// are served from the store's memory, to the new cookie and the old.
func TestAccessTokenForWithCookieStore(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	secret := []byte("a cookie secret of at least thirty-two bytes")
	store, err := rp.NewCookieStore(secret)
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(t, store, clk.Now, nil)
	old := f.signedIn(t, store, clk.Now())
	rec := httptest.NewRecorder()
	tok, _, err := c.AccessTokenFor(t.Context(), rec, withCookie(old), ordersAPI)
	if err != nil {
		t.Fatal(err)
	}
	set := rec.Result().Cookies()
	if len(set) != 1 || set[0].Name != "rp_session" {
		t.Fatalf("cookies written: %v", set)
	}
	elsewhere, _ := rp.NewCookieStore(secret) // another process: the cookie alone
	sealed, err := elsewhere.Get(t.Context(), set[0].Value)
	current, _, _ := f.state("")
	if err != nil || sealed.RefreshToken != current || len(sealed.ResourceTokens) != 0 {
		t.Errorf("the new cookie holds %+v, %v; want refresh token %q and no API tokens", sealed, err, current)
	}
	for name, ck := range map[string]*http.Cookie{"new cookie": set[0], "old cookie": old} {
		again, _, err := c.AccessTokenFor(t.Context(), httptest.NewRecorder(), withCookie(ck), ordersAPI)
		if err != nil || again != tok {
			t.Errorf("%s: %v, token changed %v", name, err, again != tok)
		}
	}
	if _, reuses, n := f.state(ordersAPI); reuses != 0 || n != 1 {
		t.Errorf("%d reuses, %d requests; want 0 and 1", reuses, n)
	}
}

// One context per call: a caller whose context ends while it waits for
// another's refresh gives up at once; a caller whose context ends while
// its own refresh is on the wire still keeps the rotated refresh token,
// which Sesame has spent the old one for.
func TestAccessTokenForContexts(t *testing.T) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	f := newFakeSesame(t, clk.Now)
	store := rp.NewMemoryStore()
	cookie := f.signedIn(t, store, clk.Now())
	f.delay = 300 * time.Millisecond // Sesame has spent the refresh token and is yet to answer
	gate := &tokenSent{sent: make(chan struct{})}
	c := f.client(t, store, clk.Now, &http.Client{Transport: gate})

	first, cancelFirst := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := c.AccessTokenFor(first, nil, withCookie(cookie), ordersAPI)
		done <- err
	}()
	<-gate.sent // the refresh token is on the wire

	waiting, cancelWaiting := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancelWaiting()
	if _, _, err := c.AccessTokenFor(waiting, nil, withCookie(cookie), ordersAPI); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a waiter whose context ended: %v, want its deadline", err)
	}

	cancelFirst() // the browser went away
	if err := <-done; err != nil {
		t.Errorf("the refresh under way, its caller gone: %v", err)
	}
	current, _, _ := f.state("")
	if s, err := store.Get(t.Context(), "app-session"); err != nil || s.RefreshToken != current {
		t.Errorf("the rotated refresh token was lost with its caller: session %+v %v, Sesame's live one %q", s, err, current)
	}
}

// tokenSent says when the first token request goes out.
type tokenSent struct {
	once sync.Once
	sent chan struct{}
}

func (g *tokenSent) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		g.once.Do(func() { close(g.sent) })
	}
	return http.DefaultTransport.RoundTrip(r)
}
