package endsession_test

import (
	"net/url"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
)

var fourApps = []string{sesametest.AppA, sesametest.AppB, sesametest.AppC, sesametest.AppD}

// BenchmarkGlobalSignOutFourApps: end-session + confirm through the HTTP
// handlers for a session with 4 apps, until the person is redirected, which
// is after the last of the 4 back-channel deliveries landed (B3).
func BenchmarkGlobalSignOutFourApps(b *testing.B) {
	s := sesametest.New(b, sesametest.BenchOptions(b))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		br := s.NewBrowser(b)
		for _, app := range fourApps {
			br.SignIn(app, "alice", nil)
		}
		page := br.Get(s.Issuer + "/session/end?" + url.Values{"client_id": {sesametest.AppA}, "post_logout_redirect_uri": {"https://app-a.example/"}}.Encode())
		b.StartTimer()
		done := br.Submit(page, map[string]string{"logout": "true"})
		if done.Location != "https://app-a.example/" {
			b.Fatalf("sign-out: %d %s", done.Status, done.Location)
		}
	}
	b.StopTimer()
	for _, app := range fourApps {
		if got := len(s.Apps[app].Received()); got != b.N {
			b.Fatalf("%s received %d logout tokens for %d sign-outs", app, got, b.N)
		}
	}
}
