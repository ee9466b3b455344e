package backchannel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Timeout bounds one delivery attempt (B2).
const Timeout = 5 * time.Second

// maxResponse is how much of an app's answer is read: the status is all
// that matters, and a hostile app must not make Sesame read gigabytes.
const maxResponse = 4 << 10

// ErrForbiddenAddress means the app's URI resolved to an address outbound
// calls may not reach (B5, spec S6).
var ErrForbiddenAddress = errors.New("address not allowed for back-channel delivery")

// NewHTTPClient returns the client deliveries use: a 5 s timeout, no
// redirects followed (B2), and, unless allowPrivate, no connections to
// private, loopback, link-local or otherwise internal addresses (B5). The
// check runs on the address actually dialled, so DNS rebinding cannot get
// past it.
func NewHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		if !Public(ap.Addr()) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
		}
		return nil
	}}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Public reports whether a may be the target of an outbound call when
// private networks are not allowed.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() &&
		!a.IsLinkLocalUnicast() && !a.IsUnspecified() && !cgnat.Contains(a)
}

// cgnat is the shared address space of RFC 6598, internal in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// withTimeout bounds ctx by the attempt timeout.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, Timeout)
}
