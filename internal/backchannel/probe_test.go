package backchannel_test

import (
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/store"
)

// claimsSigner stands in for the keys and keeps what it was asked to
// sign, so a test can read the claims and header of the test token.
type claimsSigner struct {
	mu       sync.Mutex
	alg, typ string
	claims   backchannel.LogoutToken
}

func (s *claimsSigner) Sign(alg, typ string, claims any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alg, s.typ, s.claims = alg, typ, claims.(backchannel.LogoutToken)
	return "signed." + alg + "." + typ, nil
}

// prober is a Deliverer with no store, no metrics and no client registry:
// a probe that recorded anything would panic on them.
func prober(hc *http.Client, signer backchannel.Signer, now func() time.Time) *backchannel.Deliverer {
	return &backchannel.Deliverer{Signer: signer, Issuer: "https://sesame.test", HTTP: hc, Now: now, Logger: slog.New(slog.DiscardHandler)}
}

func app(uri string) store.Client {
	return store.Client{ID: "shop", BackchannelLogoutURI: uri, IDTokenSignedResponseAlg: "RS256"}
}

// The test token is signed as a delivery's is (B1: the client's ID token
// algorithm, typ logout+jwt, iss, aud, iat, exp two minutes on, a jti,
// the back-channel event, sub and sid, no nonce), with a sub and sid no
// account or session can have; it is posted as a form (B2) and the app's
// 200 is a success, timed.
func TestProbeSignsATokenForATestSubject(t *testing.T) {
	var posted atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posted.Store(r.Method + " " + r.Header.Get("Content-Type") + " " + r.PostFormValue("logout_token"))
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	signer := &claimsSigner{}
	now := time.Now().Truncate(time.Second)
	res := prober(backchannel.NewHTTPClient(true), signer, func() time.Time { return now }).Probe(t.Context(), app(srv.URL+"/bc"))
	if res.Cause != backchannel.CauseDelivered || !res.Delivered() || res.Status != 200 || res.Body != "ok" || res.Took <= 0 || res.URI != srv.URL+"/bc" {
		t.Fatalf("probe: %+v", res)
	}
	if got := posted.Load(); got != "POST application/x-www-form-urlencoded signed.RS256.logout+jwt" {
		t.Errorf("posted: %v", got)
	}
	c := signer.claims
	if signer.alg != "RS256" || signer.typ != "logout+jwt" || c.Issuer != "https://sesame.test" || c.Audience != "shop" ||
		c.IssuedAt != now.Unix() || c.Expiry != now.Add(backchannel.TokenTTL).Unix() || c.JTI == "" || c.JTI != res.JTI ||
		len(c.Events) != 1 || c.Subject != res.Subject || c.SID != res.SID {
		t.Errorf("signed %s %s %+v for %+v", signer.alg, signer.typ, c, res)
	}
	if _, ok := c.Events[backchannel.EventLogout]; !ok {
		t.Errorf("events: %v", c.Events)
	}
	// Reserved: a colon, which the 22 base64url characters of account
	// ids and sids never hold, and different every time.
	for _, v := range []string{c.Subject, c.SID} {
		if !backchannel.IsTestSubject(v) || !strings.Contains(v, ":") || len(v) <= len(backchannel.TestSubjectPrefix)+20 {
			t.Errorf("test subject %q", v)
		}
	}
	again := prober(backchannel.NewHTTPClient(true), signer, time.Now).Probe(t.Context(), app(srv.URL+"/bc"))
	if again.Subject == res.Subject || again.SID == res.SID || again.JTI == res.JTI {
		t.Errorf("two probes share a subject, sid or jti: %+v %+v", res, again)
	}
}

// Each usual cause of a missed notification is named: statuses as B2
// reads them (redirects not followed), a timeout, an untrusted
// certificate, a closed port, a name that does not resolve, and a private
// address with the outbound filter on (B5). The error text of each is
// what a delivery records, and read back it names the same cause.
func TestProbeNamesTheCause(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
	defer target.Close()
	answer := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status >= 300 && status < 400 {
				w.Header().Set("Location", target.URL+"/elsewhere")
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/bc"
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read first: the server notices the client giving up only once
		// the request is read.
		_ = r.ParseForm()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	var tlsHits atomic.Int32
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { tlsHits.Add(1) }))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake, expected
	untrusted.StartTLS()
	defer untrusted.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/bc"
	l.Close()
	var privateHits atomic.Int32
	private := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { privateHits.Add(1) }))
	defer private.Close()

	open := backchannel.NewHTTPClient(true)
	quick := backchannel.NewHTTPClient(true)
	quick.Timeout = 300 * time.Millisecond // Timeout's 5 s, shortened for the test
	for _, c := range []struct {
		name   string
		uri    string
		hc     *http.Client
		cause  backchannel.Cause
		status int
		check  func(t *testing.T, r backchannel.ProbeResult)
	}{
		{name: "204", uri: answer(204, ""), hc: open, cause: backchannel.CauseDelivered, status: 204},
		{name: "400", uri: answer(400, "no session found for this sid"), hc: open, cause: backchannel.CauseRejected, status: 400,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if r.Body != "no session found for this sid" || r.MentionsTimes || r.ClockSuspect() {
					t.Errorf("body %q, times %v", r.Body, r.MentionsTimes)
				}
			}},
		{name: "400 naming iat", uri: answer(400, "invalid logout token: iat is in the future"), hc: open, cause: backchannel.CauseRejected, status: 400,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if !r.MentionsTimes || !r.ClockSuspect() {
					t.Errorf("a refusal naming iat is not a clock suspect: %+v", r)
				}
			}},
		{name: "401 expired", uri: answer(401, `{"error":"token expired"}`), hc: open, cause: backchannel.CauseRejected, status: 401,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if !r.MentionsTimes {
					t.Errorf("a refusal saying expired: %+v", r)
				}
			}},
		{name: "429", uri: answer(429, ""), hc: open, cause: backchannel.CauseBusy, status: 429},
		{name: "500", uri: answer(500, "boom"), hc: open, cause: backchannel.CauseServerError, status: 500,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if r.Body != "boom" || r.MentionsTimes {
					t.Errorf("body %q", r.Body)
				}
			}},
		{name: "202", uri: answer(202, ""), hc: open, cause: backchannel.CauseUnexpectedStatus, status: 202},
		{name: "redirect", uri: answer(302, ""), hc: open, cause: backchannel.CauseRedirect, status: 302,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if r.Location != target.URL+"/elsewhere" || followed.Load() != 0 {
					t.Errorf("location %q, followed %d times", r.Location, followed.Load())
				}
			}},
		{name: "timeout", uri: slow.URL + "/bc", hc: quick, cause: backchannel.CauseTimeout,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if r.Took < 300*time.Millisecond || r.Took > 3*time.Second {
					t.Errorf("took %v", r.Took)
				}
			}},
		{name: "untrusted certificate", uri: untrusted.URL + "/bc", hc: open, cause: backchannel.CauseTLS,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if !strings.Contains(r.Reason, "not signed by an authority Sesame trusts") || tlsHits.Load() != 0 {
					t.Errorf("reason %q, %d requests got through", r.Reason, tlsHits.Load())
				}
			}},
		{name: "https to plain http", uri: strings.Replace(private.URL, "http:", "https:", 1) + "/bc", hc: open, cause: backchannel.CauseTLS,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if !strings.Contains(r.Reason, "does not speak TLS") {
					t.Errorf("reason %q (%s)", r.Reason, r.Detail)
				}
			}},
		{name: "closed port", uri: closed, hc: open, cause: backchannel.CauseRefused},
		{name: "unresolvable name", uri: "https://nothing-here.invalid/bc", hc: open, cause: backchannel.CauseDNS},
		{name: "private address, filter on", uri: private.URL + "/bc", hc: backchannel.NewHTTPClient(false), cause: backchannel.CausePrivateAddress,
			check: func(t *testing.T, r backchannel.ProbeResult) {
				if privateHits.Load() != 0 {
					t.Errorf("the filtered address was reached %d times", privateHits.Load())
				}
			}},
		{name: "no URI", uri: "", hc: open, cause: backchannel.CauseNoURI},
		{name: "bad URI", uri: "http://[::1", hc: open, cause: backchannel.CauseBadURI},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := prober(c.hc, &claimsSigner{}, time.Now).Probe(t.Context(), app(c.uri))
			if r.Cause != c.cause || r.Status != c.status {
				t.Fatalf("cause %s, status %d, want %s, %d: %+v", r.Cause, r.Status, c.cause, c.status, r)
			}
			if c.check != nil {
				c.check(t, r)
			}
			// What a delivery keeps of the same failure, read back, names
			// the same cause (and reason): the deliveries page's warnings.
			if c.status == 0 && c.cause != backchannel.CauseNoURI {
				if got, reason := backchannel.ClassifyRecorded(0, r.Detail); got != c.cause || reason != r.Reason {
					t.Errorf("recorded %q reads as %s (%q), want %s (%q)", r.Detail, got, reason, c.cause, r.Reason)
				}
			}
		})
	}
}

// An app whose Date header is far from Sesame's clock is a clock suspect
// even when it accepts the token; one a few seconds off is not.
func TestProbeComparesClocks(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	for _, c := range []struct {
		offset  time.Duration
		suspect bool
	}{{10 * time.Minute, true}, {-3 * time.Minute, true}, {5 * time.Second, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", now.Add(c.offset).Format(http.TimeFormat))
		}))
		r := prober(backchannel.NewHTTPClient(true), &claimsSigner{}, func() time.Time { return now }).Probe(t.Context(), app(srv.URL))
		srv.Close()
		if !r.Delivered() || r.Skew != c.offset || r.ClockSuspect() != c.suspect || !r.AppClock.Equal(now.Add(c.offset)) {
			t.Errorf("app clock %v off: skew %v, suspect %v (%+v)", c.offset, r.Skew, r.ClockSuspect(), r)
		}
	}
}

// What deliveries record (the Deliverer's own error texts, statuses kept
// apart) reads back as its cause.
func TestClassifyRecorded(t *testing.T) {
	for _, c := range []struct {
		status int
		err    string
		want   backchannel.Cause
	}{
		{200, "", backchannel.CauseDelivered},
		{400, "the app rejected the logout token: 400 Bad Request", backchannel.CauseRejected},
		{301, "the app rejected the logout token: 301 Moved Permanently", backchannel.CauseRedirect},
		{503, "503 Service Unavailable", backchannel.CauseServerError},
		{429, "gave up after 24 hours: 429 Too Many Requests", backchannel.CauseBusy},
		{0, "client no longer exists", backchannel.CauseClientGone},
		{0, `bad back-channel URI: parse "http://[::1": missing ']' in host`, backchannel.CauseBadURI},
		{0, "sign logout token abc: no key", backchannel.CauseSigning},
		{0, `gave up after 24 hours: Post "https://app.example/bc": dial tcp 10.1.2.3:443: address not allowed for back-channel delivery: 10.1.2.3`, backchannel.CausePrivateAddress},
		{0, `Post "https://app.example/bc": dial tcp: lookup app.example on 127.0.0.53:53: server misbehaving`, backchannel.CauseDNS},
		{0, `Post "https://app.example/bc": dial tcp 192.0.2.1:443: connect: no route to host`, backchannel.CauseUnreachable},
		{0, `Post "https://app.example/bc": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time`, backchannel.CauseTLS},
		{0, `Post "https://app.example/bc": tls: failed to verify certificate: x509: certificate is valid for a.example, not app.example`, backchannel.CauseTLS},
		{0, `Post "https://app.example/bc": net/http: TLS handshake timeout`, backchannel.CauseTimeout},
		{0, `Post "https://app.example/bc": EOF`, backchannel.CauseNoAnswer},
		{0, `Post "https://app.example/bc": read tcp 1.2.3.4:5->6.7.8.9:443: read: connection reset by peer`, backchannel.CauseNoAnswer},
		{0, "something else entirely", backchannel.CauseOther},
	} {
		if got, _ := backchannel.ClassifyRecorded(c.status, c.err); got != c.want {
			t.Errorf("%d %q: %s, want %s", c.status, c.err, got, c.want)
		}
	}
}
