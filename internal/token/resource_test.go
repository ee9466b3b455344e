package token

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// signer records what it was asked to sign.
type signer struct {
	alg, typ string
	claims   AccessJWT
}

func (s *signer) Sign(alg, typ string, claims any) (string, error) {
	s.alg, s.typ, s.claims = alg, typ, claims.(AccessJWT)
	return "header.payload.signature", nil
}

// R3, spec RI3, RI4: a JWT access token counts whole seconds from iat,
// so its exp - iat and expires_in are the API's lifetime exactly, even
// when issued in the middle of a second, and never past what caps it
// (its grant); its record expires with it; its typ is at+jwt and its alg
// the client's ID token algorithm; its jti is 16 random bytes.
func TestAccessJWTTimesAndHeader(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 700_000_000, time.UTC)
	api := resource.API{Indicator: "https://api.example.com/orders", AccessTokenTTL: time.Hour}
	for _, c := range []struct {
		name      string
		client    store.Client
		notAfter  time.Time
		wantAlg   string
		expiresIn int64
	}{
		{"default", store.Client{ID: "app"}, time.Time{}, "ES256", 3600},
		{"RS256 client", store.Client{ID: "app", IDTokenSignedResponseAlg: "RS256"}, time.Time{}, "RS256", 3600},
		{"grant ends first", store.Client{ID: "app"}, now.Add(10 * time.Minute), "ES256", 600},
	} {
		sg := &signer{}
		s := &Service{Signer: sg, Issuer: "https://sesame.example/oidc"}
		got, err := s.signAccessJWT(accessJWT{client: c.client, grantID: "g", subject: "acct", sid: "sid-1",
			authTime: now.Add(-time.Minute), token: apiToken{api: api, scopes: []string{"read:orders"}}, notAfter: c.notAfter}, now)
		if err != nil {
			t.Fatal(err)
		}
		cl := sg.claims
		if sg.typ != "at+jwt" || sg.alg != c.wantAlg {
			t.Errorf("%s: typ %q alg %q", c.name, sg.typ, sg.alg)
		}
		if got.expiresIn != c.expiresIn || cl.Expiry-cl.IssuedAt != c.expiresIn || cl.IssuedAt != now.Unix() ||
			!got.record.ExpiresAt.Equal(time.Unix(cl.Expiry, 0)) {
			t.Errorf("%s: expires_in %d, iat %d, exp %d, record expires %v", c.name, got.expiresIn, cl.IssuedAt, cl.Expiry, got.record.ExpiresAt)
		}
		// The jti leads with the token's expiry, by which its record is keyed.
		if b, err := base64.RawURLEncoding.Strict().DecodeString(cl.JTI); err != nil || len(b) != store.JTILen || got.record.JTI != cl.JTI {
			t.Errorf("%s: jti %q, record %q", c.name, cl.JTI, got.record.JTI)
		} else if exp, _ := store.SplitJTI(b); exp.Unix() != cl.Expiry {
			t.Errorf("%s: jti carries expiry %v, token %d", c.name, exp, cl.Expiry)
		}
		if cl.Audience != api.Indicator || cl.Subject != "acct" || cl.ClientID != "app" || cl.Scope != "read:orders" ||
			cl.SID != "sid-1" || cl.AuthTime != now.Add(-time.Minute).Unix() || cl.Issuer != s.Issuer {
			t.Errorf("%s: claims %+v", c.name, cl)
		}
		if r := got.record; r.GrantID != "g" || r.ClientID != "app" || r.Subject != "acct" || r.Resource != api.Indicator || !r.CreatedAt.Equal(now) {
			t.Errorf("%s: record %+v", c.name, r)
		}
	}
}
