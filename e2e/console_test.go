package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sesame-id/sesame/internal/demo"
	"github.com/sesame-id/sesame/rp"
)

// consoleShots are the screenshots of the console that docs/console.md
// shows, as the browser test writes them into e2e/out/console-docs/.
// console-activity.png is taken only when /console/activity answers 200.
var consoleShots = []string{
	"console-apps.png", "console-app.png", "console-users.png",
	"console-user.png", "console-deliveries.png", "console-activity.png",
}

// maxShot bounds a documentation screenshot: they are committed.
const maxShot = 200 << 10

// The operators' console (issue 15) in Chromium, driven as an operator
// drives it: `sesame serve` with an admin (ada, roles: [admin]), a person
// (alice) and the demo app (the demo's sample web app, declared in the
// file, its back-channel endpoint rp/backchannel behind a recorder); the
// browser signs ada in to /console through Sesame's own sign-in page,
// registers two web apps whose redirect and back-channel URIs the node
// test serves (the second's back-channel URI a closed loopback port),
// signs alice in to both with @logto/node configured from the first
// app's snippet, watches her device and grants appear, signs her out
// everywhere, reads the deliveries (one delivered, one refused in words),
// sends test logout tokens, and is refused as alice and from another
// site. See node/console.test.mjs for the steps and what each asserts.
//
// Here: the test logout token the console sent to the demo app reached
// it, for the reserved test subject, and the app answered 200 after
// verifying it. With SESAME_UPDATE_SCREENSHOTS=1 the screenshots are
// copied into docs/console/ (never otherwise, so a run leaves the tree as
// it was).
func TestConsole(t *testing.T) {
	chromium := chromiumPath(t)
	bin := buildSesame(t)
	sesame, app, closed := freeAddr(t), freeAddr(t), freeAddr(t)
	_, appPort, _ := net.SplitHostPort(app)
	issuer := "http://" + sesame + "/oidc"
	demoApp := newBackchannelRecorder(t)
	dir := t.TempDir()
	const adminPassword, userPassword = "the console admin's password", "alice's console test password"
	cfg := fmt.Sprintf(`issuer: %[1]s
listen: %[2]s
database: sqlite://%[3]s/sesame.db
secret_key: a secret key for the console test
log_level: warn
# Every app of this test is on loopback.
allow_private_network_delivery: true
users:
  - username: ada
    password: %[4]s
    name: Ada Operator
    roles: [admin]
  - username: alice
    password: %[5]s
    name: Alice Example
    email: alice@example.com
    email_verified: true
clients:
  - id: demo
    name: Demo app
    secret: demo-secret-for-the-console-test
    type: web
    first_party: true
    redirect_uris: [%[6]s/callback]
    post_logout_redirect_uris: [%[6]s/]
    backchannel_logout_uri: %[6]s/backchannel-logout
    backchannel_logout_session_required: true
`, issuer, sesame, dir, adminPassword, userPassword, demoApp.base())
	config := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLine(t, start(t, exec.Command(bin, "serve", "--config", config)), regexp.MustCompile(`^sesame listening on`))
	demoApp.start(t, issuer, "demo", "demo-secret-for-the-console-test")

	shots := filepath.Join("out", "console-docs")
	if err := os.RemoveAll(shots); err != nil { // no image of an earlier run is copied
		t.Fatal(err)
	}
	update, forDocs := os.Getenv("SESAME_UPDATE_SCREENSHOTS") == "1", "0"
	if update {
		forDocs = "1"
	}
	runNodeFile(t, "playwright-core", "console.test.mjs",
		"SESAME_URL=http://"+sesame, "APP_PORT="+appPort,
		"ADMIN_USERNAME=ada", "ADMIN_PASSWORD="+adminPassword,
		"USER_USERNAME=alice", "USER_PASSWORD="+userPassword,
		"UNREACHABLE_BACKCHANNEL=http://"+closed+"/backchannel-logout",
		"DEMO_CLIENT_ID=demo", "CHROMIUM="+chromium,
		// For the docs, the test waits for the activity counters' first
		// flush (up to a minute), so that the charts are not empty.
		"UPDATE_SCREENSHOTS="+forDocs)

	demoApp.checkTestToken(t, issuer, "demo")
	checkShots(t, shots, update)
}

// backchannelRecorder is the demo app on 127.0.0.1, with a record of each
// logout token posted to its back-channel endpoint and what the app
// answered.
type backchannelRecorder struct {
	ln net.Listener

	mu       sync.Mutex
	received []logoutPost
}

// logoutPost is one post to the back-channel endpoint.
type logoutPost struct {
	token  string
	status int
}

func newBackchannelRecorder(t *testing.T) *backchannelRecorder {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return &backchannelRecorder{ln: ln}
}

func (b *backchannelRecorder) base() string { return "http://" + b.ln.Addr().String() }

// start builds the demo app with Sesame's SDK (discovery needs Sesame up)
// and serves it until the test ends.
func (b *backchannelRecorder) start(t *testing.T, issuer, id, secret string) {
	sessions := demo.NewSessions()
	c, err := rp.New(t.Context(), rp.Config{Issuer: issuer, ClientID: id, ClientSecret: secret,
		RedirectURL: b.base() + "/callback", PostLogoutRedirectURL: b.base() + "/", Sessions: sessions,
		CookieName: id + "_session"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := demo.NewApp("Demo app", id+"_session", issuer, c, sessions, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b.record(app), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(b.ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// record notes the logout token of each back-channel post, and the
// status the app answered it with.
func (b *backchannelRecorder) record(app http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/backchannel-logout" {
			app.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		app.ServeHTTP(sw, r)
		b.mu.Lock()
		b.received = append(b.received, logoutPost{token: form.Get("logout_token"), status: sw.status})
		b.mu.Unlock()
	})
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// checkTestToken asserts that the console's "Send a test logout token"
// reached the demo app: one logout token, for client id, from issuer,
// with the reserved test subject and sid, which the app (rp/backchannel,
// which verifies the signature, iss, aud, iat and events) answered with
// 200.
func (b *backchannelRecorder) checkTestToken(t *testing.T, issuer, id string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.received) != 1 {
		t.Fatalf("the demo app received %d logout tokens, want the console's one test token", len(b.received))
	}
	p := b.received[0]
	if p.status != http.StatusOK {
		t.Errorf("the demo app answered the test logout token with %d, want 200 (it found nobody to sign out)", p.status)
	}
	tok, err := jwt.ParseSigned(p.token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("the demo app received no logout token (%q): %v", p.token, err)
	}
	// The signature was checked by the app's rp/backchannel handler: its
	// 200 says so. The claims are read here to say whose token it was.
	var claims struct {
		jwt.Claims
		SID    string         `json:"sid"`
		Events map[string]any `json:"events"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		t.Fatal(err)
	}
	const prefix = "sesame-test:"
	if claims.Issuer != issuer || !claims.Audience.Contains(id) {
		t.Errorf("test logout token from %q to %v, want from %q to %q", claims.Issuer, claims.Audience, issuer, id)
	}
	if !strings.HasPrefix(claims.Subject, prefix) || !strings.HasPrefix(claims.SID, prefix) {
		t.Errorf("test logout token for sub %q and sid %q, want the reserved test subject (%s...)", claims.Subject, claims.SID, prefix)
	}
	if _, ok := claims.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok {
		t.Errorf("test logout token without the back-channel logout event: %v", claims.Events)
	}
	t.Logf("demo app received the console's test logout token (sub %s) and answered %d", claims.Subject, p.status)
}

// checkShots checks the size of the documentation screenshots the browser
// test wrote into dir and, with update, copies them into docs/console/.
func checkShots(t *testing.T, dir string, update bool) {
	t.Helper()
	docs := filepath.Join("..", "docs", "console")
	if update {
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range consoleShots {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case os.IsNotExist(err) && name == "console-activity.png":
			t.Logf("screenshot %s not taken: /console/activity did not answer 200", name)
			continue
		case err != nil:
			t.Errorf("screenshot %s: %v", name, err)
			continue
		case len(b) > maxShot:
			t.Errorf("screenshot %s is %d KB, more than the %d KB a committed image may take", name, len(b)>>10, maxShot>>10)
			continue
		}
		if !update {
			continue
		}
		if err := os.WriteFile(filepath.Join(docs, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d KB) copied into docs/console/", name, len(b)>>10)
	}
}
