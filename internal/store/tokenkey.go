package store

import (
	"encoding/binary"
	"time"
)

// An access or refresh token is stored under a key that leads with its
// expiry, so the table's own order serves the sweeper and a token's row is
// written at the table's end: one page per token where a key of the
// digest alone (random) plus an index by expiry cost two, on every
// exchange and refresh. The value carries its expiry (token.Key reads it
// back), so a lookup still needs nothing but the value.
//
// A token's Hash holds this key: 8 bytes of its expiry in unix seconds,
// big-endian, then the first 16 bytes of the SHA-256 of its value (128
// bits against guessing, as for used codes). A Hash of any other length is
// the digest of a token issued before the keys carried their expiry; such
// a token is found by its digest alone, until it expires.
const (
	// TokenKeyLen is the length of a key that carries its expiry.
	TokenKeyLen = 8 + TokenDigestLen
	// TokenDigestLen is how much of the value's digest such a key keeps.
	TokenDigestLen = 16
)

// NewTokenKey is the key of a token expiring at exp (whole seconds; any
// fraction is dropped) with digest, the SHA-256 of its value.
func NewTokenKey(exp time.Time, digest []byte) []byte {
	k := make([]byte, TokenKeyLen)
	binary.BigEndian.PutUint64(k, uint64(exp.Unix()))
	copy(k[8:], digest[:TokenDigestLen])
	return k
}

// SplitTokenKey returns the expiry and the digest a key carries; ok is
// false for the digest of an older token, which carries no expiry.
func SplitTokenKey(k []byte) (exp time.Time, digest []byte, ok bool) {
	if len(k) != TokenKeyLen {
		return time.Time{}, nil, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(k)), 0), k[8:], true
}

// JTILen is the length of a JWT access token's jti, decoded from its
// base64url, when it leads with the token's expiry as an opaque token's
// value does: 4 bytes of unix seconds, big-endian, then 128 random bits.
// Its record is keyed by that expiry and the whole jti. A jti of any other
// length is an older token's, with no expiry in it.
const JTILen = 4 + 16

// SplitJTI returns the expiry a decoded jti carries; ok is false for an
// older token's jti.
func SplitJTI(jti []byte) (exp time.Time, ok bool) {
	if len(jti) != JTILen {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint32(jti)), 0), true
}
