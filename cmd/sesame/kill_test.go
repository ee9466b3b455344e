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
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
)

// B3, contract: Sesame killed (SIGKILL, not a clean shutdown) while its
// deliveries are pending sends every one of them within 15 s of a restart,
// whatever its state at the kill: none lost, none sent twice. App A is down
// (its delivery waits for a retry); app B is in the middle of an attempt
// (the delivery is leased by the killed process), on both databases.
func TestKilledSesameDeliversAfterRestart(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, o sesametest.Options) {
		if o.Database == "" {
			o.Database = "sqlite://" + filepath.Join(t.TempDir(), "sesame.db")
		}
		testKilledSesameDelivers(t, o.Database)
	})
}

func testKilledSesameDelivers(t *testing.T, database string) {
	dir := t.TempDir()
	bin := sesameBinary(t)
	down, hung := sesametest.NewApp(t, "app-a"), sesametest.NewApp(t, "app-b")
	down.Answer(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	hung.Hang(time.Minute) // answers nothing while the first attempt is under way
	addr := freeAddr(t)
	issuer := "http://" + addr + "/oidc"
	cfgPath := filepath.Join(dir, "sesame.yaml")
	cfg := fmt.Sprintf(`issuer: %s
listen: %s
database: %s
secret_key: kill-test-secret-kill-test-secret
backchannel_wait: 300ms
clients:
`, issuer, addr, database)
	for _, app := range []*sesametest.App{down, hung} {
		cfg += fmt.Sprintf(`  - id: %[1]s
    secret: %[1]s-secret
    type: web
    redirect_uris: [https://%[1]s.example/callback]
    post_logout_redirect_uris: [https://%[1]s.example/]
    backchannel_logout_uri: %[2]s
    backchannel_logout_session_required: true
    first_party: true
`, app.ClientID, app.BackchannelURI())
		app.Trust(issuer, time.Now)
	}
	cfg += `users:
  - username: alice
    password: correct horse battery staple
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	proc := start(t, bin, cfgPath)
	b := sesametest.NewBrowserFor(t, "http://"+addr)
	for i, app := range []*sesametest.App{down, hung} {
		_, challenge := sesametest.PKCE()
		q := url.Values{"client_id": {app.ClientID}, "redirect_uri": {"https://" + app.ClientID + ".example/callback"},
			"response_type": {"code"}, "scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		p := b.Get(issuer + "/auth?" + q.Encode())
		if i == 0 {
			p = b.Submit(p, map[string]string{"username": "alice", "password": "correct horse battery staple"})
		}
		if !strings.Contains(p.Location, "code=") {
			t.Fatalf("sign-in to %s: %d %s", app.ClientID, p.Status, p.Location)
		}
	}
	p := b.Get(issuer + "/session/end?client_id=app-a")
	if done := b.Submit(p, map[string]string{"logout": "true"}); done.Status != 200 && done.Status != 303 {
		t.Fatalf("sign-out: %d", done.Status)
	}
	// Kill while app B's attempt is under way and app A's has failed.
	deadline := time.Now().Add(10 * time.Second)
	for (hung.Calls() == 0 || down.Calls() == 0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if hung.Calls() == 0 || down.Calls() == 0 {
		t.Fatalf("first attempts never reached the apps (a %d, b %d)", down.Calls(), hung.Calls())
	}
	_ = proc.Process.Kill() // SIGKILL: no shutdown, no chance to finish anything
	_ = proc.Wait()
	if n := len(down.Received()) + len(hung.Received()); n != 0 {
		t.Fatalf("the apps accepted %d tokens before the restart", n)
	}
	hung.Hang(0)
	down.Answer() // A answers its remaining 503s, then 200

	proc = start(t, bin, cfgPath)
	restarted := time.Now()
	for _, app := range []*sesametest.App{down, hung} {
		if got := app.WaitReceived(1, 15*time.Second-time.Since(restarted)); len(got) != 1 {
			t.Errorf("%s accepted %d tokens within 15 s of the restart (rejected %v), want 1", app.ClientID, len(got), app.Rejected())
		}
	}
	time.Sleep(2 * time.Second) // room for a duplicate to show up
	for _, app := range []*sesametest.App{down, hung} {
		if got := app.Received(); len(got) != 1 {
			t.Errorf("%s accepted %d tokens, want exactly 1", app.ClientID, len(got))
		}
	}
	_ = proc.Process.Signal(syscall.SIGTERM)
	if err := proc.Wait(); err != nil {
		t.Errorf("clean shutdown: %v", err)
	}

	st, err := sqlstore.Open(t.Context(), database, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, app := range []*sesametest.App{down, hung} {
		dels, err := st.DeliveriesByClient(t.Context(), app.ClientID, "", 10)
		if err != nil || len(dels) != 1 {
			t.Fatalf("deliveries of %s: %v %v", app.ClientID, dels, err)
		}
		got := app.Received()
		if d := dels[0]; d.State != store.DeliveryDelivered || len(got) != 1 || d.ID != got[0].JTI || d.Attempts < 1 {
			t.Errorf("delivery to %s: %+v", app.ClientID, d)
		}
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
