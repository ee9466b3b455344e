package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// behindProxies makes r.RemoteAddr the address of the person's browser
// when the request came through one of the trusted proxies: the right-most
// X-Forwarded-For entry that is not itself a trusted proxy. Entries to its
// left were written by whoever sent the request and prove nothing.
// Without trusted proxies the header is ignored.
func behindProxies(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if addr, ok := forwardedClient(r, trusted); ok {
			r = r.WithContext(r.Context()) // a copy: the caller's request stays as it came
			r.RemoteAddr = net.JoinHostPort(addr.String(), "0")
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedClient finds the client a trusted proxy names.
func forwardedClient(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !isTrusted(peer.Addr(), trusted) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return netip.Addr{}, false // a malformed chain names nobody
		}
		if !isTrusted(a, trusted) {
			return a.Unmap(), true
		}
		last = a
	}
	// Every hop is a proxy of ours: the first one is as close to the
	// client as the chain goes.
	return last.Unmap(), last.IsValid()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
