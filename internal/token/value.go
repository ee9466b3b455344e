package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// NewValue returns a fresh credential of 256 random bits, base64url without
// padding (within RFC 6749's token grammar, spec T13, T14), and the hash it
// is stored under.
func NewValue() (string, []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	v := base64.RawURLEncoding.EncodeToString(b[:])
	return v, Hash(v)
}

// NewID returns a fresh identifier of a record (a grant, a session, a
// receipt, a pending request) or a sid: 128 random bits, 22 base64url
// characters. An id is not a credential, so nothing is hashed; it is
// unguessable all the same, since some (a pending request's) appear in
// URLs. It is no longer: a grant's id is stored seven times over (its
// row, its tokens and their indexes), and each byte counts against the
// storage budget of a session (design §5).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is how a credential is looked up: SHA-256 of its value. A fast hash
// is right here because the value has 256 bits of entropy.
func Hash(value string) []byte {
	h := sha256.Sum256([]byte(value))
	return h[:]
}
