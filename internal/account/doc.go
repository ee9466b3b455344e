// Package account holds accounts and password sign-in (design A1-A5).
//
//   - A1: an opaque, stable id that is the `sub`, and a username kept and
//     compared in its RFC 8265 canonical form (package username), so case
//     and width twins of a name cannot be made (Create, Upsert, the
//     configuration's check).
//   - A2: argon2id password hashes checked in constant time, and the same
//     cost for an unknown username as for a wrong password.
//   - A3: throttling (throttle.go). An attempt is counted as a failure of
//     the account from its source address (IPv6 by /64) and of the source
//     alone, in one store step with both keys locked, before its hash runs,
//     so a burst is counted exactly on SQLite and across PostgreSQL
//     instances; a blocked key is refused with a *ThrottledError (429 with
//     Retry-After), never held open. A success forgets the account key and
//     gives the source its attempt back (SignedIn). DefaultThrottle says the
//     numbers: 5 failures free per account and source, then a wait doubling
//     from 1 s to 15 minutes, one failure forgotten every 15 minutes; 100
//     per source address, one forgotten every 9 s. A stranger can never
//     lock an account for anyone else. Failures are counters; at most one
//     failure event per key a minute. ClientThrottle applies the account
//     rule to failed client authentication per client and source (C3).
//   - A4: password hashing runs in a bounded secret.Pool; a full pool is a
//     *secret.BusyError, and the attempt is not counted as a failure.
//   - A5: a declared account's password is set only when the account is
//     created (Upsert); HashPassword hashes a new one, which
//     signout.Service.ResetPassword stores while it ends the sessions.
//
// It does not create sessions (packages session and signin), end them on
// a password change (package signout), or render the sign-in page
// (packages oidc and ui).
package account
