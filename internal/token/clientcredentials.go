package token

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// ClientCredentialsRequest is a token request with
// grant_type=client_credentials (RFC 6749 §4.4).
type ClientCredentialsRequest struct {
	Scopes []string
	// Allowed are the scopes this client may be given, without Resource.
	Allowed []string
	// Resource, when set, asks for a JWT access token for that API
	// resource (R3): its scopes are those the client's roles permit,
	// narrowed to Scopes when it names some.
	Resource string
}

// ClientCredentials issues an access token to a machine client for
// itself. It rests on a grant of its own with no account and the token's
// lifetime, so revocation, introspection and the sweeper treat it like any
// other (G2). No refresh or ID token is issued.
func (s *Service) ClientCredentials(ctx context.Context, c store.Client, req ClientCredentialsRequest) (Response, error) {
	if req.Resource != "" {
		return s.clientAPIToken(ctx, c, req)
	}
	if err := requireScopes(req.Scopes, req.Allowed, "is not allowed for this client"); err != nil {
		return Response{}, err
	}
	now := s.Now()
	exp := expiry(now, s.TTL.Access, time.Time{})
	g := store.Grant{ID: NewID(), ClientID: c.ID, Scopes: req.Scopes, CreatedAt: now, ExpiresAt: exp}
	value, key := NewTokenValue(exp)
	at := store.AccessToken{Hash: key, GrantID: g.ID, ClientID: c.ID, Scopes: req.Scopes, CreatedAt: now, ExpiresAt: exp}
	err := s.Store.InTx(ctx, store.Routine, func(tx store.Tx) error {
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
		return tx.CreateAccessToken(ctx, at)
	})
	if err != nil {
		return Response{}, fmt.Errorf("issue client token to %s: %w", c.ID, err)
	}
	return Response{AccessToken: value, TokenType: "Bearer", ExpiresIn: expiresIn(at.ExpiresAt, now), Scope: grant.Format(req.Scopes)}, nil
}

// clientAPIToken issues a machine client's JWT access token for an API
// resource (R3): sub is the client itself, and the scopes are what its
// roles permit on that API (R2), the requested ones among them when it
// names some; a requested scope they do not permit is dropped, as at the
// authorization endpoint. A client whose roles permit nothing it asked
// for gets invalid_scope rather than a token that opens nothing: an API
// that checks only aud would otherwise let in every m2m client. No grant
// is made (no person granted anything): the token's record names the
// client alone, and introspection holds it active while the client
// exists.
func (s *Service) clientAPIToken(ctx context.Context, c store.Client, req ClientCredentialsRequest) (Response, error) {
	api, permitted, err := s.permittedAPI(ctx, resource.Client(c.ID), req.Resource)
	if err != nil {
		return Response{}, err
	}
	scopes := permitted
	if len(req.Scopes) > 0 {
		scopes = resource.Filter(req.Scopes, api, permitted)
	}
	if len(scopes) == 0 {
		return Response{}, deny(ErrInvalidScope, "the client's roles permit no requested scope of this resource")
	}
	t, err := s.signAccessJWT(accessJWT{client: c, subject: c.ID, token: apiToken{api: api, scopes: scopes}}, s.Now())
	if err != nil {
		return Response{}, err
	}
	err = s.Store.InTx(ctx, store.Routine, func(tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, t.record) })
	if err != nil {
		return Response{}, fmt.Errorf("issue client token for %s to %s: %w", api.Indicator, c.ID, err)
	}
	return Response{AccessToken: t.value, TokenType: "Bearer", ExpiresIn: t.expiresIn, Scope: grant.Format(scopes)}, nil
}
