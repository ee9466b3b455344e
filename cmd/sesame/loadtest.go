package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
)

// The load tool drives a running Sesame over HTTP with real protocol
// flows, as apps and browsers make them, and reports throughput, latency
// and the server CPU each operation costs (the budget is in
// DEVELOPERS.md). It needs a Sesame configured with its user and clients (docs/operators.md,
// "Load testing").

// loadWorkloads are the workloads, in the order `all` runs them.
var loadWorkloads = []string{"password-sign-in", "sso-sign-in", "refresh", "userinfo", "introspection", "sign-out"}

// loadOptions are the load tool's flags.
type loadOptions struct {
	URL, Issuer, MetricsURL string
	Workload                string
	Concurrency             int
	Duration                time.Duration
	Apps                    int
	SeedSessions            int
	ClientID                string
	ClientSecretFile        string
	Username                string
	PasswordFile            string
	ReceiverAddr            string
}

// Environment variables that may hold the load tool's secrets, when no
// file is named: never an argument (secretinput.go).
const (
	envLoadSecret   = "SESAME_LOADTEST_CLIENT_SECRET"
	envLoadPassword = "SESAME_LOADTEST_PASSWORD"
)

func loadtestCmd(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	var o loadOptions
	secretSrc := &secretSource{What: "client secret", FileFlag: "client-secret-file"}
	passwordSrc := &secretSource{What: "password", FileFlag: "password-file"}
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Drive a running Sesame and print ops/s, p50, p99, errors and server CPU per operation",
		Long: `Drive a running Sesame over HTTP with real protocol flows and print, per
workload, ops/s, p50, p99, errors by kind and the server CPU per operation
(process_cpu_seconds_total from Sesame's /metrics, before and after).

Workloads: ` + strings.Join(loadWorkloads, ", ") + `, or all (each in turn).
Sesame must be configured with the tool's user and clients <client-id>-1 ..
<client-id>-K whose redirect and back-channel URIs are on --receiver-addr
(docs/operators.md, "Load testing"). The client secret and the password come
from --client-secret-file and --password-file, or from the environment
variables ` + envLoadSecret + ` and ` + envLoadPassword + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.ClientSecretFile, o.PasswordFile = secretSrc.File, passwordSrc.File
			return runLoadtest(cmd.Context(), o, getenv, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "http://127.0.0.1:4000", "Sesame's base URL")
	f.StringVar(&o.Issuer, "issuer", "", "the issuer, whose discovery names the endpoints (default: <url>/oidc)")
	f.StringVar(&o.MetricsURL, "metrics-url", "", "where Sesame's /metrics is (default: <url>/metrics; set it when metrics_listen moves it)")
	f.StringVar(&o.Workload, "workload", "all", "one of "+strings.Join(loadWorkloads, ", ")+", or all")
	f.IntVar(&o.Concurrency, "concurrency", 4, "concurrent clients")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "how long each workload runs")
	f.IntVar(&o.Apps, "apps", 2, "sign-out: the number of apps signed in before each global sign-out")
	f.IntVar(&o.SeedSessions, "seed-sessions", 0, "sign in this many sessions before measuring, so the database is not empty")
	f.StringVar(&o.ClientID, "client-id", "loadtest", "the clients are <client-id>-1 .. <client-id>-K; single-app workloads use <client-id>-1")
	f.StringVar(&secretSrc.File, "client-secret-file", "", "file holding the clients' secret (default: $"+envLoadSecret+")")
	f.StringVar(&o.Username, "username", "loadtest", "the user who signs in")
	f.StringVar(&passwordSrc.File, "password-file", "", "file holding the user's password (default: $"+envLoadPassword+")")
	f.StringVar(&o.ReceiverAddr, "receiver-addr", "127.0.0.1:4100", "the tool's own listener: redirect URIs and back-channel logout land there")
	refuseSecretFlag(cmd, "client-secret", secretSrc)
	refuseSecretFlag(cmd, "password", passwordSrc)
	return cmd
}

// loadSecret reads one secret from its file, or else from its environment
// variable.
func loadSecret(src secretSource, env string, getenv func(string) string) (string, error) {
	if src.File != "" {
		return src.readFile()
	}
	if v := getenv(env); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("no %s: name a file with --%s or set %s", src.What, src.FileFlag, env)
}

// runLoadtest checks its input, then runs each workload asked for and
// prints its figures.
func runLoadtest(ctx context.Context, o loadOptions, getenv func(string) string, stdout, stderr io.Writer) error {
	workloads := []string{o.Workload}
	if o.Workload == "all" {
		workloads = loadWorkloads
	} else if !slices.Contains(loadWorkloads, o.Workload) {
		return fmt.Errorf("unknown workload %q: want one of %s, or all", o.Workload, strings.Join(loadWorkloads, ", "))
	}
	switch {
	case o.Concurrency < 1:
		return errors.New("--concurrency must be at least 1")
	case o.Duration <= 0:
		return errors.New("--duration must be positive")
	case o.Apps < 1:
		return errors.New("--apps must be at least 1")
	case o.SeedSessions < 0:
		return errors.New("--seed-sessions must not be negative")
	}
	secret, err := loadSecret(secretSource{What: "client secret", FileFlag: "client-secret-file", File: o.ClientSecretFile}, envLoadSecret, getenv)
	if err != nil {
		return err
	}
	password, err := loadSecret(secretSource{What: "password", FileFlag: "password-file", File: o.PasswordFile}, envLoadPassword, getenv)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(o.URL, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url: %q is not an http(s) URL", o.URL)
	}
	if o.Issuer == "" {
		o.Issuer = base + "/oidc"
	}
	if o.MetricsURL == "" {
		o.MetricsURL = base + "/metrics"
	}

	lt := &loadTester{opts: o, secret: secret, password: password, stderr: stderr,
		transport: &http.Transport{Proxy: nil, MaxIdleConns: 4 * o.Concurrency, MaxIdleConnsPerHost: 4 * o.Concurrency, IdleConnTimeout: time.Minute}}
	defer lt.transport.CloseIdleConnections()
	if err := lt.discover(ctx); err != nil {
		return err
	}
	rcv, err := startReceiver(o.ReceiverAddr)
	if err != nil {
		return err
	}
	defer rcv.close()
	lt.receiver = rcv
	lt.redirectURI = "http://" + rcv.addr + "/callback"
	lt.postLogoutURI = "http://" + rcv.addr + "/"

	// One sign-in first: a misconfiguration is one clear line, not a run
	// full of errors.
	if _, err := lt.signIn(ctx, lt.newBrowser(), lt.clientID(1), "openid", nil); err != nil {
		return fmt.Errorf("a first sign-in as %s with client %s failed: %w (is Sesame configured as docs/operators.md \"Load testing\" says?)",
			o.Username, lt.clientID(1), err)
	}
	if o.SeedSessions > 0 {
		if err := lt.seed(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "sesame loadtest: %s, concurrency %d, %s per workload\n", o.Issuer, o.Concurrency, o.Duration)
	for _, name := range workloads {
		res, err := lt.run(ctx, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintln(stdout, res.String())
	}
	return nil
}

// loadTester is one run of the tool against one Sesame.
type loadTester struct {
	opts             loadOptions
	secret, password string
	stderr           io.Writer
	transport        *http.Transport
	receiver         *receiver
	// The endpoints, from discovery.
	authURL, tokenURL, userinfoURL, introspectURL, endSessionURL string
	redirectURI, postLogoutURI                                   string
}

func (lt *loadTester) clientID(i int) string { return fmt.Sprintf("%s-%d", lt.opts.ClientID, i) }

// discover reads the endpoints from the issuer's discovery document.
func (lt *loadTester) discover(ctx context.Context) error {
	u := strings.TrimSuffix(lt.opts.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("discovery %s: %w", u, err)
	}
	resp, err := (&http.Client{Transport: lt.transport, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Sesame: %w", err)
	}
	defer resp.Body.Close()
	var d struct {
		Auth       string `json:"authorization_endpoint"`
		Token      string `json:"token_endpoint"`
		UserInfo   string `json:"userinfo_endpoint"`
		Introspect string `json:"introspection_endpoint"`
		EndSession string `json:"end_session_endpoint"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("discovery %s answered %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&d); err != nil {
		return fmt.Errorf("discovery %s: %w", u, err)
	}
	if d.Auth == "" || d.Token == "" || d.UserInfo == "" || d.Introspect == "" || d.EndSession == "" {
		return fmt.Errorf("discovery %s lacks an endpoint the load tool uses", u)
	}
	lt.authURL, lt.tokenURL, lt.userinfoURL, lt.introspectURL, lt.endSessionURL = d.Auth, d.Token, d.UserInfo, d.Introspect, d.EndSession
	return nil
}

// seed signs in SeedSessions sessions, each with its code exchanged, so
// the workloads run against a database that is not empty.
func (lt *loadTester) seed(ctx context.Context) error {
	var next, failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range lt.opts.Concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(lt.opts.SeedSessions) && ctx.Err() == nil {
				if _, err := lt.signIn(ctx, lt.newBrowser(), lt.clientID(1), "openid", nil); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("seeding: %d of %d sign-ins failed, the first with %v", n, lt.opts.SeedSessions, firstErr.Load())
	}
	fmt.Fprintf(lt.stderr, "seeded %d sessions in %s\n", lt.opts.SeedSessions, time.Since(start).Round(time.Millisecond))
	return ctx.Err()
}

// worker is one concurrent client: its browser and the tokens its
// workload reuses.
type worker struct {
	browser      *http.Client
	refreshToken string
	accessToken  string
}

// workload is a setup run once per worker, unmeasured, and an operation
// run in a loop, measured. An operation may return the duration to count
// instead of its whole time (sign-out counts from end-session on).
type workload struct {
	setup func(ctx context.Context, w *worker) error
	op    func(ctx context.Context, w *worker) (time.Duration, error)
	// note qualifies the figures, when they measure less than the whole
	// operation.
	note string
}

func (lt *loadTester) workload(name string) workload {
	c1 := lt.clientID(1)
	signedIn := func(ctx context.Context, w *worker) error {
		w.browser = lt.newBrowser()
		_, err := lt.signIn(ctx, w.browser, c1, "openid", nil)
		return err
	}
	withTokens := func(ctx context.Context, w *worker) error {
		tok, err := lt.signIn(ctx, lt.newBrowser(), c1, "openid profile email offline_access", url.Values{"prompt": {"consent"}})
		if err != nil {
			return err
		}
		if tok.RefreshToken == "" {
			return errors.New("no refresh token: the client needs the refresh_token grant type and first_party: true")
		}
		w.accessToken, w.refreshToken = tok.AccessToken, tok.RefreshToken
		return nil
	}
	switch name {
	case "password-sign-in":
		return workload{op: func(ctx context.Context, _ *worker) (time.Duration, error) {
			_, err := lt.signIn(ctx, lt.newBrowser(), c1, "openid", nil)
			return 0, err
		}}
	case "sso-sign-in":
		return workload{setup: signedIn, op: func(ctx context.Context, w *worker) (time.Duration, error) {
			_, err := lt.signIn(ctx, w.browser, c1, "openid", nil)
			return 0, err
		}}
	case "refresh":
		return workload{setup: withTokens, op: func(ctx context.Context, w *worker) (time.Duration, error) {
			tok, err := lt.token(ctx, c1, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refreshToken}})
			if err != nil {
				return 0, err
			}
			if tok.RefreshToken == "" {
				return 0, opErr("no refresh token in the answer")
			}
			w.refreshToken = tok.RefreshToken // rotation: each worker keeps its own chain
			return 0, nil
		}}
	case "userinfo":
		return workload{setup: withTokens, op: func(ctx context.Context, w *worker) (time.Duration, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, lt.userinfoURL, nil)
			if err != nil {
				return 0, err
			}
			req.Header.Set("Authorization", "Bearer "+w.accessToken)
			var claims struct {
				Sub string `json:"sub"`
			}
			if err := lt.doJSON(req, &claims); err != nil {
				return 0, err
			}
			if claims.Sub == "" {
				return 0, opErr("userinfo without sub")
			}
			return 0, nil
		}}
	case "introspection":
		return workload{setup: withTokens, op: func(ctx context.Context, w *worker) (time.Duration, error) {
			req, err := lt.clientPost(ctx, lt.introspectURL, c1, url.Values{"token": {w.accessToken}})
			if err != nil {
				return 0, err
			}
			var ans struct {
				Active bool `json:"active"`
			}
			if err := lt.doJSON(req, &ans); err != nil {
				return 0, err
			}
			if !ans.Active {
				return 0, opErr("token not active")
			}
			return 0, nil
		}}
	case "sign-out":
		return workload{op: lt.signOut,
			note: fmt.Sprintf("latency from end-session to the last of %d logout tokens; ops/s and CPU include the sign-ins before each", lt.opts.Apps)}
	}
	panic("unknown workload " + name) // runLoadtest checked the name
}

// signOut signs a new browser in to K apps (a password sign-in, then K-1
// SSO sign-ins), then signs out as the first app would send it, and waits
// for the K back-channel logout tokens. It counts from end-session to the
// last token received.
func (lt *loadTester) signOut(ctx context.Context, _ *worker) (time.Duration, error) {
	b := lt.newBrowser()
	var sids []string
	var hint string
	for i := 1; i <= lt.opts.Apps; i++ {
		tok, err := lt.signIn(ctx, b, lt.clientID(i), "openid", nil)
		if err != nil {
			return 0, err
		}
		claims, err := jwtClaims(tok.IDToken)
		if err != nil || claims.Sid == "" {
			return 0, opErr("ID token without sid")
		}
		sids = append(sids, claims.Sid)
		if i == 1 {
			hint = tok.IDToken
		}
	}
	done := lt.receiver.expect(sids)
	defer lt.receiver.forget(sids)
	start := time.Now()
	q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {lt.postLogoutURI}, "state": {"loadtest"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lt.endSessionURL+"?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Referer", lt.postLogoutURI) // as the app's page sends it
	p, err := lt.browse(b, req)
	if err != nil {
		return 0, err
	}
	if p.status == http.StatusOK && strings.Contains(p.body, "<form") {
		action, form, err := firstForm(p)
		if err != nil {
			return 0, err
		}
		form.Set("logout", "true")
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(form.Encode()))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if p, err = lt.browse(b, req); err != nil {
			return 0, err
		}
	}
	if p.location == "" || !strings.HasPrefix(p.location, lt.postLogoutURI) {
		return 0, statusErr("sign-out", p)
	}
	select {
	case <-done:
		return time.Since(start), nil
	case <-time.After(30 * time.Second):
		return 0, opErr("logout tokens not all received within 30 s")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// tokens is a token endpoint's answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// pkce is the verifier and S256 challenge of one authorization request.
func pkce() (verifier, challenge string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	verifier = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// signIn runs an authorization request in browser b as the person would:
// the sign-in page is filled when it shows (its hidden inputs kept), and
// the code that reaches the app is exchanged with PKCE's verifier.
func (lt *loadTester) signIn(ctx context.Context, b *http.Client, clientID, scope string, extra url.Values) (tokens, error) {
	verifier, challenge := pkce()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {lt.redirectURI}, "response_type": {"code"}, "scope": {scope},
		"state": {"loadtest"}, "nonce": {"loadtest"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lt.authURL+"?"+q.Encode(), nil)
	if err != nil {
		return tokens{}, err
	}
	p, err := lt.browse(b, req)
	if err != nil {
		return tokens{}, err
	}
	if p.status == http.StatusOK && strings.Contains(p.body, `name="password"`) {
		action, form, err := firstForm(p)
		if err != nil {
			return tokens{}, err
		}
		form.Set("username", lt.opts.Username)
		form.Set("password", lt.password)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(form.Encode()))
		if err != nil {
			return tokens{}, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if p, err = lt.browse(b, req); err != nil {
			return tokens{}, err
		}
	}
	if !strings.HasPrefix(p.location, lt.redirectURI) {
		return tokens{}, statusErr("sign-in", p)
	}
	cb, err := url.Parse(p.location)
	if err != nil {
		return tokens{}, opErr("bad callback")
	}
	if e := cb.Query().Get("error"); e != "" {
		return tokens{}, opErr("authorize " + e)
	}
	code := cb.Query().Get("code")
	if code == "" {
		return tokens{}, opErr("callback without code")
	}
	tok, err := lt.token(ctx, clientID, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {lt.redirectURI}, "code_verifier": {verifier}})
	if err != nil {
		return tokens{}, err
	}
	if tok.IDToken == "" || tok.AccessToken == "" {
		return tokens{}, opErr("token answer without id_token or access_token")
	}
	return tok, nil
}

// token posts a grant to the token endpoint as clientID.
func (lt *loadTester) token(ctx context.Context, clientID string, form url.Values) (tokens, error) {
	req, err := lt.clientPost(ctx, lt.tokenURL, clientID, form)
	if err != nil {
		return tokens{}, err
	}
	var tok tokens
	err = lt.doJSON(req, &tok)
	return tok, err
}

// clientPost is a form post authenticated as clientID
// (client_secret_basic).
func (lt *loadTester) clientPost(ctx context.Context, u, clientID string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(lt.secret))
	return req, nil
}

// doJSON makes an API request and decodes its 200 answer.
func (lt *loadTester) doJSON(req *http.Request, into any) error {
	resp, err := (&http.Client{Transport: lt.transport, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return transportErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return transportErr(err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return opErr(strings.TrimSpace(fmt.Sprintf("http %d %s", resp.StatusCode, e.Error)))
	}
	if err := json.Unmarshal(body, into); err != nil {
		return opErr("answer is not JSON")
	}
	return nil
}

// newBrowser is a new browser: its own cookies, the shared connections,
// and redirects left to browse.
func (lt *loadTester) newBrowser() *http.Client {
	jar, _ := newJar()
	return &http.Client{Transport: lt.transport, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// page is one answer as a browser sees it.
type page struct {
	url      *url.URL
	status   int
	body     string
	location string // absolute
}

// browse makes req in browser b and follows redirects while they stay on
// Sesame's origin; it stops at one that leaves it (to the app).
func (lt *loadTester) browse(b *http.Client, req *http.Request) (page, error) {
	issuer, _ := url.Parse(lt.authURL)
	for range 10 {
		resp, err := b.Do(req)
		if err != nil {
			return page{}, transportErr(err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return page{}, transportErr(err)
		}
		p := page{url: req.URL, status: resp.StatusCode, body: string(body)}
		if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			next, err := req.URL.Parse(loc)
			if err != nil {
				return page{}, opErr("bad Location")
			}
			p.location = next.String()
			if next.Scheme != issuer.Scheme || next.Host != issuer.Host {
				return p, nil
			}
			if req, err = http.NewRequestWithContext(req.Context(), http.MethodGet, p.location, nil); err != nil {
				return page{}, err
			}
			continue
		}
		return p, nil
	}
	return page{}, opErr("too many redirects")
}

// receiver is the tool's own listener: the redirect URIs land there (the
// tool reads the Location instead, so they are never called), and so do
// the back-channel logout tokens, which it matches to the sign-outs
// waiting for them by sid.
type receiver struct {
	addr    string
	srv     *http.Server
	mu      sync.Mutex
	waiting map[string]*delivery // by sid
}

// delivery is one sign-out waiting for its logout tokens.
type delivery struct {
	left int
	done chan struct{}
}

func startReceiver(addr string) (*receiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--receiver-addr: listen on %s: %w", addr, err)
	}
	r := &receiver{addr: ln.Addr().String(), waiting: map[string]*delivery{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /backchannel-logout", r.backchannel)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "sesame loadtest receiver") })
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) close() { _ = r.srv.Close() }

// expect registers a sign-out of these sids; the channel closes when a
// logout token arrived for each.
func (r *receiver) expect(sids []string) <-chan struct{} {
	d := &delivery{left: len(sids), done: make(chan struct{})}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sid := range sids {
		r.waiting[sid] = d
	}
	return d.done
}

func (r *receiver) forget(sids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sid := range sids {
		delete(r.waiting, sid)
	}
}

// backchannel accepts a logout token. It reads the sid without checking
// the signature: the tool measures, the apps' SDKs verify.
func (r *receiver) backchannel(w http.ResponseWriter, req *http.Request) {
	claims, err := jwtClaims(req.PostFormValue("logout_token"))
	if err != nil {
		http.Error(w, "bad logout_token", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if d := r.waiting[claims.Sid]; d != nil {
		delete(r.waiting, claims.Sid)
		if d.left--; d.left == 0 {
			close(d.done)
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// jwtClaims decodes the claims the tool reads from a JWT, unverified.
func jwtClaims(jwt string) (struct{ Sid string }, error) {
	var c struct {
		Sid string `json:"sid"`
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return struct{ Sid string }{}, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	return struct{ Sid string }{c.Sid}, err
}
