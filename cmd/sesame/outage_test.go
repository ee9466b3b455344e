package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store/postgres/pgtest"
)

// cable is a TCP hop between Sesame and PostgreSQL that the test can cut,
// as a failed network or a database server going away would: every open
// connection drops and new ones are refused until it is mended.
type cable struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func newCable(t *testing.T, target string) *cable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cable{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go c.serve()
	t.Cleanup(func() { ln.Close(); c.Cut() })
	return c
}

func (c *cable) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		if c.cut {
			c.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			c.mu.Unlock()
			in.Close()
			continue
		}
		c.conns[in], c.conns[out] = struct{}{}, struct{}{}
		c.mu.Unlock()
		go c.pipe(in, out)
		go c.pipe(out, in)
	}
}

func (c *cable) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	c.mu.Lock()
	delete(c.conns, dst)
	delete(c.conns, src)
	c.mu.Unlock()
}

// Cut drops every connection and refuses new ones.
func (c *cable) Cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	for conn := range c.conns {
		conn.Close()
	}
}

// Mend lets connections through again.
func (c *cable) Mend() {
	c.mu.Lock()
	c.cut = false
	c.mu.Unlock()
}

// Losing PostgreSQL in the middle of traffic: /healthz says so, requests
// fail at once with 503 (not a hang, not a 500), a sign-out tried then is
// refused whole and works once retried, and a sign-out committed just
// before the loss is delivered after it, exactly once. Service comes back
// by itself when the database does.
func TestDatabaseLostAndBack(t *testing.T) {
	dbURL, err := url.Parse(pgtest.FreshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	wire := newCable(t, dbURL.Host)
	dbURL.Host = wire.ln.Addr().String()
	c := startCluster(t, 1, dbURL.String())
	app := c.apps["app-a"]
	get := func(path string) (int, string) {
		client := &http.Client{Timeout: 20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(c.base + path)
		if err != nil {
			t.Fatalf("GET %s: %v (a request must fail fast, not hang)", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}

	// Two browsers signed in; the first signs out while app-a is failing,
	// so its delivery is still queued when the database goes.
	first, second := sesametest.NewBrowserFor(t, c.base), sesametest.NewBrowserFor(t, c.base)
	c.authorize(t, first, "app-a", nil)
	c.authorize(t, second, "app-a", nil)
	app.Answer(http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	if done := first.Submit(first.Get(c.issuer+"/session/end?client_id=app-a"), map[string]string{"logout": "true"}); done.Status != 200 {
		t.Fatalf("sign-out before the outage: %d", done.Status)
	}
	wire.Cut()

	if st, _ := get("/healthz"); st != http.StatusServiceUnavailable {
		t.Errorf("/healthz with the database gone: %d, want 503", st)
	}
	st, body := c.post(t, "/oidc/token", url.Values{"grant_type": {"client_credentials"}}, "robot", "robot-secret", "")
	if st != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
		t.Errorf("token request with the database gone: %d %v, want 503 temporarily_unavailable", st, body)
	}
	// The authorization endpoint tells the app, at its verified redirect
	// URI, with RFC 6749 §4.1.2.1's temporarily_unavailable.
	st, loc := get("/oidc/auth?client_id=app-a&response_type=code&scope=openid&state=s&redirect_uri=" + url.QueryEscape("https://app-a.example/callback"))
	if u, _ := url.Parse(loc); st != http.StatusSeeOther && st != http.StatusFound || u == nil || u.Query().Get("error") != "temporarily_unavailable" {
		t.Errorf("authorization request with the database gone: %d %q, want a redirect with temporarily_unavailable", st, loc)
	}
	page := second.Get(c.issuer + "/session/end?client_id=app-a")
	if page.Status == 200 {
		if p := second.Submit(page, map[string]string{"logout": "true"}); p.Status != http.StatusServiceUnavailable {
			t.Errorf("sign-out with the database gone: %d, want 503", p.Status)
		}
	} else if page.Status != http.StatusServiceUnavailable {
		t.Errorf("sign-out page with the database gone: %d, want 503", page.Status)
	}
	time.Sleep(2 * time.Second) // the outage lasts; retries and job fetches fail meanwhile
	if got := app.Received(); len(got) != 0 {
		t.Fatalf("a logout landed during the outage: %+v", got)
	}

	wire.Mend()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, _ := get("/healthz"); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Sesame did not come back within 30 s of the database")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := app.WaitReceived(1, 60*time.Second); len(got) != 1 {
		t.Fatalf("the sign-out committed before the outage: %d logout tokens after it, want 1", len(got))
	}
	// The sign-out refused during the outage did nothing: the second
	// browser is still signed in, and signing out now works.
	if code, typed := c.authorize(t, second, "app-a", nil); typed || code == "" {
		t.Error("the second browser lost its session in the outage")
	}
	if done := second.Submit(second.Get(c.issuer+"/session/end?client_id=app-a"), map[string]string{"logout": "true"}); done.Status != 200 {
		t.Fatalf("sign-out after the outage: %d", done.Status)
	}
	if got := app.WaitReceived(2, 30*time.Second); len(got) != 2 {
		t.Fatalf("after the retried sign-out: %d logout tokens, want 2", len(got))
	}
	time.Sleep(2 * time.Second)
	if got := app.Received(); len(got) != 2 || got[0].JTI == got[1].JTI {
		t.Errorf("logout tokens %+v, want two, each once", got)
	}
}
