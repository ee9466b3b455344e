package oidc_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/store"
)

// Benchmarks of the budget in DEVELOPERS.md: each calls the real handler stack directly
// (no network), so ns/op is the server's time per operation, and cpu-ns/op
// the CPU it used (user + system, from getrusage), which is what the budget
// counts: SQLite's fsync at commit is waiting, not CPU. They report; they
// never fail on a time.

// serve runs one request through the whole server.
func serve(s *sesametest.Sesame, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Server.ServeHTTP(rec, req)
	return rec
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op b.N times and reports CPU per op. On PostgreSQL it also
// reports the database server's CPU per op (pg-cpu-ns/op), read from the
// local server's processes, since Sesame's own CPU leaves out the work it
// hands to the database: the two together are the server CPU the budget
// compares with SQLite's, which runs in Sesame's process.
func measure(b *testing.B, op func()) {
	pg := os.Getenv("SESAME_BENCH_DB") == "postgres"
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	var pgStart time.Duration
	if pg {
		pgStart = postgresCPU(b)
	}
	n := 0
	for b.Loop() {
		op()
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
	if pg {
		b.ReportMetric(float64(postgresCPU(b)-pgStart)/float64(n), "pg-cpu-ns/op")
	}
}

// postgresCPU is the CPU time (user + system) of every process named
// postgres on this machine, from /proc (Linux), in clock ticks of 10 ms:
// a benchmark of a few thousand operations spans hundreds of them.
func postgresCPU(b *testing.B) time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatalf("PostgreSQL's CPU: %v", err)
	}
	var ticks int64
	for _, d := range dirs {
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // not a process, or one that ended
		}
		// pid (comm) state ppid ...: comm may hold spaces, so fields are
		// counted after its closing parenthesis; utime and stime are the
		// 14th and 15th fields of the line.
		open, end := strings.IndexByte(string(raw), '('), strings.LastIndexByte(string(raw), ')')
		if open < 0 || end < open || string(raw[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(raw[end+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// conn is the reader a keep-alive connection reads its requests with, reset
// for each request: httptest.NewRequest allocates a new 4 KB reader per
// request, which was the largest allocation of a userinfo benchmark and
// is the benchmark's cost, not the server's (net/http keeps one per
// connection). Benchmarks run one at a time, so one will do.
var conn = bufio.NewReader(nil)

// newRequest is the request a server reads for method and target (an
// absolute http URL), with body: the request line and Host parsed by
// http.ReadRequest, as by httptest.NewRequest, with its client address.
func newRequest(method, target string, body string) *http.Request {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	conn.Reset(strings.NewReader(method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n"))
	req, err := http.ReadRequest(conn)
	if err != nil {
		panic(err)
	}
	req.RemoteAddr = "192.0.2.1:1234"
	if body != "" {
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
	}
	return req
}

func tokenRequest(form url.Values, clientID string) *http.Request {
	req := newRequest(http.MethodPost, "http://sesame/oidc/token", form.Encode())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, sesametest.Secret)
	return req
}

// BenchmarkSSOSignIn: authorize with a session + code exchange (ES256).
func BenchmarkSSOSignIn(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	br := s.NewBrowser(b)
	br.SignedIn(sesametest.AppA, "alice", nil)
	var cookie string
	for _, c := range br.HTTP.Jar.Cookies(mustParse(s.URL + "/")) {
		if c.Name == session.CookieName {
			cookie = c.Value
		}
	}
	authURL := s.AuthURL(sesametest.AppB, nil) // with PKCE's challenge (C2)
	verifier, _ := sesametest.PKCE()
	measure(b, func() {
		req := newRequest(http.MethodGet, authURL, "")
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: cookie})
		rec := serve(s, req)
		loc, err := url.Parse(rec.Header().Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			b.Fatalf("no code: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		rec = serve(s, tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
			"redirect_uri": {sesametest.RedirectURI(sesametest.AppB)}, "code_verifier": {verifier}}, sesametest.AppB))
		if rec.Code != 200 {
			b.Fatalf("exchange: %d %s", rec.Code, rec.Body)
		}
	})
}

// BenchmarkRefresh: refresh with rotation.
func BenchmarkRefresh(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	rt := s.NewBrowser(b).SignedIn(sesametest.AppA, "alice", sesametest.Offline()).RefreshToken
	measure(b, func() {
		rec := serve(s, tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, sesametest.AppA))
		if rec.Code != 200 {
			b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
		rt = between(rec.Body.String(), `"refresh_token":"`, `"`)
	})
}

// BenchmarkRefreshWithResource: refresh with rotation answering an RFC
// 9068 JWT access token for an API resource of the grant (R3): the
// refresh's work plus the resource's checks, an ES256 signature and the
// token's record, in the refresh's one transaction.
func BenchmarkRefreshWithResource(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b).WithOrders())
	rt := s.NewBrowser(b).SignedIn(sesametest.AppA, "alice", url.Values{
		"scope": {"openid profile email read:orders offline_access"}, "prompt": {"consent"}, "resource": {sesametest.OrdersAPI},
	}).RefreshToken
	measure(b, func() {
		rec := serve(s, tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {sesametest.OrdersAPI}}, sesametest.AppA))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"scope":"read:orders"`) {
			b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
		rt = between(rec.Body.String(), `"refresh_token":"`, `"`)
	})
}

// BenchmarkUserInfo: one userinfo call with a bearer token.
func BenchmarkUserInfo(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	at := s.NewBrowser(b).SignedIn(sesametest.AppA, "alice", nil).AccessToken
	measure(b, func() {
		req := newRequest(http.MethodGet, "http://sesame/oidc/me", "")
		req.Header.Set("Authorization", "Bearer "+at)
		if rec := serve(s, req); rec.Code != 200 {
			b.Fatalf("userinfo: %d", rec.Code)
		}
	})
}

// BenchmarkIntrospection: one introspection of an active access token.
func BenchmarkIntrospection(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	at := s.NewBrowser(b).SignedIn(sesametest.AppA, "alice", nil).AccessToken
	measure(b, func() {
		req := newRequest(http.MethodPost, "http://sesame/oidc/token/introspection", url.Values{"token": {at}}.Encode())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sesametest.AppA, sesametest.Secret)
		if rec := serve(s, req); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"active":true`) {
			b.Fatalf("introspection: %d %s", rec.Code, rec.Body)
		}
	})
}

// BenchmarkPasswordSignIn: the sign-in form to the code, argon2id included
// at the default cost.
func BenchmarkPasswordSignIn(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	b.ReportAllocs()
	for b.Loop() {
		s.NewBrowser(b).SignIn(sesametest.AppA, "alice", nil)
	}
}

func between(s, start, end string) string {
	_, rest, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(rest, end)
	return v
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// BenchmarkStorageBytesPerSession reports the database bytes a live
// session costs with its grant, code and tokens (design §5: at most 1.5 KB),
// measured as the growth of the SQLite file over b.N sign-ins.
func BenchmarkStorageBytesPerSession(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	size := func() int64 {
		n, err := s.Store.(interface {
			DBSize(context.Context) (int64, error)
		}).DBSize(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	// PostgreSQL keeps the space of deleted rows and of the old versions
	// of updated ones for reuse rather than freeing it, so it is compacted
	// before each reading, to count live rows as SQLite's free-list-less
	// page count does.
	compact := func() {
		if c, ok := s.Store.(interface{ Compact(context.Context) error }); ok {
			if err := c.Compact(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	}
	warm := s.NewBrowser(b)
	warm.SignedIn(sesametest.AppA, "alice", sesametest.Offline())
	compact()
	before := size()
	n := 0
	for b.Loop() {
		s.NewBrowser(b).SignedIn(sesametest.AppA, "alice", sesametest.Offline())
		n++
	}
	compact()
	b.ReportMetric(float64(size()-before)/float64(n), "bytes/session")
	// Codes are single use and swept a minute after they expire.
	s.Clock.Advance(2 * time.Minute)
	(&store.Sweeper{Store: s.Store, Now: s.Clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Once(b.Context())
	compact()
	b.ReportMetric(float64(size()-before)/float64(n), "bytes/session-swept")
}
