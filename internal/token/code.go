package token

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// Sealer encrypts and authenticates what only Sesame may read back
// (package keys implements it with AES-256-GCM under a key derived from
// secret_key for this one purpose, so every instance opens what another
// sealed, and nothing sealed for another purpose opens as a code).
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// CodeParams is what an authorization code remembers of its request and
// sign-in.
type CodeParams struct {
	Client  store.Client
	Grant   store.Grant
	Session store.Session
	SID     string
	// RedirectURI is the redirect_uri the request carried, empty when it
	// carried none (then the token request may omit it, spec T7).
	RedirectURI         string
	Scopes              []string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// code is what an authorization code carries. It is sealed into the
// code's value rather than stored (design §2: transient flow state may
// live sealed instead of in a row), so issuing a code writes nothing; its
// single use is recorded when it is redeemed (Tx.UseAuthCode). The field
// names are short because the value travels in a redirect.
type code struct {
	ClientID  string `json:"c"`
	GrantID   string `json:"g"`
	AccountID string `json:"a"`
	SID       string `json:"s,omitempty"`
	// RedirectHash is the SHA-256 of the redirect_uri the request carried,
	// nil when it carried none: only compared, never shown, and a 2 KB URI
	// would make a long code.
	RedirectHash        []byte   `json:"r,omitempty"`
	Scopes              string   `json:"sc,omitempty"` // space-separated, as in a scope parameter
	Nonce               string   `json:"n,omitempty"`
	CodeChallenge       string   `json:"cc,omitempty"`
	CodeChallengeMethod string   `json:"cm,omitempty"`
	AuthTime            int64    `json:"t"` // Unix microseconds, as the store keeps times
	AMR                 []string `json:"m,omitempty"`
	ACR                 string   `json:"ac,omitempty"`
	ExpiresAt           int64    `json:"e"` // Unix microseconds
}

// MaxCodeLen is the longest code NewCode makes, and the longest the token
// endpoint reads: a code is a token (design W2: 4 KB). Only a request
// near the limits of both its scope (2 KB) and its nonce could need more.
const MaxCodeLen = 4 << 10

// ErrCodeTooLong means what a request asks for does not fit in a code of
// MaxCodeLen.
var ErrCodeTooLong = errors.New("the request's scope and nonce are too long to fit in an authorization code")

// errBadCode is a code Sesame did not seal, or sealed under another
// secret_key.
var errBadCode = errors.New("not an authorization code of this server")

// NewCode makes an authorization code for p: its value, which carries
// everything the token request needs, sealed. Nothing is stored.
func (s *Service) NewCode(p CodeParams) (string, error) {
	if s.Codes == nil {
		return "", errors.New("issue code: no code sealer configured")
	}
	c := code{
		ClientID:            p.Client.ID,
		GrantID:             p.Grant.ID,
		AccountID:           p.Session.AccountID,
		SID:                 p.SID,
		Scopes:              strings.Join(p.Scopes, " "),
		Nonce:               p.Nonce,
		CodeChallenge:       p.CodeChallenge,
		CodeChallengeMethod: p.CodeChallengeMethod,
		AuthTime:            p.Session.AuthTime.UnixMicro(),
		AMR:                 p.Session.AMR,
		ACR:                 p.Session.ACR,
		ExpiresAt:           s.Now().Add(s.TTL.Code).UnixMicro(),
	}
	if p.RedirectURI != "" {
		h := sha256.Sum256([]byte(p.RedirectURI))
		c.RedirectHash = h[:]
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("issue code: %w", err)
	}
	sealed, err := s.Codes.Seal(plain)
	if err != nil {
		return "", fmt.Errorf("issue code: %w", err)
	}
	value := base64.RawURLEncoding.EncodeToString(sealed)
	if len(value) > MaxCodeLen {
		return "", ErrCodeTooLong
	}
	return value, nil
}

// openCode reads back a code NewCode made.
func (s *Service) openCode(value string) (code, error) {
	var c code
	if s.Codes == nil {
		return c, errBadCode
	}
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return c, errBadCode
	}
	plain, err := s.Codes.Open(sealed)
	if err != nil {
		return c, errBadCode
	}
	if json.Unmarshal(plain, &c) != nil {
		return c, errBadCode
	}
	return c, nil
}

// redirectMatches reports whether uri is the redirect_uri the code's
// request carried.
func (c code) redirectMatches(uri string) bool {
	h := sha256.Sum256([]byte(uri))
	return subtle.ConstantTimeCompare(h[:], c.RedirectHash) == 1
}

func (c code) expiresAt() time.Time { return time.UnixMicro(c.ExpiresAt) }
func (c code) authTime() time.Time  { return time.UnixMicro(c.AuthTime) }
func (c code) scopes() []string     { return strings.Fields(c.Scopes) }

// usedKey is what records a code's use (Tx.UseAuthCode): half of its
// hash. 128 bits keep two codes apart as surely as 256, and every used
// code is stored until it expires.
func usedKey(hash []byte) []byte { return hash[:16] }

// expiresIn is the expires_in of a response, in whole seconds.
func expiresIn(exp, now time.Time) int64 {
	return int64(exp.Sub(now).Round(time.Second) / time.Second)
}
