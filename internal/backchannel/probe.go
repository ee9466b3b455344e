package backchannel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// TestSubjectPrefix begins the sub and the sid of every test logout
// token. Account ids and sids are 22 characters of base64url
// (account.NewID, token.NewID), which never hold a colon: no account or
// session can ever have such a sub or sid, so an app that checks the
// token and looks them up finds nobody to sign out, and answers 200 as it
// does for a session that has ended already.
const TestSubjectPrefix = "sesame-test:"

// IsTestSubject reports whether a sub or sid is a test token's.
func IsTestSubject(s string) bool { return strings.HasPrefix(s, TestSubjectPrefix) }

// Cause is what an attempt to reach an app came to, named for the advice
// an operator needs: why the app did not hear of a sign-out.
type Cause string

// The causes of an attempt's outcome.
const (
	// CauseDelivered: the app answered 200 or 204 (B2).
	CauseDelivered Cause = "delivered"
	// CauseNoURI: the app has no back-channel logout URI.
	CauseNoURI Cause = "no_uri"
	// CauseBadURI: the registered URI cannot be used for a request.
	CauseBadURI Cause = "bad_uri"
	// CauseSigning: Sesame could not sign the token (its keys).
	CauseSigning Cause = "signing"
	// CauseDNS: the URI's host name did not resolve from Sesame.
	CauseDNS Cause = "dns"
	// CauseRefused: nothing listens at the address and port.
	CauseRefused Cause = "refused"
	// CauseUnreachable: no route from Sesame to the address.
	CauseUnreachable Cause = "unreachable"
	// CausePrivateAddress: the outbound filter refused the address the
	// name resolved to (B5).
	CausePrivateAddress Cause = "private_address"
	// CauseTLS: the TLS handshake failed (Reason says why).
	CauseTLS Cause = "tls"
	// CauseTimeout: no answer within Timeout.
	CauseTimeout Cause = "timeout"
	// CauseNoAnswer: the connection closed before an answer came.
	CauseNoAnswer Cause = "no_answer"
	// CauseRedirect: the app answered 3xx; redirects are not followed
	// (B2).
	CauseRedirect Cause = "redirect"
	// CauseRejected: the app answered 4xx (but 408 and 429) to a valid
	// token: failed at once, never retried (B2).
	CauseRejected Cause = "rejected"
	// CauseBusy: the app answered 408 or 429; retried (B2).
	CauseBusy Cause = "busy"
	// CauseServerError: the app answered 5xx; retried (B2).
	CauseServerError Cause = "server_error"
	// CauseUnexpectedStatus: a status that is none of the above (202,
	// 1xx...): only 200 and 204 are success (B2).
	CauseUnexpectedStatus Cause = "unexpected_status"
	// CauseClientGone: the app was deleted after the sign-out.
	CauseClientGone Cause = "client_gone"
	// CauseOther: a failure none of the above names.
	CauseOther Cause = "other"
)

// Causes lists every cause, so that whoever puts them in words can check
// that none is left out.
var Causes = []Cause{
	CauseDelivered, CauseNoURI, CauseBadURI, CauseSigning, CauseDNS, CauseRefused, CauseUnreachable,
	CausePrivateAddress, CauseTLS, CauseTimeout, CauseNoAnswer, CauseRedirect, CauseRejected, CauseBusy,
	CauseServerError, CauseUnexpectedStatus, CauseClientGone, CauseOther,
}

// MaxSkew is how far an app's clock (its Date header) may be from
// Sesame's before the difference is worth a warning: a logout token lives
// TokenTTL, and apps commonly allow a minute or so of leeway on iat.
const MaxSkew = time.Minute

// probeBody is how much of an app's answer a probe keeps to show: enough
// for an error message, not a page.
const probeBody = 512

// ProbeResult is what a test logout token met (Probe).
type ProbeResult struct {
	// URI is where the token was posted (the app's
	// backchannel_logout_uri).
	URI string
	// JTI, Subject and SID are the test token's claims; Subject and SID
	// start with TestSubjectPrefix.
	JTI, Subject, SID string
	// At is when the token was signed, on Sesame's clock.
	At time.Time
	// Took is how long the exchange with the app lasted; zero when there
	// was none.
	Took time.Duration
	// Status is the app's HTTP status; 0 when it did not answer.
	Status int
	// Body is the first bytes of the app's answer, as text.
	Body string
	// Location is where a redirect pointed.
	Location string
	// Cause classifies the outcome; Detail is the error or status line as
	// Go reported it; Reason, for CauseTLS, says in words what failed.
	Cause          Cause
	Detail, Reason string
	// AppClock is the time of the app's Date header (zero without one),
	// and Skew how far it is ahead of Sesame's clock (negative: behind),
	// to the second.
	AppClock time.Time
	Skew     time.Duration
	// MentionsTimes is set when the app refused the token with an answer
	// that names its times (iat, exp, expired...): a clock set wrong, on
	// one side or the other, is the usual reason.
	MentionsTimes bool
}

// Delivered reports whether the app accepted the token.
func (r ProbeResult) Delivered() bool { return r.Cause == CauseDelivered }

// ClockSuspect reports whether the clocks of Sesame and the app may
// differ enough to make the app refuse tokens: its Date header is more
// than MaxSkew away from Sesame's clock, or it refused the token naming
// its times.
func (r ProbeResult) ClockSuspect() bool {
	return r.MentionsTimes || !r.AppClock.IsZero() && (r.Skew > MaxSkew || r.Skew < -MaxSkew)
}

// Probe signs a logout token exactly as a delivery's (B1: the client's ID
// token algorithm, typ logout+jwt, iss, aud, iat, exp, jti, events, sub
// and sid) but for a test subject no account or session can have
// (TestSubjectPrefix), and posts it once, now, to c's back-channel logout
// URI through d.HTTP, the client deliveries use: the same refusal of
// special-purpose addresses (B5), the same timeout, no redirect followed
// (B2). Nothing is recorded: no delivery, no receipt, no metric; the app
// finds nobody to sign out. The result says what the app answered and
// why it failed, if it did.
func (d *Deliverer) Probe(ctx context.Context, c store.Client) ProbeResult {
	r := ProbeResult{URI: c.BackchannelLogoutURI, JTI: token.NewID(),
		Subject: TestSubjectPrefix + token.NewID(), SID: TestSubjectPrefix + token.NewID(), At: d.Now()}
	if r.URI == "" {
		r.Cause = CauseNoURI
		return r
	}
	tok, err := signToken(d.Signer, c.IDTokenSignedResponseAlg, d.Issuer, c.ID, r.JTI, r.Subject, r.SID, r.At)
	if err != nil {
		r.Cause, r.Detail = CauseSigning, err.Error()
		return r
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		// As a delivery records it.
		r.Cause, r.Detail = CauseBadURI, "bad back-channel URI: "+err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	resp, err := d.HTTP.Do(req)
	if err != nil {
		r.Took = time.Since(start)
		r.Cause, r.Reason = classifyError(err)
		r.Detail = err.Error()
		return r
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	r.Took = time.Since(start)
	r.Status, r.Detail = resp.StatusCode, resp.Status
	r.Cause = classifyStatus(resp.StatusCode)
	r.Body = firstBytes(body)
	if r.Cause == CauseRedirect {
		r.Location = resp.Header.Get("Location")
	}
	if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		r.AppClock = date
		r.Skew = date.Sub(d.Now().Truncate(time.Second))
	}
	r.MentionsTimes = r.Status >= 400 && r.Status < 500 && mentionsTimes.MatchString(strings.ToLower(r.Body))
	return r
}

// mentionsTimes finds, in an app's refusal, the words its token library
// uses when the token's times do not fit its clock.
var mentionsTimes = regexp.MustCompile(`\b(iat|exp|nbf)\b|expired|expiry|issued at|issued in the future|in the future|not yet valid|not valid yet|clock|skew|too old`)

// firstBytes is the start of an answer as text that can be shown.
func firstBytes(b []byte) string {
	if len(b) > probeBody {
		b = b[:probeBody]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
}

// classifyStatus names the cause of an answer's status, as B2 reads it.
func classifyStatus(status int) Cause {
	switch {
	case status == http.StatusOK || status == http.StatusNoContent:
		return CauseDelivered
	case status >= 300 && status < 400:
		return CauseRedirect
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return CauseBusy
	case status >= 400 && status < 500:
		return CauseRejected
	case status >= 500:
		return CauseServerError
	}
	return CauseUnexpectedStatus
}

// classifyError names the cause of a request that got no answer, from the
// error's types where Go gives them, from its text otherwise; for a TLS
// failure, the reason in words.
func classifyError(err error) (Cause, string) {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	var record tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return CausePrivateAddress, ""
	case errors.As(err, &dns):
		return CauseDNS, ""
	case errors.As(err, &unknownCA):
		return CauseTLS, reasonUnknownCA
	case errors.As(err, &hostname):
		return CauseTLS, reasonHostname
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return CauseTLS, reasonExpired
		}
		return CauseTLS, reasonInvalid
	case errors.As(err, &alert):
		return CauseTLS, "the server refused the TLS handshake (" + alert.Error() + ")"
	case errors.As(err, &record):
		return CauseTLS, reasonNotTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return CauseRefused, ""
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return CauseUnreachable, ""
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return CauseTimeout, ""
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return CauseNoAnswer, ""
	}
	return classifyText(err.Error())
}

// The reasons of TLS failures, in words.
const (
	reasonUnknownCA = "the certificate is not signed by an authority Sesame trusts (it is self-signed, or from a private authority, or the server does not send its intermediate certificates)"
	reasonHostname  = "the certificate is for other names than the URI's host"
	reasonExpired   = "the certificate has expired or is not valid yet"
	reasonInvalid   = "the certificate is not valid for this use"
	reasonNotTLS    = "the server there does not speak TLS: the URI says https, and the server answered in plain HTTP"
	reasonHandshake = "the TLS handshake failed"
)

// ClassifyRecorded names the cause of a delivery's last attempt from what
// the store keeps of it: its HTTP status (0 when there was no answer) and
// its error as the Deliverer recorded it (B3). Where the text says too
// little, the cause is CauseOther. For a TLS failure, the reason is
// returned in words.
func ClassifyRecorded(status int, lastError string) (Cause, string) {
	if status != 0 {
		return classifyStatus(status), ""
	}
	return classifyText(lastError)
}

// giveUp is how the Deliverer marks the error of a delivery it stopped
// retrying (attempt).
const giveUp = "gave up after 24 hours: "

// classifyText reads the cause from the text of a transport error: the
// store keeps nothing else of it.
func classifyText(msg string) (Cause, string) {
	msg = strings.TrimPrefix(msg, giveUp)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	switch {
	case msg == "":
		return CauseOther, ""
	case msg == "client no longer exists":
		return CauseClientGone, ""
	case strings.HasPrefix(msg, "bad back-channel URI"):
		return CauseBadURI, ""
	case strings.HasPrefix(msg, "sign logout token"):
		return CauseSigning, ""
	case has(ErrForbiddenAddress.Error()):
		return CausePrivateAddress, ""
	case has(": lookup ", "dial tcp: lookup", "no such host"):
		return CauseDNS, ""
	case has("certificate signed by unknown authority"):
		return CauseTLS, reasonUnknownCA
	case has("certificate is valid for", "certificate is not valid for any names", "doesn't contain any IP SANs"):
		return CauseTLS, reasonHostname
	case has("certificate has expired or is not yet valid"):
		return CauseTLS, reasonExpired
	case has("server gave HTTP response to HTTPS client", "first record does not look like a TLS handshake"):
		return CauseTLS, reasonNotTLS
	case has("remote error: tls:"):
		return CauseTLS, "the server refused the TLS handshake"
	case has("tls: ", "x509: "):
		return CauseTLS, reasonHandshake
	case has("connection refused"):
		return CauseRefused, ""
	case has("network is unreachable", "no route to host", "host is down"):
		return CauseUnreachable, ""
	case has("Client.Timeout exceeded", "context deadline exceeded", "i/o timeout", "timeout awaiting response headers", "TLS handshake timeout"):
		return CauseTimeout, ""
	case has("EOF", "connection reset", "broken pipe", "server closed"):
		return CauseNoAnswer, ""
	}
	return CauseOther, ""
}
