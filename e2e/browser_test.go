package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A real browser against `sesame demo`, once with each signout_confirm
// mode; see node/browser.test.mjs. It needs Debian's chromium (.ci/run
// installs it) and the npm packages; without them it skips outside CI and
// fails in CI.
func TestBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	bin := buildSesame(t)
	for _, mode := range []string{"auto", "ask"} {
		t.Run(mode, func(t *testing.T) {
			sesame, app1, app2, api := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
			demo := exec.Command(bin, "demo", "--addr", sesame, "--app1", app1, "--app2", app2, "--api", api, "--signout-confirm", mode)
			password := waitLine(t, start(t, demo), regexp.MustCompile(`password (\S+)`))[1]
			runNodeFile(t, "playwright-core", "browser.test.mjs",
				"DEMO_APP1=http://"+app1, "DEMO_APP2=http://"+app2, "DEMO_PASSWORD="+password,
				"SESAME_CONFIRM="+mode, "CHROMIUM="+chromium)
		})
	}
}

// A real browser against `sesame serve` with a third-party app, for
// Sesame's own forms (W1, W2): sign-in, consent and the confirm page under
// their CSP with no violation, and the account sign-in posted from a page
// on another site refused; see node/browser-forms.test.mjs.
func TestBrowserForms(t *testing.T) {
	chromium := chromiumPath(t)
	sesame, appPort, password := serveWithShop(t, buildSesame(t), false)
	runNodeFile(t, "playwright-core", "browser-forms.test.mjs",
		"SESAME_URL=http://"+sesame, "APP_PORT="+appPort, "CLIENT_ID=shop", "SESAME_PASSWORD="+password, "CHROMIUM="+chromium)
}

// A real browser at 360 px wide against `sesame serve` with a third-party
// app: every page a person sees (landing, sign-in, a wrong password,
// consent, the confirm page and its Cancel, the account page, error pages,
// the front-channel sign-out page, signed out) passes axe-core's checks of
// labels, headings and contrast, and none scrolls sideways; see
// node/a11y.test.mjs.
func TestBrowserA11y(t *testing.T) {
	chromium := chromiumPath(t)
	sesame, appPort, password := serveWithShop(t, buildSesame(t), true)
	runNodeFile(t, "axe-core", "a11y.test.mjs",
		"SESAME_URL=http://"+sesame, "APP_PORT="+appPort, "CLIENT_ID=shop", "SESAME_PASSWORD="+password, "CHROMIUM="+chromium)
}

// serveWithShop starts bin as `sesame serve` (signout_confirm: ask) with
// the user alice and the third-party web app "Shop" (client id shop),
// whose redirect and post-logout URIs are on appPort, where the node test
// serves it. With frontchannel, Shop also has a front-channel logout page
// there. It returns Sesame's address, the app's port and alice's
// password.
func serveWithShop(t *testing.T, bin string, frontchannel bool) (sesame, appPort, password string) {
	sesame, app := freeAddr(t), freeAddr(t)
	_, appPort, _ = net.SplitHostPort(app)
	dir := t.TempDir()
	password = "a browser test password"
	cfg := fmt.Sprintf(`issuer: http://%[1]s/oidc
listen: %[1]s
database: sqlite://%[2]s/sesame.db
secret_key: a secret key for the browser test
signout_confirm: ask
log_level: warn
users:
  - username: alice
    password: %[3]s
clients:
  - id: shop
    name: Shop
    secret: a secret for the shop app
    type: web
    first_party: false
    redirect_uris: [http://127.0.0.1:%[4]s/callback]
    post_logout_redirect_uris: [http://127.0.0.1:%[4]s/]
`, sesame, dir, password, appPort)
	if frontchannel {
		// The page's refresh comes after what is left of backchannel_wait
		// (Shop has no back-channel URI, so all of it): 10 s leaves axe
		// the time to check the page before it goes on.
		cfg += fmt.Sprintf(`    frontchannel_logout_uri: http://127.0.0.1:%s/frontchannel-logout
    frontchannel_logout_session_required: true
backchannel_wait: 10s
`, appPort)
	}
	config := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLine(t, start(t, exec.Command(bin, "serve", "--config", config)), regexp.MustCompile(`^sesame listening on`))
	return sesame, appPort, password
}

// chromiumPath is Debian's Chromium, or $CHROMIUM; without it the test
// skips outside CI and fails in CI.
func chromiumPath(t *testing.T) string {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s: .ci/run must install it (apt-get install chromium)", chromium)
		}
		t.Skipf("no Chromium at %s: install Debian's chromium to run the browser test", chromium)
	}
	return chromium
}

// buildSesame builds the sesame binary into a temporary directory.
func buildSesame(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "sesame")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sesame").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// start starts cmd, stops it when the test ends (an interrupt, then a
// kill after 15 s), and returns its standard output by line.
func start(t *testing.T, cmd *exec.Cmd) *bufio.Scanner {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	return bufio.NewScanner(stdout)
}

// waitLine reads lines until one matches re and returns its submatches;
// the lines after it are drained so the process never blocks on stdout.
func waitLine(t *testing.T, lines *bufio.Scanner, re *regexp.Regexp) []string {
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			go func() {
				for lines.Scan() {
				}
			}()
			return m
		}
	}
	t.Fatalf("the process ended without printing a line matching %s", re)
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// completed prints the "... completed: flows" lines of a node run, so CI
// shows what each foreign client did.
func completed(t *testing.T, out []byte) {
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "completed:") {
			t.Log(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#")))
		}
	}
}
