package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// loadtestConfig is a Sesame configured for the load tool as
// docs/operators.md "Load testing" says: its user, and K first-party web
// clients whose URIs are on the tool's receiver.
func loadtestConfig(t *testing.T, addr, receiver, extra string, apps int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "issuer: http://%s/oidc\nlisten: %s\ndatabase: sqlite://%s\nsecret_key: loadtest-secret-key-0123456789\nlog_level: warn\n%s",
		addr, addr, filepath.Join(dir, "sesame.db"), extra)
	b.WriteString("users:\n  - username: loadtest\n    password: loadtest password 1\nclients:\n")
	for i := 1; i <= apps; i++ {
		fmt.Fprintf(&b, `  - id: loadtest-%d
    secret: loadtest-secret
    type: web
    first_party: true
    redirect_uris: [http://%[2]s/callback]
    post_logout_redirect_uris: [http://%[2]s/]
    backchannel_logout_uri: http://%[2]s/backchannel-logout
    backchannel_logout_session_required: true
`, i, receiver)
	}
	path := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadtestEnv gives the tool its secrets the way the CLI takes them: from
// the environment, never an argument.
func loadtestEnv(k string) string {
	return map[string]string{envLoadSecret: "loadtest-secret", envLoadPassword: "loadtest password 1"}[k]
}

// Issue 12 point 6: every workload, run for a second against a real
// Sesame process, completes operations with no error and prints its
// figures, server CPU per operation included.
func TestLoadtestRunsEveryWorkload(t *testing.T) {
	addr, receiver := freeAddr(t), freeAddr(t)
	start(t, sesameBinary(t), loadtestConfig(t, addr, receiver, "", 3))

	var out, errOut bytes.Buffer
	err := runIO(t.Context(), []string{"loadtest", "--url", "http://" + addr, "--workload", "all", "--concurrency", "2",
		"--duration", "1s", "--apps", "3", "--seed-sessions", "4", "--receiver-addr", receiver},
		loadtestEnv, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("loadtest: %v\nstdout:\n%s\nstderr:\n%s", err, &out, &errOut)
	}
	t.Logf("stdout:\n%s", &out)
	for _, w := range loadWorkloads {
		line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(w) + ` +(\d+) ops .* errors (\d+).*$`).FindStringSubmatch(out.String())
		switch {
		case line == nil:
			t.Errorf("%s: no figures line", w)
		case line[1] == "0":
			t.Errorf("%s: no operation completed: %s", w, line[0])
		case line[2] != "0":
			t.Errorf("%s: errors: %s", w, line[0])
		case !regexp.MustCompile(`p50 \S+ +p99 \S+`).MatchString(line[0]) || !regexp.MustCompile(`server CPU/op \d`).MatchString(line[0]):
			t.Errorf("%s: figures missing: %s", w, line[0])
		}
	}
	if !strings.Contains(errOut.String(), "seeded 4 sessions") {
		t.Errorf("no seeding reported on stderr:\n%s", &errOut)
	}
	if !regexp.MustCompile(`(?m)^\S+ +1s +\d+ ops`).MatchString(errOut.String()) {
		t.Errorf("no progress line on stderr:\n%s", &errOut)
	}
}

// Bad input ends the tool with one readable line, and a secret is never
// taken from an argument (secretinput.go).
func TestLoadtestRefusesBadInput(t *testing.T) {
	addr := freeAddr(t) // nothing listens there
	noSecret := func(k string) string {
		if k == envLoadSecret {
			return ""
		}
		return loadtestEnv(k)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		getenv func(string) string
		want   string
	}{
		{"unknown workload", []string{"--workload", "signup"}, loadtestEnv, `unknown workload "signup"`},
		{"unreachable", nil, loadtestEnv, "cannot reach Sesame"},
		{"no client secret", nil, noSecret, "no client secret"},
		{"secret in an argument", []string{"--client-secret", "s3cret"}, loadtestEnv, "--client-secret is no longer accepted"},
		{"no concurrency", []string{"--concurrency", "0"}, loadtestEnv, "--concurrency must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"loadtest", "--url", "http://" + addr, "--duration", "1s"}, tc.args...)
			err := runIO(t.Context(), args, tc.getenv, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

// metrics_listen (docs/configuration.md): /metrics moves to its own address, with the
// standard process figures, and the main listener no longer serves it.
func TestMetricsListenMovesMetrics(t *testing.T) {
	addr, metrics := freeAddr(t), freeAddr(t)
	start(t, sesameBinary(t), loadtestConfig(t, addr, "127.0.0.1:1", "metrics_listen: "+metrics+"\n", 1))

	body, status := httpGet(t, "http://"+metrics+"/metrics")
	if status != http.StatusOK || !strings.Contains(body, "process_cpu_seconds_total ") || !strings.Contains(body, "go_goroutines ") {
		t.Errorf("metrics_listen /metrics: %d, process_cpu_seconds_total and go_goroutines present: %v %v",
			status, strings.Contains(body, "process_cpu_seconds_total "), strings.Contains(body, "go_goroutines "))
	}
	if _, status := httpGet(t, "http://"+addr+"/metrics"); status != http.StatusNotFound {
		t.Errorf("main listener /metrics answered %d, want 404", status)
	}
	if _, status := httpGet(t, "http://"+addr+"/healthz"); status != http.StatusOK {
		t.Errorf("main listener /healthz answered %d", status)
	}
}

// Without metrics_listen, /metrics is on the main listener, process
// figures included.
func TestMetricsOnMainListener(t *testing.T) {
	addr := freeAddr(t)
	start(t, sesameBinary(t), loadtestConfig(t, addr, "127.0.0.1:1", "", 1))
	body, status := httpGet(t, "http://"+addr+"/metrics")
	if status != http.StatusOK || !strings.Contains(body, "process_cpu_seconds_total ") {
		t.Errorf("/metrics answered %d; process_cpu_seconds_total present: %v", status, strings.Contains(body, "process_cpu_seconds_total "))
	}
}

func httpGet(t *testing.T, u string) (string, int) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return string(b), resp.StatusCode
}
