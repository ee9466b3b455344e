// Package grant holds the rules of grants: what one account allowed one
// client, made from one session (design G1-G3).
//
// A grant carries the scopes consented to, the API resources with their
// scopes (R2), its expiry (grant_ttl, 180 days by default) and its
// revocation. Every code and token hangs off a grant and is valid only
// while the grant is (G2); this package answers "is this grant still
// good" and decides which requested scopes may be granted, including
// the offline_access rule (G3), and whether it already covers what is
// asked (so consent need not be shown again, C1a).
//
// It does not own tokens (package token), the session that made the grant
// (package session) or the sign-out rules that revoke grants in bulk
// (package signout).
package grant
