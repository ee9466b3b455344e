package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// floodConfig is the contract's configuration with a confidential m2m
// client whose secret the operator chose (argon2id at the shipped cost),
// the app a person signs in to, and that person. The proxy entry lets the
// botnet variant give each attacker its own address.
const floodConfig = `issuer: %[1]s
listen: %[2]s
database: sqlite://%[3]s
secret_key: flood-test-secret-flood-test-secret
log_level: error
trusted_proxies: [127.0.0.1]
clients:
  - id: reports-job
    secret: reports-job-secret
    type: m2m
  - id: app-a
    secret: app-a-secret
    type: web
    redirect_uris: [https://app-a.example/callback]
    first_party: true
users:
  - username: alice
    password: correct horse battery staple
`

// BenchmarkWrongSecretFlood is issue 11's first attack against the real
// binary on SQLite: 300 concurrent clients send wrong secrets for
// reports-job for ten seconds while a person signs in to app-a again and
// again (authorize, password, code exchange). It reports the process's
// peak RSS (VmHWM) and the person's sign-in latency; it asserts nothing
// about time. The flood comes from one address (client throttling, A3,
// meets it) and from 300 addresses behind a trusted proxy (only admission,
// A4, stands in its way).
//
//	go test -run '^$' -bench WrongSecretFlood -benchtime 1x ./cmd/sesame/
func BenchmarkWrongSecretFlood(b *testing.B) {
	for _, bc := range []struct {
		name string
		from func(worker int) string
	}{
		{"one-address", func(int) string { return "" }},
		{"300-addresses", func(w int) string { return fmt.Sprintf("198.18.%d.%d", w/250, 1+w%250) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				floodOnce(b, 300, 10*time.Second, bc.from)
			}
		})
	}
}

func floodOnce(b *testing.B, workers int, length time.Duration, from func(worker int) string) {
	dir := b.TempDir()
	addr := freeAddr(b)
	base := "http://" + addr
	issuer := base + "/oidc"
	cfgPath := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, floodConfig, issuer, addr, filepath.Join(dir, "sesame.db")), 0o600); err != nil {
		b.Fatal(err)
	}
	proc := start(b, sesameBinary(b), cfgPath)
	pid := proc.Process.Pid

	// Sign-ins before the flood: the process warm, app-a's secret
	// remembered (C3) as it is for any app in use, and the latency of one
	// without a flood to compare with.
	signIn(b, base, issuer)
	began := time.Now()
	signIn(b, base, issuer)
	idle := time.Since(began)
	startRSS := procStatus(b, pid, "VmRSS")
	startCPU := procCPU(b, pid)

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}, Timeout: time.Minute}
	defer hc.CloseIdleConnections()
	ctx, stop := context.WithTimeout(b.Context(), length)
	defer stop()
	var mu sync.Mutex
	statuses := map[int]int{}
	var sent atomic.Int64
	var flood sync.WaitGroup
	for w := range workers {
		flood.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/token", strings.NewReader("grant_type=client_credentials"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("reports-job", fmt.Sprintf("wrong-%d-%d", w, sent.Add(1)))
				if f := from(w); f != "" {
					req.Header.Set("X-Forwarded-For", f)
				}
				status := 0 // a transport error
				if resp, err := hc.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				} else if ctx.Err() != nil {
					return
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}

	var latencies []time.Duration
	for ctx.Err() == nil {
		began := time.Now()
		signIn(b, base, issuer)
		latencies = append(latencies, time.Since(began))
	}
	flood.Wait()
	peak := procStatus(b, pid, "VmHWM")
	serverCPU := procCPU(b, pid) - startCPU

	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(peak/1024, "peak-RSS-MiB")
	b.ReportMetric(startRSS/1024, "start-RSS-MiB")
	b.ReportMetric(ms(idle), "signin-idle-ms")
	b.ReportMetric(ms(latencies[len(latencies)/2]), "signin-p50-ms")
	b.ReportMetric(ms(latencies[len(latencies)-1]), "signin-max-ms")
	b.ReportMetric(float64(len(latencies)), "signins")
	b.ReportMetric(serverCPU.Seconds()/length.Seconds(), "server-cores")
	b.ReportMetric(float64(sent.Load())/length.Seconds(), "wrong-secrets/s")
	for _, st := range []int{401, 429, 503} {
		b.ReportMetric(float64(statuses[st]), fmt.Sprintf("answers-%d", st))
	}
	mu.Lock()
	defer mu.Unlock()
	for st, n := range statuses {
		if st != 401 && st != 429 && st != 503 {
			b.Errorf("%d wrong secrets answered %d", n, st)
		}
	}
}

// signIn is a person signing in to app-a in a fresh browser, and app-a
// redeeming the code. A refusal (the sign-in page's "try again") fails the
// benchmark: the point is that it never comes.
func signIn(b *testing.B, base, issuer string) {
	br := sesametest.NewBrowserFor(b, base)
	verifier, challenge := sesametest.PKCE()
	q := url.Values{"client_id": {"app-a"}, "redirect_uri": {"https://app-a.example/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	p := br.Get(issuer + "/auth?" + q.Encode())
	p = br.Submit(p, map[string]string{"username": "alice", "password": "correct horse battery staple"})
	u, err := url.Parse(p.Location)
	code := ""
	if err == nil {
		code = u.Query().Get("code")
	}
	if code == "" {
		b.Fatalf("sign-in during the flood: %d %q", p.Status, p.Location)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://app-a.example/callback"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app-a", "app-a-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("code exchange during the flood: %d", resp.StatusCode)
	}
}

// procStatus reads one kB figure of /proc/PID/status (VmRSS, VmHWM).
func procStatus(b *testing.B, pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// procCPU is the CPU time (user and system) the process has used, from
// /proc/PID/stat, whose times are in clock ticks of 1/100 s on Linux.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after it. utime and stime are fields 14 and 15 of the line.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %s", pid, raw)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
