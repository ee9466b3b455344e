// Package token issues and checks credentials: authorization codes, opaque
// access tokens, rotating refresh tokens and signed ID tokens (design G2,
// G4, G5; spec T1-T14, R1-R5, V1-V6, I1-I5).
//
// Every credential is a random value of 256 bits handed out once; the store
// keeps only its SHA-256 (fosite's lesson: a database leak yields no usable
// token). Every code and token names its grant, and every check reads the
// grant, so revoking a grant kills its tokens at once (G2).
//
// Issuing does the slow parts (random values, signing) before the one write
// transaction, which only records the outcome: the writer is never held
// while signing.
//
// It does not own HTTP (package oidc maps its errors to OAuth codes), client
// authentication (package client) or the grant rules (package grant).
package token
