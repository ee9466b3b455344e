package main

import (
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
)

// cable is a TCP hop between Sesame and PostgreSQL that the test can cut,
// as a failed network or a database server going away would: every open
// connection drops and new ones are refused until it is mended.
type cable struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	frozen bool
	thawed *sync.Cond // signalled when frozen goes false
	conns  map[net.Conn]struct{}
}

func newCable(t *testing.T, target string) *cable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cable{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	c.thawed = sync.NewCond(&c.mu)
	go c.serve()
	t.Cleanup(func() { ln.Close(); c.Cut(); c.Mend() })
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

// pipe copies src to dst, holding every chunk while the cable is frozen.
func (c *cable) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			c.mu.Lock()
			for c.frozen {
				c.thawed.Wait()
			}
			c.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
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
	c.cut, c.frozen = false, false
	c.thawed.Broadcast()
	c.mu.Unlock()
}

// Freeze keeps every connection open but carries nothing, as a network
// that silently drops packets does: no error reaches either side.
func (c *cable) Freeze() {
	c.mu.Lock()
	c.frozen = true
	c.mu.Unlock()
}

// behindCable starts one Sesame instance on a fresh PostgreSQL database
// reached through a cable the test can cut or freeze.
func behindCable(t *testing.T, env ...string) (*cluster, *cable) {
	t.Helper()
	dbURL, err := url.Parse(pgtest.FreshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	wire := newCable(t, dbURL.Host)
	dbURL.Host = wire.ln.Addr().String()
	return startCluster(t, 1, dbURL.String(), env...), wire
}

// Losing PostgreSQL in the middle of traffic: /healthz says so, requests
// fail at once with 503 (not a hang, not a 500), a sign-out tried then is
// refused whole and works once retried, and a sign-out committed just
// before the loss is delivered after it, exactly once. Service comes back
// by itself when the database does.
func TestDatabaseLostAndBack(t *testing.T) {
	c, wire := behindCable(t)
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
	_, challenge := sesametest.PKCE()
	st, loc := get("/oidc/auth?client_id=app-a&response_type=code&scope=openid&state=s&code_challenge_method=S256&code_challenge=" +
		challenge + "&redirect_uri=" + url.QueryEscape("https://app-a.example/callback"))
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
	time.Sleep(2 * time.Second) // the outage lasts; retries and the queue's claims fail meanwhile
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
	if got := app.WaitReceived(1, 90*time.Second); len(got) != 1 {
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

// A database that stops answering without closing anything (packets
// dropped): requests give up at request_timeout with 503 instead of
// hanging, /healthz says so, and all is well again once packets flow.
func TestDatabaseThatStopsAnswering(t *testing.T) {
	c, wire := behindCable(t, "SESAME_REQUEST_TIMEOUT=4s")
	cc := url.Values{"grant_type": {"client_credentials"}}
	if st, m := c.post(t, "/oidc/token", cc, "robot", "robot-secret", ""); st != 200 {
		t.Fatalf("before: %d %v", st, m)
	}
	wire.Freeze()
	// The robot's client record is cached for a minute, so ask for a token
	// whose issuing must write to the database.
	st, m := c.post(t, "/oidc/token", cc, "robot", "robot-secret", "") // c.do fails the test on a 20 s hang
	if st != http.StatusServiceUnavailable || m["error"] != "temporarily_unavailable" {
		t.Errorf("token request with the database silent: %d %v, want 503 temporarily_unavailable", st, m)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get(c.base + "/healthz")
	if err != nil {
		t.Fatalf("/healthz hung with the database silent: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthz with the database silent: %d, want 503", resp.StatusCode)
	}
	wire.Mend()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := c.post(t, "/oidc/token", cc, "robot", "robot-secret", "")
		if st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 30 s of the database answering again: %d", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
