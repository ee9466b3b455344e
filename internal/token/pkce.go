package token

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// MethodS256 is the only PKCE method Sesame accepts (BCP §2.1.1).
const MethodS256 = "S256"

// ValidVerifierSyntax reports whether v is 43 to 128 characters of
// [A-Za-z0-9-._~] (RFC 7636 §4.1, spec T11). The same syntax holds for a
// code_challenge.
func ValidVerifierSyntax(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// checkPKCE applies RFC 7636 §4.6 and the downgrade rule (spec T9, T10).
func checkPKCE(challenge, method, verifier string) error {
	switch {
	case challenge == "" && verifier != "":
		return deny(ErrInvalidGrant, "code_verifier sent but the authorization request had no code_challenge")
	case challenge == "":
		return nil
	case verifier == "":
		return deny(ErrInvalidGrant, "code_verifier required")
	case !ValidVerifierSyntax(verifier):
		return deny(ErrInvalidGrant, "code_verifier is not 43-128 unreserved characters")
	case method != MethodS256:
		return deny(ErrInvalidGrant, "unsupported code_challenge_method")
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return deny(ErrInvalidGrant, "code_verifier does not match code_challenge")
	}
	return nil
}
