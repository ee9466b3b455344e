// Package secret hashes and checks the secrets people and apps present:
// passwords and client secrets, with argon2id (design A2, C1).
//
// Parameters travel inside each hash (the PHC string format), so they can
// be raised later without breaking stored hashes. It does not decide who
// may sign in (package account) or which client may call (package client).
package secret
