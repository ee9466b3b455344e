package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sqlite"
)

// B3, contract: Sesame killed (SIGKILL, not a clean shutdown) after a
// sign-out committed but before its delivery landed sends it after restart:
// none lost, none sent twice.
func TestKilledSesameDeliversAfterRestart(t *testing.T) {
	dir := t.TempDir()
	bin := sesameBinary(t)
	app := sesametest.NewApp(t, "app-a")
	app.Answer(http.StatusServiceUnavailable, http.StatusServiceUnavailable) // the app is down at first
	addr := freeAddr(t)
	issuer := "http://" + addr + "/oidc"
	cfgPath := filepath.Join(dir, "sesame.yaml")
	cfg := fmt.Sprintf(`issuer: %s
listen: %s
database: sqlite://%s
secret_key: kill-test-secret-kill-test-secret
backchannel_wait: 300ms
clients:
  - id: app-a
    secret: app-a-secret
    type: web
    redirect_uris: [https://app-a.example/callback]
    post_logout_redirect_uris: [https://app-a.example/]
    backchannel_logout_uri: %s
    backchannel_logout_session_required: true
    first_party: true
users:
  - username: alice
    password: correct horse battery staple
`, issuer, addr, filepath.Join(dir, "sesame.db"), app.BackchannelURI())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	app.Trust(issuer, time.Now)

	proc := start(t, bin, cfgPath)
	b := sesametest.NewBrowserFor(t, "http://"+addr)
	_, challenge := sesametest.PKCE()
	q := url.Values{"client_id": {"app-a"}, "redirect_uri": {"https://app-a.example/callback"},
		"response_type": {"code"}, "scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	p := b.Get(issuer + "/auth?" + q.Encode())
	p = b.Submit(p, map[string]string{"username": "alice", "password": "correct horse battery staple"})
	if !strings.Contains(p.Location, "code=") {
		t.Fatalf("sign-in: %d %s", p.Status, p.Location)
	}
	p = b.Get(issuer + "/session/end?client_id=app-a")
	if done := b.Submit(p, map[string]string{"logout": "true"}); done.Status != 200 {
		t.Fatalf("sign-out: %d", done.Status)
	}
	_ = proc.Process.Kill() // SIGKILL: no shutdown, no chance to finish anything
	_ = proc.Wait()
	if got := app.Received(); len(got) != 0 {
		t.Fatalf("the app accepted a token while down: %+v", got)
	}

	proc = start(t, bin, cfgPath)
	// A killed instance leaves River's leadership held until it expires
	// (about 15 s); the new instance then takes it up.
	got := app.WaitReceived(1, 60*time.Second)
	if len(got) != 1 {
		t.Fatalf("after restart the app accepted %d tokens (rejected %v), want 1", len(got), app.Rejected())
	}
	time.Sleep(2 * time.Second) // room for a duplicate to show up
	if got := app.Received(); len(got) != 1 {
		t.Errorf("the app accepted %d tokens, want exactly 1", len(got))
	}
	_ = proc.Process.Signal(syscall.SIGTERM)
	if err := proc.Wait(); err != nil {
		t.Errorf("clean shutdown: %v", err)
	}

	st, err := sqlite.OpenURL(t.Context(), "sqlite://"+filepath.Join(dir, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dels, err := st.DeliveriesByClient(t.Context(), "app-a", "", 10)
	if err != nil || len(dels) != 1 {
		t.Fatalf("deliveries %v %v", dels, err)
	}
	if d := dels[0]; d.State != store.DeliveryDelivered || d.ID != got[0].JTI || d.Attempts < 2 {
		t.Errorf("delivery %+v", d)
	}
}

// built is the sesame binary the process tests run, built once.
var built struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// sesameBinary builds this command once for every test that runs it as a
// real process; TestMain removes it.
func sesameBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "sesame-bin-"); built.err != nil {
			return
		}
		built.out, built.err = exec.Command("go", "build", "-o", filepath.Join(built.dir, "sesame"), ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return filepath.Join(built.dir, "sesame")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// start runs the binary with extra environment (SESAME_<KEY>=value) and
// waits for its ready line.
func start(t testing.TB, bin, cfgPath string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if !strings.HasPrefix(line, "sesame listening on ") {
			t.Fatalf("ready line %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sesame did not start")
	}
	return cmd
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
