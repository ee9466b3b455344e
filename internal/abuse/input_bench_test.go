package abuse_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
)

// BenchmarkOversizedRequestsStorage sends 10,000 oversized requests (about
// as large as the query and body caps let through to a handler:
// login_hint, ui_locales, scope and state at /auth, state at /session/end
// by GET and POST) and reports the database's
// size before and after (W2, spec S9): what an attacker's flood leaves
// behind. Run it with -benchtime 1x; SESAME_BENCH_DB=postgres runs it on
// PostgreSQL.
//
//	go test -run '^$' -bench OversizedRequestsStorage -benchtime 1x ./internal/abuse/
func BenchmarkOversizedRequestsStorage(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	size := func() int64 {
		if c, ok := s.Store.(interface{ Compact(context.Context) error }); ok {
			if err := c.Compact(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
		n, err := s.Store.(interface {
			DBSize(context.Context) (int64, error)
		}).DBSize(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	huge := strings.Repeat("x", 1<<20)
	// The query string is capped at 8 KB before any handler runs, so the
	// GETs carry 8 KB less a little, and the POSTs the 64 KB body cap's
	// worth: the largest each way that a handler still reads.
	auth := []url.Values{{"login_hint": {huge[:7000]}}, {"ui_locales": {huge[:7000]}}, {"scope": {"openid " + huge[:7000]}}, {"state": {huge[:7000]}}}
	requests := func(i int) *http.Request {
		switch i % 6 {
		case 4:
			q := url.Values{"client_id": {sesametest.AppA}, "state": {huge[:7000]}}
			r, _ := http.NewRequest(http.MethodGet, s.Issuer+"/session/end?"+q.Encode(), nil)
			return r
		case 5:
			q := url.Values{"client_id": {sesametest.AppA}, "state": {huge[:60<<10]}}
			r, _ := http.NewRequest(http.MethodPost, s.Issuer+"/session/end", strings.NewReader(q.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}
		r, _ := http.NewRequest(http.MethodGet, s.AuthURL(sesametest.AppA, auth[i%4]), nil)
		return r
	}
	before := size()
	b.ResetTimer()
	for range b.N {
		statuses := map[int]int{}
		for i := range 10_000 {
			resp, err := noRedirects.Do(requests(i))
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			statuses[resp.StatusCode]++
		}
		b.Logf("answers: %v", statuses)
	}
	b.StopTimer()
	after := size()
	b.ReportMetric(float64(before), "db-bytes-before")
	b.ReportMetric(float64(after), "db-bytes-after")
	b.ReportMetric(float64(after-before), "db-bytes-grown")
}
