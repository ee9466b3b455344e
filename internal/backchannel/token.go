package backchannel

import (
	"fmt"
	"time"
)

// EventLogout is the one member of a logout token's events claim (BCL §2.4).
const EventLogout = "http://schemas.openid.net/event/backchannel-logout"

// TokenTTL is how long a logout token is valid (B1: short, 2 minutes; spec
// B8).
const TokenTTL = 2 * time.Minute

// LogoutToken is the claim set of a logout token (B1, spec B3-B5). It never
// has a nonce.
type LogoutToken struct {
	Issuer   string              `json:"iss"`
	Audience string              `json:"aud"`
	IssuedAt int64               `json:"iat"`
	Expiry   int64               `json:"exp"`
	JTI      string              `json:"jti"`
	Events   map[string]struct{} `json:"events"`
	Subject  string              `json:"sub"`
	SID      string              `json:"sid"`
}

// Signer signs claims with the OP's keys (package keys).
type Signer interface {
	Sign(alg, typ string, claims any) (string, error)
}

// signToken signs a fresh logout token for one attempt: the same jti every
// time, a new iat and exp (B2), with the algorithm of the client's ID tokens
// (spec B6) and typ logout+jwt (spec B7).
func signToken(s Signer, alg, issuer, clientID, jti, sub, sid string, now time.Time) (string, error) {
	if alg == "" {
		alg = "ES256"
	}
	tok, err := s.Sign(alg, "logout+jwt", LogoutToken{
		Issuer: issuer, Audience: clientID, IssuedAt: now.Unix(), Expiry: now.Add(TokenTTL).Unix(),
		JTI: jti, Events: map[string]struct{}{EventLogout: {}}, Subject: sub, SID: sid,
	})
	if err != nil {
		return "", fmt.Errorf("sign logout token %s: %w", jti, err)
	}
	return tok, nil
}
