package endsession_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/sesametest"
)

var fourApps = []string{sesametest.AppA, sesametest.AppB, sesametest.AppC, sesametest.AppD}

// BenchmarkGlobalSignOutFourApps: end-session + confirm through the HTTP
// handlers for a session with 4 apps, until the person is redirected, which
// is after the last of the 4 back-channel deliveries landed (B3) and the
// outcomes were recorded. It reports too what design §5 budgets: the
// time from the confirm's post to the moment the 4th app accepted its
// logout token (received-ns/op).
func BenchmarkGlobalSignOutFourApps(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	b.ReportAllocs()
	var received time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		br := s.NewBrowser(b)
		for _, app := range fourApps {
			br.SignIn(app, "alice", nil)
		}
		page := br.Get(s.Issuer + "/session/end?" + url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}}.Encode())
		b.StartTimer()
		start := time.Now()
		done := br.Submit(page, map[string]string{"logout": "true"})
		if done.Location != "https://app-a.example/" {
			b.Fatalf("sign-out: %d %s", done.Status, done.Location)
		}
		var last time.Time
		for _, app := range fourApps {
			got := s.Apps[app].Received()
			if len(got) != n+1 {
				b.Fatalf("%s received %d logout tokens in %d sign-outs", app, len(got), n+1)
			}
			if at := got[len(got)-1].At; at.After(last) {
				last = at
			}
		}
		received += last.Sub(start)
		n++
	}
	b.StopTimer()
	b.ReportMetric(float64(received)/float64(n), "received-ns/op")
	for _, app := range fourApps {
		if got := len(s.Apps[app].Received()); got != b.N {
			b.Fatalf("%s received %d logout tokens for %d sign-outs", app, got, b.N)
		}
	}
}
