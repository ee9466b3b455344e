package token

import (
	"context"
	"fmt"
	"slices"

	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/store"
)

// ClientCredentialsRequest is a token request with
// grant_type=client_credentials (RFC 6749 §4.4).
type ClientCredentialsRequest struct {
	Scopes []string
	// Allowed are the scopes this client may be given.
	Allowed []string
}

// ClientCredentials issues an access token to a machine client for
// itself. It rests on a grant of its own with no account and the token's
// lifetime, so revocation, introspection and the sweeper treat it like any
// other (G2). No refresh or ID token is issued.
func (s *Service) ClientCredentials(ctx context.Context, c store.Client, req ClientCredentialsRequest) (Response, error) {
	for _, sc := range req.Scopes {
		if !slices.Contains(req.Allowed, sc) {
			return Response{}, deny(ErrInvalidScope, "scope "+sc+" is not allowed for this client")
		}
	}
	now := s.Now()
	g := store.Grant{ID: NewID(), ClientID: c.ID, Scopes: req.Scopes, CreatedAt: now, ExpiresAt: now.Add(s.TTL.Access)}
	value, hash := NewValue()
	at := store.AccessToken{Hash: hash, GrantID: g.ID, ClientID: c.ID, Scopes: req.Scopes, CreatedAt: now, ExpiresAt: g.ExpiresAt}
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
