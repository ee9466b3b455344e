// Package backchannel tells apps that a session ended: it makes the signed
// logout tokens of OpenID Connect Back-Channel Logout 1.0 and delivers them
// durably (design B1-B5, spec B1-B12).
//
// A Delivery is written in the same transaction as the sign-out that causes
// it, together with a durable job in the same database (River), so neither
// a crash nor a restart loses one. The first attempts start at once and in
// parallel (AttemptAll); the job retries what failed with exponential
// backoff, from within 2 seconds up to an hour apart, for 24 hours. Each
// attempt signs a fresh token with the same jti, and one lease in the
// database makes sure two instances never send the same delivery at once.
//
// It does not decide who is signed out (package signout) nor hold the keys
// (package keys).
package backchannel
