// Package token issues and checks credentials: authorization codes, opaque
// access tokens, RFC 9068 JWT access tokens for API resources, rotating
// refresh tokens and signed ID tokens (design G2, G4, G5, R3; spec T1-T14,
// R1-R5, V1-V6, I1-I5, RI2-RI6).
//
// Every opaque credential is a random value of 256 bits handed out once;
// the store keeps only its SHA-256 (fosite's lesson: a database leak
// yields no usable token). A JWT access token is not stored: a record
// keyed by its jti names its grant, for introspection, and revoking the
// token deletes it. Every code and token names its grant, and every check
// reads the grant, so revoking a grant kills its tokens at once (G2), for
// Sesame's own endpoints; an API that verifies a JWT offline accepts it
// until it expires.
//
// Issuing does the slow parts (random values, signing) before the one write
// transaction, which only records the outcome: the writer is never held
// while signing.
//
// It does not own HTTP (package oidc maps its errors to OAuth codes), client
// authentication (package client), the grant rules (package grant) or
// which scopes of an API a role permits (package resource).
package token
