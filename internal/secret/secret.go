package secret

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Hasher holds argon2id parameters.
type Hasher struct {
	// Memory in KiB, Time in passes, Threads in lanes.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// Default follows OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane):
// about 20-30 ms on one core here, cheap enough not to need a queue in
// front of sign-in, costly enough to make offline guessing slow.
var Default = Hasher{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformed means a stored hash is neither an argon2id PHC string nor
// a generated secret's $sha256$ digest.
var ErrMalformed = errors.New("malformed secret hash")

// Hash returns the PHC string of plain:
// $argon2id$v=19$m=...,t=...,p=...$salt$key.
func (h Hasher) Hash(plain string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(plain), salt, h.Time, h.Memory, h.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.Memory, h.Time, h.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether plain matches hash, in constant time. The hash
// names its scheme: argon2id with the parameters it carries, or the
// SHA-256 of a generated client secret (C3). IsSlow tells the two apart
// for callers that must admit the slow one through a Pool.
func Verify(hash, plain string) (bool, error) {
	if IsGeneratedHash(hash) {
		return verifyGenerated(hash, plain)
	}
	return verifyArgon2id(hash, plain)
}

// IsSlow reports whether checking a secret against hash runs argon2id:
// a caller admits such checks through a Pool (A4). A generated secret's
// SHA-256 is checked at once.
func IsSlow(hash string) bool { return strings.HasPrefix(hash, "$argon2id$") }

// verifyArgon2id checks plain against an argon2id PHC string.
func verifyArgon2id(hash, plain string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformed
	}
	var h Hasher
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.Memory, &h.Time, &h.Threads); err != nil ||
		h.Memory == 0 || h.Time == 0 || h.Threads == 0 || h.Memory > 4<<20 || h.Time > 64 {
		return false, ErrMalformed
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 {
		return false, ErrMalformed
	}
	got := argon2.IDKey([]byte(plain), salt, h.Time, h.Memory, h.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

var (
	dummyMu sync.Mutex
	dummies = map[Hasher]string{}
)

// Dummy returns a valid hash of a random secret with h's parameters, made
// once per Hasher. Checking a password against it costs what checking a
// real one does, so an unknown username answers as slowly as a wrong
// password (A2).
func (h Hasher) Dummy() string {
	dummyMu.Lock()
	defer dummyMu.Unlock()
	if d, ok := dummies[h]; ok {
		return d
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	d, err := h.Hash(base64.RawStdEncoding.EncodeToString(b[:]))
	if err != nil {
		return "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"
	}
	dummies[h] = d
	return d
}
