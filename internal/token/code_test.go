package token

import (
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/store"
)

func codeService(t *testing.T, secret string) *Service {
	t.Helper()
	sealer, err := keys.NewSealerFor([]byte(secret), "sesame authorization codes")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	return &Service{Codes: sealer, Now: func() time.Time { return now }, TTL: TTLs{Code: time.Minute}}
}

func codeParams() CodeParams {
	return CodeParams{
		Client:  store.Client{ID: "app"},
		Grant:   store.Grant{ID: "grant-1"},
		Session: store.Session{AccountID: "acct", AuthTime: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), AMR: []string{"pwd"}},
		SID:     "sid-1", RedirectURI: "https://app.example/cb", Scopes: []string{"openid", "offline_access"},
		Nonce: "n-0S6", CodeChallenge: strings.Repeat("c", 43), CodeChallengeMethod: "S256",
	}
}

// TestSealedCodeOpensOnlyUnchanged: a code carries what its request needs
// back to the token endpoint, and only a code this server sealed, under
// this secret_key, unaltered, opens (design §2: sealed transient state).
func TestSealedCodeOpensOnlyUnchanged(t *testing.T) {
	s := codeService(t, "a secret key of 32 bytes, or so.")
	value, err := s.NewCode(codeParams())
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.openCode(value)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	p := codeParams()
	if c.ClientID != "app" || c.GrantID != "grant-1" || c.AccountID != "acct" || c.SID != "sid-1" ||
		c.Nonce != p.Nonce || c.CodeChallenge != p.CodeChallenge || c.CodeChallengeMethod != "S256" ||
		!c.authTime().Equal(p.Session.AuthTime) || strings.Join(c.scopes(), " ") != "openid offline_access" ||
		!c.expiresAt().Equal(s.Now().Add(time.Minute)) || !c.redirectMatches(p.RedirectURI) || c.redirectMatches("https://evil.example/cb") {
		t.Errorf("opened code %+v does not carry its request", c)
	}

	other := codeService(t, "another secret key, also 32 bytes")
	if _, err := other.openCode(value); err == nil {
		t.Error("a code opened under another secret_key")
	}
	for i := range value {
		flipped := []byte(value)
		flipped[i] ^= 1
		if _, err := s.openCode(string(flipped)); err == nil {
			t.Fatalf("a code altered at byte %d opened", i)
		}
	}
	for _, v := range []string{"", "not base64 !", value[:20]} {
		if _, err := s.openCode(v); err == nil {
			t.Errorf("%q opened as a code", v)
		}
	}
}

// TestCodeTooLongIsRefused: a request whose scope and nonce would not fit
// in MaxCodeLen gets ErrCodeTooLong rather than a code the token endpoint
// would refuse to read (W2).
func TestCodeTooLongIsRefused(t *testing.T) {
	s := codeService(t, "a secret key of 32 bytes, or so.")
	p := codeParams()
	p.Scopes = []string{strings.Repeat("s", 2048)}
	p.Nonce = strings.Repeat("n", 2048)
	if _, err := s.NewCode(p); err != ErrCodeTooLong {
		t.Errorf("NewCode = %v, want ErrCodeTooLong", err)
	}
	p = codeParams()
	p.Scopes = []string{strings.Repeat("s", 2000)} // within the scope limit
	p.Nonce = strings.Repeat("n", 512)             // the nonce limit
	if v, err := s.NewCode(p); err != nil || len(v) > MaxCodeLen {
		t.Errorf("a request within the W2 limits: code of %d bytes, %v", len(v), err)
	}
}
