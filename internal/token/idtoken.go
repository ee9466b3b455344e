package token

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/store"
)

// IDToken holds the claims of an ID token (Core §2). aud is a single string,
// the client id, as Logto's SDKs expect (docs/endpoints.md).
type IDToken struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience string   `json:"aud"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	AuthTime int64    `json:"auth_time"`
	Nonce    string   `json:"nonce,omitempty"`
	SID      string   `json:"sid"`
	AMR      []string `json:"amr,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AtHash   string   `json:"at_hash,omitempty"`
	UserClaims
}

// UserClaims are the claims the profile and email scopes release, in the ID
// token and at userinfo alike (docs/endpoints.md).
type UserClaims struct {
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	UpdatedAt         int64  `json:"updated_at,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     *bool  `json:"email_verified,omitempty"`
}

// ClaimsFor returns the claims scopes release about a; `sub` is always
// released and set by the caller.
func ClaimsFor(a store.Account, scopes []string) UserClaims {
	var c UserClaims
	if slices.Contains(scopes, "profile") {
		c.Name = a.Name
		c.PreferredUsername = a.Username
		if !a.UpdatedAt.IsZero() {
			c.UpdatedAt = a.UpdatedAt.Unix()
		}
	}
	if slices.Contains(scopes, "email") && a.Email != "" {
		c.Email = a.Email
		v := a.EmailVerified
		c.EmailVerified = &v
	}
	return c
}

// idTokenParams is what one ID token is made of.
type idTokenParams struct {
	client      store.Client
	account     store.Account
	sid         string
	nonce       string
	authTime    time.Time
	amr         []string
	acr         string
	scopes      []string
	accessToken string
}

// signIDToken signs an ID token for p, with the client's chosen algorithm.
func (s *Service) signIDToken(p idTokenParams) (string, error) {
	now := s.Now()
	claims := IDToken{
		Issuer:     s.Issuer,
		Subject:    p.account.ID,
		Audience:   p.client.ID,
		Expiry:     now.Add(s.TTL.ID).Unix(),
		IssuedAt:   now.Unix(),
		AuthTime:   p.authTime.Unix(),
		Nonce:      p.nonce,
		SID:        p.sid,
		AMR:        p.amr,
		ACR:        p.acr,
		AtHash:     atHash(p.accessToken),
		UserClaims: ClaimsFor(p.account, p.scopes),
	}
	tok, err := s.Signer.Sign(signingAlg(p.client), "JWT", claims)
	if err != nil {
		return "", fmt.Errorf("sign id token for client %s: %w", p.client.ID, err)
	}
	return tok, nil
}

// signingAlg is the algorithm c's ID tokens and JWT access tokens are
// signed with: its id_token_signed_response_alg, ES256 when it named none
// (design §2: the cheaper one by default).
func signingAlg(c store.Client) string {
	if c.IDTokenSignedResponseAlg != "" {
		return c.IDTokenSignedResponseAlg
	}
	return keys.ES256
}

// atHash is the left half of the SHA-256 of the access token (Core
// §3.1.3.6); both ES256 and RS256 use SHA-256.
func atHash(accessToken string) string {
	if accessToken == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
