package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// A port in use is reported, saying what to do, before anything is
// created: no database, no key file.
func TestServeReportsAPortInUseBeforeCreatingAnything(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"listen", map[string]string{"SESAME_LISTEN": addr},
			"listen " + addr + ": the address is already in use; is another sesame running? set listen or SESAME_LISTEN"},
		{"metrics_listen", map[string]string{"SESAME_LISTEN": "127.0.0.1:0", "SESAME_METRICS_LISTEN": addr},
			"metrics_listen " + addr + ": the address is already in use; is another sesame running? set metrics_listen or SESAME_METRICS_LISTEN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.env["SESAME_DATABASE"] = "sqlite://" + filepath.Join(dir, "sesame.db")
			var stdout bytes.Buffer
			err := run(t.Context(), []string{"serve"}, func(k string) string { return c.env[k] }, &stdout, io.Discard)
			if err == nil || err.Error() != c.want {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("serve created %v before finding the port in use", entries)
			}
			if stdout.Len() != 0 {
				t.Errorf("serve printed %q", stdout.String())
			}
		})
	}
}

// lockedBuffer is a log's writer that the test reads once serve stopped.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serving is a `sesame serve` run in this process.
type serving struct {
	stdout []string // the lines it printed once ready
	stderr *lockedBuffer
	stop   context.CancelFunc
	done   chan error
}

// serveCapturing runs serve with env and the configuration file body,
// capturing its log, until it printed its three ready lines.
func serveCapturing(t *testing.T, env map[string]string, body string) *serving {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "sesame.yaml")
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	s := &serving{stderr: &lockedBuffer{}, stop: cancel, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	go func() {
		s.done <- run(ctx, []string{"serve", "--config", cfgPath}, func(k string) string { return env[k] }, pw, s.stderr)
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	for range 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("serve did not print its ready lines: %v (%v)\n%s", err, <-s.done, s.stderr)
		}
		s.stdout = append(s.stdout, strings.TrimSuffix(line, "\n"))
	}
	go io.Copy(io.Discard, r)
	return s
}

// wait stops serve and returns its log.
func (s *serving) wait(t *testing.T) string {
	t.Helper()
	s.stop()
	waitStopped(t, s.done)
	return s.stderr.String()
}

// One log format, JSON when the log is not a terminal: each request one
// line with its request id, method, path without the query, status and
// duration; every record logged during a request carries its id; and no
// password, client secret, code, token, cookie or Authorization header is
// in the log, at debug level, through a sign-in, a code exchange, a
// refresh, userinfo and introspection. The ready line is the contract's,
// followed by the issuer and account page.
func TestServeLogsOneLinePerRequestAndNoSecret(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	const secretKey = "hunter2-secret-key-of-the-operator"
	env := map[string]string{
		"SESAME_LISTEN": addr, "SESAME_ISSUER": base + "/oidc", "SESAME_LOG_LEVEL": "debug",
		"SESAME_DATABASE": "sqlite://" + filepath.Join(t.TempDir(), "sesame.db"), "SESAME_SECRET_KEY": secretKey,
	}
	s := serveCapturing(t, env, fmt.Sprintf(`clients:
  - id: %s
    secret: %s
    type: web
    first_party: true
    redirect_uris: [%s]
users:
  - username: alice
    password: %s
`, sesametest.AppA, sesametest.Secret, sesametest.RedirectURI(sesametest.AppA), sesametest.Password))

	wantOut := []string{"sesame listening on " + base, "issuer " + base + "/oidc", "account " + base + "/account"}
	for i, want := range wantOut {
		if s.stdout[i] != want {
			t.Errorf("stdout line %d: %q, want %q", i+1, s.stdout[i], want)
		}
	}

	ses := &sesametest.Sesame{URL: base, Issuer: base + "/oidc"}
	b := ses.NewBrowser(t)
	cb := b.SignIn(sesametest.AppA, "alice", sesametest.Offline())
	tok := ses.Exchange(t, sesametest.AppA, cb.Code, "")
	if tok.Status != http.StatusOK || tok.RefreshToken == "" {
		t.Fatalf("exchange: %d %s", tok.Status, tok.Error)
	}
	refreshed := ses.Refresh(t, sesametest.AppA, tok.RefreshToken)
	if st, _ := ses.UserInfo(t, refreshed.AccessToken); st != http.StatusOK {
		t.Errorf("userinfo: %d", st)
	}
	ses.Introspect(t, sesametest.AppA, refreshed.AccessToken)
	// A code replayed, in the query string too: refused, and logged
	// without the code.
	ses.Exchange(t, sesametest.AppA, cb.Code, "")
	if resp, err := http.Get(base + "/oidc/me?access_token=" + refreshed.AccessToken + "&code=" + cb.Code); err == nil {
		resp.Body.Close()
	}
	cookie := b.SessionCookie()
	log := s.wait(t)

	secrets := map[string]string{
		"password": sesametest.Password, "client secret": sesametest.Secret, "code": cb.Code, "secret_key": secretKey,
		"access token": tok.AccessToken, "refresh token": tok.RefreshToken, "ID token": tok.IDToken,
		"rotated refresh token": refreshed.RefreshToken, "session cookie": cookie,
		"Basic credentials": "Basic ", "Bearer credentials": "Bearer ",
	}
	for what, v := range secrets {
		if v == "" {
			t.Fatalf("the test has no %s to look for", what)
		}
		if strings.Contains(log, v) {
			t.Errorf("the log holds the %s", what)
		}
	}

	var requests, signedIn []map[string]any
	ids := map[any]bool{}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		switch rec["msg"] {
		case "request":
			requests = append(requests, rec)
			ids[rec["request_id"]] = true
		case "signed in":
			signedIn = append(signedIn, rec)
		}
	}
	if len(requests) < 6 {
		t.Fatalf("%d request lines, want one per request:\n%s", len(requests), log)
	}
	for _, rec := range requests {
		for _, key := range []string{"request_id", "method", "path", "status", "duration"} {
			if rec[key] == nil || rec[key] == "" {
				t.Errorf("request line without %s: %v", key, rec)
			}
		}
		if rec["level"] != "INFO" || strings.Contains(fmt.Sprint(rec["path"]), "?") {
			t.Errorf("request line %v: want level INFO and a path without its query", rec)
		}
	}
	if len(signedIn) != 1 || !ids[signedIn[0]["request_id"]] {
		t.Errorf("the sign-in record does not carry its request's id: %v", signedIn)
	}
}

// The database's password and secret_key are printed nowhere: not in the
// start-up log, which shows the database masked, nor in the error of a
// database that cannot be reached, nor in a log record or error that
// quotes the password alone.
func TestServePrintsNoDatabasePasswordOrSecretKey(t *testing.T) {
	const secretKey = "hunter2-secret-key-of-the-operator"
	env := map[string]string{
		"SESAME_LISTEN":     "127.0.0.1:0",
		"SESAME_DATABASE":   "postgres://sesame:pa55word@127.0.0.1:1/sesame?sslmode=disable&connect_timeout=2",
		"SESAME_SECRET_KEY": secretKey,
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil {
		t.Fatal("serve started on an unreachable database")
	}
	all := err.Error() + stdout.String() + stderr.String()
	if strings.Contains(all, "pa55word") || strings.Contains(all, secretKey) {
		t.Errorf("printed a secret:\nerror: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), `"database":"postgres://sesame:xxxxx@127.0.0.1:1/sesame?`) {
		t.Errorf("the start-up log does not show the database masked: %s", stderr.String())
	}

	// A driver error or a log record that quotes the password alone.
	dbURL := "postgres://sesame:pa55%2Fword@db.example/sesame?sslmode=require"
	if got := maskedError(errors.New(`connect: password "pa55/word" refused for pa55%2Fword`), dbURL).Error(); strings.Contains(got, "pa55") {
		t.Errorf("maskedError left the password: %s", got)
	}
	var log bytes.Buffer
	cfg := config.Default()
	cfg.Database, cfg.SecretKey, cfg.LogFormat = dbURL, secretKey, config.LogFormatText
	logger := newLogger(cfg, &log)
	logger.Warn("reconnect", "err", errors.New("auth failed for pa55/word"), "detail", `say "pa55/word"`)
	slog.New(logger.Handler()).Info("oops", "dsn", dbURL, "key", secretKey)
	if strings.Contains(log.String(), "pa55") || strings.Contains(log.String(), secretKey) {
		t.Errorf("the log holds a secret: %s", log.String())
	}
}
