package web

import (
	"net/http"
	"strings"
)

// ClientIP is the address a request came from, for throttling and the
// device list (A3, S2): the TCP peer, which the server's trusted-proxies
// middleware has already replaced with the address a listed load balancer
// names. Headers are not read here, so nobody else can choose it.
func ClientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
