package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Bad configuration is one readable error naming every problem, not a panic.
func TestBadConfigurationIsOneReadableError(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(cfg, []byte("issuer: ftp://example.com/oidc?x=1\nsignout_confirm: maybe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"serve", "--config", cfg}, noEnv, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve accepted a bad configuration")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "issuer") || !strings.Contains(msg, "signout_confirm") {
		t.Errorf("error %q: want one line naming issuer and signout_confirm", msg)
	}
	if err := run(t.Context(), []string{"serve", "--config", filepath.Join(dir, "missing.yaml")}, noEnv, io.Discard, io.Discard); err == nil {
		t.Error("serve accepted a missing config file")
	}
}

// contract: serve prints the ready line, /healthz answers 200, and the
// process stops cleanly when its context ends (SIGTERM/SIGINT in main).
// serveInProcess runs `sesame serve` with env and returns its base URL,
// the cancel that stops it, and where its result arrives.
func serveInProcess(t *testing.T, env map[string]string) (string, context.CancelFunc, chan error) {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, pw, io.Discard); pw.Close() }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v (%v)", err, <-done)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "sesame listening on ")
	if !ok {
		t.Fatalf("ready line %q", line)
	}
	go io.Copy(io.Discard, pr)
	return addr, cancel, done
}

// waitStopped fails t unless serve returned cleanly within 30 s.
func waitStopped(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v on shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeStartsAnswersHealthAndStops(t *testing.T) {
	dir := t.TempDir()
	addr, cancel, done := serveInProcess(t, map[string]string{
		"SESAME_LISTEN":   "127.0.0.1:0",
		"SESAME_DATABASE": "sqlite://" + filepath.Join(dir, "sesame.db"),
	})
	resp, err := http.Get(addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(filepath.Join(dir, "sesame.key")); err != nil {
		t.Errorf("no generated secret key next to the database: %v", err)
	}
	cancel()
	waitStopped(t, done)
}

// With shutdown_delay, a stopping instance first fails its health checks
// while still serving everything else, so its load balancer moves traffic
// away before the listener closes.
func TestServeDrainsBeforeStopping(t *testing.T) {
	addr, cancel, done := serveInProcess(t, map[string]string{
		"SESAME_LISTEN":         "127.0.0.1:0",
		"SESAME_DATABASE":       "sqlite://" + filepath.Join(t.TempDir(), "sesame.db"),
		"SESAME_SHUTDOWN_DELAY": "1500ms",
	})
	cancel()
	time.Sleep(300 * time.Millisecond)
	status := func(path string) int {
		resp, err := http.Get(addr + path)
		if err != nil {
			t.Fatalf("%s while draining: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := status("/healthz"); st != http.StatusServiceUnavailable {
		t.Errorf("healthz while draining: %d, want 503", st)
	}
	if st := status("/oidc/.well-known/openid-configuration"); st != 200 {
		t.Errorf("discovery while draining: %d, want 200 (still serving)", st)
	}
	waitStopped(t, done)
}

func TestMigrateCreatesTheDatabase(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SESAME_DATABASE": "sqlite://" + filepath.Join(dir, "m.db")}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"migrate"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.db")); err != nil {
		t.Error(err)
	}
}

func noEnv(string) string { return "" }
