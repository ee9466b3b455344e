package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// TypeAccessJWT is the typ header of a JWT access token (RFC 9068 §2.1,
// spec RI3).
const TypeAccessJWT = "at+jwt"

// AccessJWT holds the claims of an RFC 9068 JWT access token (§2.2, R3,
// spec RI4). aud is one string, the API's indicator: a token is for one
// API.
type AccessJWT struct {
	Issuer   string `json:"iss"`
	Expiry   int64  `json:"exp"`
	Audience string `json:"aud"`
	// Subject is the account, or the client itself for
	// client_credentials (RFC 9068 §2.2).
	Subject  string `json:"sub"`
	ClientID string `json:"client_id"`
	IssuedAt int64  `json:"iat"`
	JTI      string `json:"jti"`
	// Scope is space-separated, and absent when no scope was granted
	// (RFC 9068 §2.2.3).
	Scope string `json:"scope,omitempty"`
	// AuthTime and SID are a person's: when they authenticated, and the
	// sid of the client's authorization in the session, as in its ID
	// tokens (S3). A client's own token has neither.
	AuthTime int64  `json:"auth_time,omitempty"`
	SID      string `json:"sid,omitempty"`
}

// apiToken is the JWT access token a token request asks for with
// resource: its API and the scopes it will carry.
type apiToken struct {
	api    resource.API
	scopes []string
}

// api returns the API resource indicator names; a malformed or unknown
// one is invalid_target (R2, spec RI1).
func (s *Service) api(ctx context.Context, indicator string) (resource.API, error) {
	if s.Resources == nil { // a Service built without resources knows of no API
		return resource.API{}, deny(ErrInvalidTarget, "resource names no registered API")
	}
	api, err := s.Resources.API(ctx, indicator)
	return api, targetErr(err)
}

// permittedAPI is the API indicator names and the scopes h's roles permit
// on it, from one lookup (resource.Registry.Permitted), with the errors
// api answers.
func (s *Service) permittedAPI(ctx context.Context, h resource.Holder, indicator string) (resource.API, []string, error) {
	if s.Resources == nil {
		return resource.API{}, nil, deny(ErrInvalidTarget, "resource names no registered API")
	}
	api, permitted, err := s.Resources.Permitted(ctx, h, indicator)
	return api, permitted, targetErr(err)
}

// targetErr is a registry error as the token endpoint answers it: an
// unknown or malformed indicator is invalid_target (spec RI1).
func targetErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, resource.ErrUnknown):
		return deny(ErrInvalidTarget, "resource is malformed or names no registered API")
	default:
		return fmt.Errorf("API resource: %w", err)
	}
}

// grantedAPIToken decides the JWT access token a code or refresh request
// with resource gets (R3, spec RI2): the API must be one the grant covers
// (invalid_target otherwise), and the token carries the scopes the grant
// holds for it that the account's roles still permit, a role lost since
// the consent taking its scopes with it (R2). requested narrows them; one
// it names that the token could not carry is invalid_scope (spec R2).
func (s *Service) grantedAPIToken(ctx context.Context, g store.Grant, accountID, indicator string, requested []string) (apiToken, error) {
	api, permitted, err := s.permittedAPI(ctx, resource.Account(accountID), indicator)
	if err != nil {
		return apiToken{}, err
	}
	granted, ok := g.Resources[indicator]
	if !ok {
		return apiToken{}, deny(ErrInvalidTarget, "the grant does not cover this resource")
	}
	scopes := resource.Filter(granted, api, permitted)
	if len(requested) > 0 {
		if err := requireScopes(requested, scopes, "is not granted for this resource"); err != nil {
			return apiToken{}, err
		}
		scopes = grant.Union(nil, requested)
	}
	return apiToken{api: api, scopes: scopes}, nil
}

// accessJWT is what signing a JWT access token needs.
type accessJWT struct {
	client   store.Client
	grantID  string
	subject  string
	authTime time.Time // zero for a client's own token
	sid      string
	token    apiToken
	// notAfter caps the token's expiry: its grant's, for a person's.
	notAfter time.Time
}

// signedJWT is a JWT access token signed: its value, the record
// introspection will find it by (its jti), which the caller stores in the
// transaction that issues it, and its expires_in.
type signedJWT struct {
	value     string
	record    store.JWTAccessToken
	expiresIn int64
}

// signAccessJWT signs a JWT access token (RFC 9068, R3) as ID tokens are
// signed, with the client's chosen algorithm.
func (s *Service) signAccessJWT(p accessJWT, now time.Time) (signedJWT, error) {
	// Claims count whole seconds: from a whole iat, exp - iat and
	// expires_in are the API's access_token_ttl exactly, and the record
	// expires when the exp claim says.
	iat := now.Truncate(time.Second)
	exp := expiry(iat, p.token.api.AccessTokenTTL, p.notAfter)
	claims := AccessJWT{
		Issuer: s.Issuer, Expiry: exp.Unix(), Audience: p.token.api.Indicator, Subject: p.subject,
		ClientID: p.client.ID, IssuedAt: iat.Unix(), JTI: NewJTI(exp), Scope: grant.Format(p.token.scopes), SID: p.sid,
	}
	if !p.authTime.IsZero() {
		claims.AuthTime = p.authTime.Unix()
	}
	tok, err := s.Signer.Sign(signingAlg(p.client), TypeAccessJWT, claims)
	if err != nil {
		return signedJWT{}, fmt.Errorf("sign access token for %s: %w", p.token.api.Indicator, err)
	}
	rec := store.JWTAccessToken{
		JTI: claims.JTI, GrantID: p.grantID, ClientID: p.client.ID, Subject: p.subject,
		Resource: p.token.api.Indicator, CreatedAt: now, ExpiresAt: exp,
	}
	return signedJWT{value: tok, record: rec, expiresIn: expiresIn(exp, iat)}, nil
}

// introspectJWT describes a JWT access token (R3, spec I4, I5): active
// while it is one Sesame signed (its signature, typ at+jwt, iss), its
// record is found by its jti and agrees with it, it is unexpired, and
// what it hangs off still stands: a person's grant (not revoked, not
// expired, G2; so a global sign-out ends the tokens of the grants it
// revokes at once, O4) and enabled account, or a client's own token's
// client. Anything else is exactly {"active":false} (spec I3).
//
// Unlike an opaque token, it is described to any authenticated client,
// the API it was issued for above all: whoever holds it can read its
// claims already, and learns only whether it still stands.
func (s *Service) introspectJWT(ctx context.Context, value string) (Introspection, error) {
	inactive := Introspection{}
	c, ok := s.verifyAccessJWT(value)
	if !ok {
		return inactive, nil
	}
	now := s.Now()
	if !now.Before(time.Unix(c.Expiry, 0)) {
		return inactive, nil
	}
	rec, ok, err := s.accessJWTRecord(ctx, c)
	if err != nil || !ok || !now.Before(rec.ExpiresAt) {
		return inactive, err
	}
	// A token for an API that was deleted since is inactive: no API
	// takes it any more from Sesame's word (R1).
	if _, err := s.api(ctx, rec.Resource); err != nil {
		var d *Denied
		if errors.As(err, &d) {
			return inactive, nil
		}
		return inactive, err
	}
	if rec.GrantID != "" {
		g, err := grant.Load(ctx, s.Store, rec.GrantID, now)
		switch {
		case errors.Is(err, grant.ErrRevoked), errors.Is(err, grant.ErrExpired), errors.Is(err, store.ErrNotFound):
			return inactive, nil
		case err != nil:
			return inactive, err
		}
		acct, err := s.account(ctx, g.AccountID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return inactive, nil
		case err != nil:
			return inactive, fmt.Errorf("read account %s: %w", g.AccountID, err)
		case acct.Disabled:
			return inactive, nil
		}
	} else {
		_, err := s.Store.Client(ctx, rec.ClientID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return inactive, nil
		case err != nil:
			return inactive, fmt.Errorf("read client %s: %w", rec.ClientID, err)
		}
	}
	return Introspection{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, Subject: c.Subject, Audience: c.Audience,
		Issuer: c.Issuer, Expiry: c.Expiry, IssuedAt: c.IssuedAt, TokenType: "Bearer", SID: c.SID,
	}, nil
}

// verifyAccessJWT returns the claims of value when it is a JWT access
// token Sesame signed (R3, spec RI5): its signature verifies with one of
// Sesame's published keys, its typ is at+jwt, its iss Sesame's, and it
// has a jti. It checks no time.
func (s *Service) verifyAccessJWT(value string) (AccessJWT, bool) {
	if s.Verifier == nil {
		return AccessJWT{}, false
	}
	v, err := s.Verifier.Verify(value)
	if err != nil || v.Type != TypeAccessJWT {
		return AccessJWT{}, false
	}
	var c AccessJWT
	if json.Unmarshal(v.Payload, &c) != nil || c.Issuer != s.Issuer || c.JTI == "" {
		return AccessJWT{}, false
	}
	return c, true
}

// accessJWTRecord reads the record of the JWT access token c: false when
// there is none (swept, or revoked) or it does not agree with c.
func (s *Service) accessJWTRecord(ctx context.Context, c AccessJWT) (store.JWTAccessToken, bool, error) {
	rec, err := s.Store.JWTAccessToken(ctx, c.JTI)
	if errors.Is(err, store.ErrNotFound) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("read JWT access token record: %w", err)
	}
	return rec, rec.ClientID == c.ClientID && rec.Subject == c.Subject && rec.Resource == c.Audience, nil
}

// revokeJWT revokes a JWT access token (RFC 7009, R3) by deleting its
// record: introspection answers inactive from then on. An API that
// verifies the token offline keeps taking it until it expires, since
// nothing Sesame stores reaches it. A value that is not a JWT access
// token Sesame signed, or whose record is gone (swept, revoked before),
// is ignored (spec V3); another client's is ErrNotOwner (spec V2). It
// revokes that token alone, as for an opaque access token.
func (s *Service) revokeJWT(ctx context.Context, c store.Client, value string) error {
	claims, ok := s.verifyAccessJWT(value)
	if !ok {
		return nil
	}
	rec, ok, err := s.accessJWTRecord(ctx, claims)
	if err != nil || !ok {
		return err
	}
	if rec.ClientID != c.ID {
		return deny(ErrNotOwner, "the token was not issued to this client")
	}
	err = s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error { return tx.DeleteJWTAccessToken(ctx, rec.JTI) })
	if err != nil {
		return fmt.Errorf("revoke JWT access token for %s: %w", rec.Resource, err)
	}
	return nil
}
