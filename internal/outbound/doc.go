// Package outbound decides which network addresses Sesame's outbound calls
// to app-supplied URLs may reach (design B5, spec S6): none of the
// special-purpose addresses of the IANA IPv4 and IPv6 registries that are
// not globally reachable (private, loopback, link-local, shared, reserved,
// documentation, translation and tunnelling ranges), unless the operator
// allows private network delivery.
//
// It makes no calls itself: package backchannel's transport applies Public
// to every address it dials (so DNS rebinding cannot get past it), and
// client registration applies CheckHost to a backchannel_logout_uri, so a
// URI that could never be delivered is refused when it is registered.
package outbound
