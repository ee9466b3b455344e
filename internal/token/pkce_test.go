package token

import (
	"errors"
	"strings"
	"testing"
)

// spec T9, T10, T11 (RFC 7636 §4.1, §4.6, Appendix B).
func TestCheckPKCE(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 Appendix B
	cases := []struct {
		name                        string
		challenge, method, verifier string
		ok                          bool
	}{
		{"no PKCE at all", "", "", "", true},
		{"right verifier", challenge, "S256", verifier, true},
		{"wrong verifier", challenge, "S256", strings.Repeat("a", 43), false},
		{"missing verifier", challenge, "S256", "", false},
		{"verifier too short", challenge, "S256", "abc", false},
		{"verifier bad characters", challenge, "S256", strings.Repeat("a", 42) + "!", false},
		{"downgrade", "", "", verifier, false},
		{"plain method", challenge, "plain", challenge, false},
	}
	for _, c := range cases {
		err := checkPKCE(c.challenge, c.method, c.verifier)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("%s: %v is not invalid_grant", c.name, err)
		}
	}
}

// spec T13, T14: 256-bit values within the token grammar, stored by hash.
func TestNewValue(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		v, h := NewValue()
		if len(v) != 43 || !ValidVerifierSyntax(v) || seen[v] || string(h) != string(Hash(v)) {
			t.Fatalf("value %q", v)
		}
		seen[v] = true
	}
}
