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

	"github.com/sesame-id/sesame/internal/outbound"
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
// redirects followed (B2), and, unless allowPrivate, no connections to a
// special-purpose address that is not globally reachable (B5,
// outbound.Public: private, loopback, link-local, shared, NAT64,
// IPv4-compatible, reserved...). The check runs on the address actually
// dialled, so DNS rebinding cannot get past it.
func NewHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		if !outbound.Public(ap.Addr()) {
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

// withTimeout bounds ctx by the attempt timeout.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, Timeout)
}
