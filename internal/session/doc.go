// Package session holds the Sesame session: a browser's sign-in state,
// referenced by an opaque cookie, with one Authorization per client that
// signed in through it (design S1-S8).
//
// It decides whether an authorization request may be answered silently
// (S4: SSO) or needs the sign-in page (prompt=login, max_age, a disabled
// account), creates sessions with fresh identifiers on every sign-in (S1, no
// fixation), keeps their sliding and absolute expiry (S2), and hands out the
// per-client `sid` (S3).
//
// It does not own cookies on the wire (package oidc sets them), grants
// (package grant) or ending a session with its consequences (package
// signout).
package session
