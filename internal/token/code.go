package token

import (
	"slices"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

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

// NewCode makes an authorization code for p. The caller stores it with
// Tx.CreateAuthCode in the same transaction as the grant and authorization.
func (s *Service) NewCode(p CodeParams) (string, store.AuthCode) {
	value, hash := NewValue()
	now := s.Now()
	family, _ := NewValue()
	return value, store.AuthCode{
		Hash:                hash,
		ClientID:            p.Client.ID,
		GrantID:             p.Grant.ID,
		SessionID:           p.Session.ID,
		AccountID:           p.Session.AccountID,
		SID:                 p.SID,
		FamilyID:            family,
		RedirectURI:         p.RedirectURI,
		Scopes:              slices.Clone(p.Scopes),
		Nonce:               p.Nonce,
		CodeChallenge:       p.CodeChallenge,
		CodeChallengeMethod: p.CodeChallengeMethod,
		AuthTime:            p.Session.AuthTime,
		AMR:                 p.Session.AMR,
		ACR:                 p.Session.ACR,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.TTL.Code),
	}
}

// expiresIn is the expires_in of a response, in whole seconds.
func expiresIn(exp, now time.Time) int64 {
	return int64(exp.Sub(now).Round(time.Second) / time.Second)
}
