// Package account holds accounts and password sign-in (design A1-A3): an
// opaque, stable id that is the `sub`, argon2id password hashes checked in
// constant time, the same cost for an unknown username as for a wrong
// password, and throttling of repeated failures per username and per IP.
//
// It does not create sessions (package session) or render the sign-in page
// (packages oidc and ui).
package account
