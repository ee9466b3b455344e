package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// GeneratedPrefix begins every client secret Sesame generates, so that
// secret scanners (GitHub's push protection, gitleaks, trufflehog) can
// recognise one that leaked into a repository or a log (C3).
const GeneratedPrefix = "sesame_cs_"

// generatedBytes is the randomness of a generated secret: 256 bits, which
// no guessing reaches, so a slow hash would add nothing but cost (C3).
const generatedBytes = 32

// sha256Scheme begins the stored form of a generated secret.
const sha256Scheme = "$sha256$"

// NewClientSecret returns a new client secret: GeneratedPrefix and 256
// random bits in base64url (43 characters). Store it with HashGenerated.
func NewClientSecret() string {
	var b [generatedBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return GeneratedPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// IsGenerated reports whether plain has the shape of a secret that
// NewClientSecret made: the prefix and exactly 256 bits of base64url. Only
// such a secret is stored as a fast SHA-256; anything else an operator
// chose is argon2id (C3). A person could type that shape by hand, but
// only on purpose, and it still holds 43 characters of base64url.
func IsGenerated(plain string) bool {
	rest, ok := strings.CutPrefix(plain, GeneratedPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(generatedBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil && len(b) == generatedBytes
}

// HashGenerated returns the stored form of a generated secret:
// $sha256$ and the base64 of its SHA-256. Verify recognises it by its
// scheme and compares in constant time.
func HashGenerated(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return sha256Scheme + base64.RawStdEncoding.EncodeToString(sum[:])
}

// IsGeneratedHash reports whether hash is a generated secret's stored
// form (a $sha256$ digest), well formed or not.
func IsGeneratedHash(hash string) bool { return strings.HasPrefix(hash, sha256Scheme) }

// verifyGenerated checks plain against a $sha256$ digest. The digest of
// what was presented is compared, never the secret itself, and in constant
// time, so neither the length nor the first differing byte shows in the
// answer's timing.
func verifyGenerated(hash, plain string) (bool, error) {
	want, err := base64.RawStdEncoding.Strict().DecodeString(strings.TrimPrefix(hash, sha256Scheme))
	if err != nil || len(want) != sha256.Size {
		return false, ErrMalformed
	}
	got := sha256.Sum256([]byte(plain))
	return subtle.ConstantTimeCompare(got[:], want) == 1, nil
}
