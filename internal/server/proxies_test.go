package server_test

import (
	"net/http"
	"testing"

	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// addHeaders is a browser's transport that sends extra headers, as a load
// balancer (or someone pretending to be one) would.
type addHeaders map[string]string

func (h addHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Add(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Behind a trusted proxy the session records the browser's address from
// X-Forwarded-For (the right-most hop that is not a proxy of ours), with
// its user agent (S2); from anywhere else the header is ignored, since
// anyone can send it.
func TestClientAddressBehindTrustedProxies(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		xff     string
		want    string
	}{
		{"no trusted proxies: header ignored", nil, "203.0.113.7", "127.0.0.1"},
		{"trusted peer names the client", []string{"127.0.0.1"}, "203.0.113.7", "203.0.113.7"},
		{"a forged left-most hop is not believed", []string{"127.0.0.0/8", "10.0.0.0/8"}, "198.51.100.1, 203.0.113.7, 10.1.2.3", "203.0.113.7"},
		{"an untrusted peer's header is ignored", []string{"10.0.0.0/8"}, "203.0.113.7", "127.0.0.1"},
		{"a malformed chain names nobody", []string{"127.0.0.1"}, "203.0.113.7, not-an-ip", "127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) { c.TrustedProxies = tc.trusted }})
			b := s.NewBrowser(t)
			b.HTTP.Transport = addHeaders{"X-Forwarded-For": tc.xff, "User-Agent": "TestBrowser/1.0"}
			b.SignedIn(sesametest.AppA, "alice", nil)
			acct, err := s.Store.AccountByUsername(t.Context(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			sessions, err := s.Store.SessionsByAccount(t.Context(), acct.ID)
			if err != nil || len(sessions) != 1 {
				t.Fatalf("sessions %+v %v", sessions, err)
			}
			if got := sessions[0].IP; got != tc.want {
				t.Errorf("recorded address %q, want %q", got, tc.want)
			}
			if got := sessions[0].UserAgent; got != "TestBrowser/1.0" {
				t.Errorf("recorded user agent %q", got)
			}
		})
	}
}

// trusted_proxies entries that are neither addresses nor ranges are a
// configuration error.
func TestTrustedProxiesAreValidated(t *testing.T) {
	cfg := config.Default()
	cfg.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"}
	if err := cfg.Validate(); err == nil {
		t.Error("a host name in trusted_proxies was accepted")
	}
}
