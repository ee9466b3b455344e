// Package secret hashes and checks the secrets people and apps present:
// passwords and client secrets (design A2, A4, C1, C3).
//
// Passwords and the client secrets an operator chose are argon2id, whose
// parameters travel inside each hash (the PHC string format), so they can
// be raised later without breaking stored hashes. Client secrets Sesame
// generates (NewClientSecret) hold 256 random bits behind a prefix secret
// scanners know, and are stored as a $sha256$ digest: a slow hash would add
// nothing to them. Verify reads the scheme from the stored hash.
//
// A Pool admits argon2id checks a bounded number at a time, with a short
// bounded queue, so a flood of guesses cannot take the process's memory
// (A4). It does not decide who may sign in (package account) or which
// client may call (package client).
package secret
