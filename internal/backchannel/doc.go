// Package backchannel tells apps that a session ended: it makes the signed
// logout tokens of OpenID Connect Back-Channel Logout 1.0 and delivers them
// durably (design B1-B5, spec B1-B12).
//
// A Delivery is a row written in the same transaction as the sign-out that
// causes it, and the deliveries table is the queue (B3), so neither a crash
// nor a restart loses one. The row is written leased to the first
// attempt of the request that signed out, which starts at once after the
// commit, in parallel with the others (AttemptQueued; AttemptAll leases
// rows written earlier); every instance's Worker claims due rows with a
// lease and retries what failed with exponential backoff, from within 2
// seconds up to an hour apart, for 24 hours. Each attempt signs a fresh
// token with the same jti. A lease lets one attempt at a time hold a
// delivery; the lease of an instance that died ends after LeaseFor, and
// the delivery is claimed again.
//
// It does not decide who is signed out (package signout) nor hold the keys
// (package keys).
package backchannel
