package e2e

import (
	"bufio"
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
	bin := filepath.Join(t.TempDir(), "sesame")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sesame").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, mode := range []string{"auto", "ask"} {
		t.Run(mode, func(t *testing.T) {
			sesame, app1, app2 := freeAddr(t), freeAddr(t), freeAddr(t)
			demo := exec.Command(bin, "demo", "--addr", sesame, "--app1", app1, "--app2", app2, "--signout-confirm", mode)
			stdout, _ := demo.StdoutPipe()
			if err := demo.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = demo.Process.Signal(os.Interrupt)
				done := make(chan struct{})
				go func() { _ = demo.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					_ = demo.Process.Kill()
				}
			})
			password := ""
			lines := bufio.NewScanner(stdout)
			for lines.Scan() {
				if m := regexp.MustCompile(`password (\S+)`).FindStringSubmatch(lines.Text()); m != nil {
					password = m[1]
					break
				}
			}
			go func() {
				for lines.Scan() {
				}
			}()
			if password == "" {
				t.Fatal("the demo printed no password")
			}
			runNodeFile(t, "playwright-core", "browser.test.mjs",
				"DEMO_APP1=http://"+app1, "DEMO_APP2=http://"+app2, "DEMO_PASSWORD="+password,
				"SESAME_CONFIRM="+mode, "CHROMIUM="+chromium)
		})
	}
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
