package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
)

// roundRobin is a load balancer in front of Sesame instances: each request
// goes to the next instance in turn, unless the test pins one to show a
// step running on a given instance.
type roundRobin struct {
	proxies []*httputil.ReverseProxy
	next    atomic.Uint64
	pin     atomic.Int32 // -1: round robin
	served  []atomic.Int64
}

func newRoundRobin(addrs ...string) *roundRobin {
	rr := &roundRobin{served: make([]atomic.Int64, len(addrs))}
	rr.pin.Store(-1)
	for _, a := range addrs {
		target := &url.URL{Scheme: "http", Host: a}
		rr.proxies = append(rr.proxies, &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // Sesame sees the public host, as behind any load balancer
		}})
	}
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(rr.pin.Load())
	if i < 0 {
		i = int(rr.next.Add(1) % uint64(len(rr.proxies)))
	}
	rr.served[i].Add(1)
	rr.proxies[i].ServeHTTP(w, r)
}

// cluster is Sesame run as real `sesame serve` processes on one database,
// behind a round-robin proxy at base.
type cluster struct {
	base, issuer string
	cfgPath      string
	lb           *roundRobin
	apps         map[string]*sesametest.App
}

const clusterConfig = `issuer: %[1]s
listen: 127.0.0.1:0
database: %[2]s
secret_key: cluster-test-secret-cluster-test-secret
backchannel_wait: 3s
sweep_interval: 1s
admin_clients: [robot]
clients:
  - id: app-a
    secret: app-a-secret
    type: web
    redirect_uris: [https://app-a.example/callback]
    post_logout_redirect_uris: [https://app-a.example/]
    backchannel_logout_uri: %[3]s
    backchannel_logout_session_required: true
    first_party: true
  - id: app-b
    secret: app-b-secret
    type: web
    redirect_uris: [https://app-b.example/callback]
    post_logout_redirect_uris: [https://app-b.example/]
    backchannel_logout_uri: %[4]s
    backchannel_logout_session_required: true
    first_party: true
  - id: robot
    secret: robot-secret
    type: m2m
users:
  - username: alice
    password: correct horse battery staple
`

// clusterPeople is how many accounts besides alice the cluster has.
const clusterPeople = 12

// startCluster starts n instances on dbURL behind a round-robin proxy,
// with extra environment (SESAME_<KEY>=value) for each.
func startCluster(t *testing.T, n int, dbURL string, env ...string) *cluster {
	t.Helper()
	bin := sesameBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{base: "http://" + ln.Addr().String(), apps: map[string]*sesametest.App{}}
	c.issuer = c.base + "/oidc"
	c.cfgPath = filepath.Join(t.TempDir(), "sesame.yaml")
	cfgPath := c.cfgPath
	for _, id := range []string{"app-a", "app-b"} {
		c.apps[id] = sesametest.NewApp(t, id)
		c.apps[id].Trust(c.issuer, time.Now)
	}
	cfg := fmt.Sprintf(clusterConfig, c.issuer, dbURL, c.apps["app-a"].BackchannelURI(), c.apps["app-b"].BackchannelURI())
	// The people of the concurrency test: one account each, as people
	// have (one account signing in a dozen times at once from one address
	// is what the sign-in throttle counts as guessing, A3).
	for i := range clusterPeople {
		cfg += fmt.Sprintf("  - username: person-%d\n    password: correct horse battery staple\n", i)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	procs := make(chan error, n)
	for range n {
		addr := freeAddr(t)
		addrs = append(addrs, addr)
		go func() { // instances start together, as after a deploy
			defer func() { procs <- nil }()
			start(t, bin, cfgPath, append([]string{"SESAME_LISTEN=" + addr}, env...)...)
		}()
	}
	for range n {
		<-procs
	}
	c.lb = newRoundRobin(addrs...)
	srv := &http.Server{Handler: c.lb}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return c
}

// on pins the next requests to instance i (-1: round robin again).
func (c *cluster) on(i int) { c.lb.pin.Store(int32(i)) }

// post posts a form under the issuer as a client (basic auth) or with a
// bearer token, and decodes the JSON answer.
func (c *cluster) post(t *testing.T, path string, form url.Values, user, pass, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return c.do(t, req)
}

func (c *cluster) do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// authorize runs an authorization request in the browser and returns the
// code, signing in when the sign-in page shows; it reports whether it did.
func (c *cluster) authorize(t *testing.T, b *sesametest.Browser, clientID string, extra url.Values) (code string, typedPassword bool) {
	t.Helper()
	return c.authorizeAs(t, b, "alice", clientID, extra)
}

// authorizeAs is authorize signing in as username when asked.
func (c *cluster) authorizeAs(t *testing.T, b *sesametest.Browser, username, clientID string, extra url.Values) (code string, typedPassword bool) {
	t.Helper()
	_, challenge := sesametest.PKCE()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {"https://" + clientID + ".example/callback"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	p := b.Get(c.issuer + "/auth?" + q.Encode())
	if sesametest.IsSignInPage(p) {
		typedPassword = true
		p = b.Submit(p, map[string]string{"username": username, "password": "correct horse battery staple"})
	}
	u, err := url.Parse(p.Location)
	if err != nil || !strings.HasPrefix(p.Location, "https://"+clientID+".example/callback") {
		t.Fatalf("%s: authorization ended at %d %q", clientID, p.Status, p.Location)
	}
	return u.Query().Get("code"), typedPassword
}

func (c *cluster) exchange(t *testing.T, clientID, code string) map[string]any {
	t.Helper()
	verifier, _ := sesametest.PKCE()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://" + clientID + ".example/callback"}, "code_verifier": {verifier}}
	st, m := c.post(t, "/oidc/token", form, clientID, clientID+"-secret", "")
	// A4: while the client's secret is not yet remembered, a burst of
	// first exchanges can fill the argon2id pool, which answers 503
	// temporarily_unavailable with Retry-After; an app tries again, and
	// the code, not consumed, still works.
	for try := 0; st == http.StatusServiceUnavailable && m["error"] == "temporarily_unavailable" && try < 5; try++ {
		time.Sleep(time.Second)
		st, m = c.post(t, "/oidc/token", form, clientID, clientID+"-secret", "")
	}
	if st != 200 {
		t.Fatalf("%s: code exchange %d %v", clientID, st, m)
	}
	return m
}

func (c *cluster) userinfo(t *testing.T, accessToken string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.issuer+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	st, _ := c.do(t, req)
	return st
}

// jwksSize counts the keys the JWKS publishes.
func (c *cluster) jwksSize(t *testing.T) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.issuer+"/jwks", nil)
	_, m := c.do(t, req)
	ks, _ := m["keys"].([]any)
	return len(ks)
}

// sidOf reads the sid of an ID token (its signature is checked by the
// apps' logout-token verification, which uses the same keys).
func sidOf(t *testing.T, idToken string) string {
	t.Helper()
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q", idToken)
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		SID string `json:"sid"`
	}
	_ = json.Unmarshal(b, &claims)
	return claims.SID
}

// Two `sesame serve` processes on one PostgreSQL database behind a
// round-robin proxy are one Sesame: a sign-in on one instance is SSO and
// refresh on the other, a sign-out on either ends everything and each
// app hears of it exactly once, and a client changed through one is seen
// by the other within a second (LISTEN/NOTIFY: on PostgreSQL a cached
// client otherwise lives a minute).
func TestTwoInstancesBehindALoadBalancer(t *testing.T) {
	c := startCluster(t, 2, pgtest.FreshDB(t))
	b := sesametest.NewBrowserFor(t, c.base)

	c.on(0) // sign in to app-a on instance 0
	codeA, typed := c.authorize(t, b, "app-a", nil)
	if !typed {
		t.Fatal("the first sign-in did not ask for the password")
	}
	c.on(1) // everything else on instance 1
	tokA := c.exchange(t, "app-a", codeA)
	codeB, typed := c.authorize(t, b, "app-b", url.Values{"scope": {"openid offline_access"}, "prompt": {"consent"}})
	if typed {
		t.Error("SSO into app-b on the other instance asked for the password")
	}
	tokB := c.exchange(t, "app-b", codeB)
	st, refreshed := c.post(t, "/oidc/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tokB["refresh_token"].(string)}}, "app-b", "app-b-secret", "")
	if st != 200 {
		t.Fatalf("refresh on the other instance: %d %v", st, refreshed)
	}

	c.on(-1) // round robin from here
	for i := range 4 {
		if st := c.userinfo(t, tokA["access_token"].(string)); st != 200 {
			t.Errorf("userinfo %d through the balancer: %d", i, st)
		}
	}
	p := b.Get(c.issuer + "/session/end?client_id=app-a&post_logout_redirect_uri=" + url.QueryEscape("https://app-a.example/"))
	done := b.Submit(p, map[string]string{"logout": "true"})
	if !strings.HasPrefix(done.Location, "https://app-a.example/") {
		t.Fatalf("global sign-out ended at %d %q", done.Status, done.Location)
	}
	for id, tok := range map[string]map[string]any{"app-a": tokA, "app-b": tokB} {
		got := c.apps[id].WaitReceived(1, 10*time.Second)
		if len(got) != 1 || got[0].SID != sidOf(t, tok["id_token"].(string)) {
			t.Errorf("%s received %+v (rejected %v), want one logout for its sid", id, got, c.apps[id].Rejected())
		}
	}
	for i := range 2 {
		c.on(i)
		if code, typed := c.authorize(t, b, "app-a", nil); !typed || code == "" {
			t.Errorf("after sign-out, instance %d signed app-a in without a password", i)
		}
		_ = b.Submit(b.Get(c.issuer+"/session/end?client_id=app-a"), map[string]string{"logout": "true"})
	}
	c.on(-1)
	if st := c.userinfo(t, tokA["access_token"].(string)); st != 401 {
		t.Errorf("app-a's access token after global sign-out: %d", st)
	}
	st, m := c.post(t, "/oidc/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {refreshed["refresh_token"].(string)}}, "app-b", "app-b-secret", "")
	if st != 200 {
		t.Errorf("app-b's offline refresh token after global sign-out: %d %v", st, m)
	}

	// A client added through instance 0 works at once on instance 1; one
	// deleted through instance 0 stops working on instance 1, whose cache
	// held it, within a second.
	c.on(0)
	_, adm := c.post(t, "/oidc/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"sesame:admin"}}, "robot", "robot-secret", "")
	admin, _ := adm["access_token"].(string)
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/clients", strings.NewReader(`{"id":"late","type":"m2m"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	st, created := c.do(t, req)
	if st != 201 {
		t.Fatalf("create client through instance 0: %d %v", st, created)
	}
	secret, _ := created["secret"].(string)
	c.on(1)
	cc := url.Values{"grant_type": {"client_credentials"}}
	if st, m := c.post(t, "/oidc/token", cc, "late", secret, ""); st != 200 {
		t.Fatalf("the new client on instance 1: %d %v", st, m)
	}
	c.on(0)
	req, _ = http.NewRequest(http.MethodDelete, c.base+"/api/clients/late", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	if st, m := c.do(t, req); st != 204 && st != 200 {
		t.Fatalf("delete client through instance 0: %d %v", st, m)
	}
	c.on(1)
	deadline := time.Now().Add(time.Second)
	for {
		st, _ := c.post(t, "/oidc/token", cc, "late", secret, "")
		if st == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance 1 still accepts the client deleted through instance 0 after a second: %d", st)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The two instances started together on an empty database, and made
	// one key per algorithm between them, not one each.
	for i := range 2 {
		c.on(i)
		if n := c.jwksSize(t); n != 2 {
			t.Errorf("instance %d publishes %d keys, want 2 (one ES256, one RS256)", i, n)
		}
	}

	// A key rotated from the command line (a third process) is published
	// by both instances within a second.
	var out strings.Builder
	rot := exec.Command(sesameBinary(t), "keys", "rotate", "--alg", "ES256", "--publish-ahead", "1h", "--config", c.cfgPath)
	rot.Stdout, rot.Stderr = &out, &out
	if err := rot.Run(); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out.String())
	}
	for i := range 2 {
		c.on(i)
		deadline := time.Now().Add(time.Second)
		for c.jwksSize(t) != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("instance %d does not publish the rotated key a second later (%d keys)", i, c.jwksSize(t))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	c.on(-1)

	time.Sleep(2 * time.Second) // room for a duplicate delivery from either instance
	for id, app := range c.apps {
		// The global sign-out plus the two sign-outs of app-a's check.
		want := map[string]int{"app-a": 3, "app-b": 1}[id]
		if got := app.Received(); len(got) != want {
			t.Errorf("%s received %d logout tokens, want %d (each delivered exactly once)", id, len(got), want)
		}
	}
	if c.lb.served[0].Load() == 0 || c.lb.served[1].Load() == 0 {
		t.Errorf("requests served: %d and %d, want both instances used", c.lb.served[0].Load(), c.lb.served[1].Load())
	}
}

// Many people at once through the round-robin proxy: each signs in to
// app-a, reaches app-b by SSO and signs out, every step landing on
// whichever instance the balancer picks. Both instances' delivery workers
// run; every app still hears of every sign-out exactly once, with the sid
// of that person's session.
func TestTwoInstancesUnderConcurrentSignOuts(t *testing.T) {
	c := startCluster(t, 2, pgtest.FreshDB(t))
	const people = clusterPeople
	sids := make([]map[string]string, people)
	var wg sync.WaitGroup
	for i := range people {
		wg.Go(func() {
			b := sesametest.NewBrowserFor(t, c.base)
			person := fmt.Sprint("person-", i)
			codeA, _ := c.authorizeAs(t, b, person, "app-a", nil)
			codeB, typed := c.authorizeAs(t, b, person, "app-b", nil)
			if typed {
				t.Errorf("person %d: SSO into app-b asked for the password", i)
			}
			tokA, tokB := c.exchange(t, "app-a", codeA), c.exchange(t, "app-b", codeB)
			sids[i] = map[string]string{"app-a": sidOf(t, tokA["id_token"].(string)), "app-b": sidOf(t, tokB["id_token"].(string))}
			done := b.Submit(b.Get(c.issuer+"/session/end?client_id=app-a"), map[string]string{"logout": "true"})
			if done.Status != 200 {
				t.Errorf("person %d: sign-out %d", i, done.Status)
			}
		})
	}
	wg.Wait()
	for id, app := range c.apps {
		app.WaitReceived(people, 30*time.Second)
		time.Sleep(2 * time.Second) // room for duplicates
		got := app.Received()
		jtis, bySID := map[string]bool{}, map[string]int{}
		for _, l := range got {
			jtis[l.JTI] = true
			bySID[l.SID]++
		}
		if len(got) != people || len(jtis) != people {
			t.Errorf("%s received %d logout tokens (%d distinct), want %d, each once", id, len(got), len(jtis), people)
		}
		for i := range people {
			if bySID[sids[i][id]] != 1 {
				t.Errorf("%s heard %d times of person %d's sign-out, want 1", id, bySID[sids[i][id]], i)
			}
		}
	}
	if c.lb.served[0].Load() == 0 || c.lb.served[1].Load() == 0 {
		t.Errorf("requests served: %d and %d, want both instances used", c.lb.served[0].Load(), c.lb.served[1].Load())
	}
}
