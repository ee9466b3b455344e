package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/sesame-id/sesame/internal/store"
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

// tokenValueLen is the length of an access or refresh token's value:
// base64url of its expiry in unix seconds (4 bytes, big-endian) and 256
// random bits.
var tokenValueLen = base64.RawURLEncoding.EncodedLen(4 + 32)

// NewTokenValue returns a fresh access or refresh token expiring at exp,
// and the key it is stored under (store.NewTokenKey). The value carries
// its expiry, which the key leads with, so that a token is found from its
// value alone; exp must be whole seconds, as the token's ExpiresAt, which
// is what the key holds.
func NewTokenValue(exp time.Time) (string, []byte) {
	v := stamped(exp, 32)
	return v, store.NewTokenKey(exp, Hash(v))
}

// stamped is base64url of exp's unix seconds (4 bytes, big-endian) and n
// random bytes: the form of a token value and of a jti, each keyed by
// the expiry it leads with.
func stamped(exp time.Time, n int) string {
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b[:4], uint32(exp.Unix()))
	_, _ = rand.Read(b[4:]) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// Key is the key the access or refresh token value is stored under: for a
// value NewTokenValue made, its expiry and digest; for any other (a token
// issued before values carried their expiry, or a forgery), the digest of
// the whole value, which finds an older token or nothing. A forged expiry
// changes the digest too, so it finds nothing either.
func Key(value string) []byte {
	if len(value) == tokenValueLen {
		var b [4 + 32]byte
		if n, err := base64.RawURLEncoding.Decode(b[:], []byte(value)); err == nil && n == len(b) {
			return store.NewTokenKey(time.Unix(int64(binary.BigEndian.Uint32(b[:4])), 0), Hash(value))
		}
	}
	return Hash(value)
}

// NewJTI returns a fresh jti for a JWT access token expiring at exp
// (whole seconds): base64url of exp's unix seconds and 128 random bits
// (store.JTILen), so that the token's record is keyed by its expiry as an
// opaque token is.
func NewJTI(exp time.Time) string { return stamped(exp, store.JTILen-4) }

// expiry is when a token issued at now for ttl expires, to the nearest
// second (its value and key carry seconds, and expires_in stays the ttl),
// never later than notAfter when that is set (a refresh token never
// outlives its grant, G5).
func expiry(now time.Time, ttl time.Duration, notAfter time.Time) time.Time {
	exp := now.Add(ttl).Round(time.Second)
	if !notAfter.IsZero() && notAfter.Before(exp) {
		exp = notAfter.Truncate(time.Second)
	}
	return exp
}
