package token

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/store"
)

// RefreshRequest is a token request with grant_type=refresh_token.
type RefreshRequest struct {
	RefreshToken string
	// Scopes narrows the new tokens; empty means all the token carries.
	// With Resource, it narrows the JWT access token's scopes instead,
	// and the refresh and ID tokens keep every scope of the old one.
	Scopes []string
	// Resource, when set, asks for a JWT access token for that API
	// resource of the grant instead of the opaque one (RFC 8707 §2.2,
	// R3).
	Resource string
}

// Refresh rotates a refresh token (RFC 6749 §6, design G4, G5). With a
// resource, the access token it answers is a JWT for that API resource of
// the grant (R3); the rotation is the same.
//
// Concurrency (spec R6): the token is consumed by a conditional update in
// the write transaction, so of several requests presenting one token at
// once exactly one gets new tokens. Every other one is reuse: it revokes the
// grant (G4, spec R5), which also kills the winner's new tokens. Sesame
// chooses the strict rule over a grace period because a grace period lets a
// thief who refreshes first keep the grant; clients must serialise their
// refreshes (Sesame's SDK does).
func (s *Service) Refresh(ctx context.Context, c store.Client, req RefreshRequest) (Response, error) {
	now := s.Now()
	hash := Key(req.RefreshToken)
	rt, g, err := s.Store.Primary().RefreshTokenGrant(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Response{}, deny(ErrInvalidGrant, "unknown refresh token")
	}
	if err != nil {
		return Response{}, fmt.Errorf("read refresh token: %w", err)
	}
	switch {
	case rt.ClientID != c.ID: // spec R1
		return Response{}, deny(ErrInvalidGrant, "refresh token was issued to another client")
	case !rt.RevokedAt.IsZero():
		return Response{}, deny(ErrInvalidGrant, "refresh token revoked")
	case !rt.UsedAt.IsZero():
		return Response{}, s.refreshReused(ctx, rt)
	case !now.Before(rt.ExpiresAt):
		return Response{}, deny(ErrInvalidGrant, "refresh token expired")
	}
	scopes := rt.Scopes
	if len(req.Scopes) > 0 && req.Resource == "" {
		if err := requireScopes(req.Scopes, rt.Scopes, "was not granted"); err != nil { // spec R2
			return Response{}, err
		}
		scopes = req.Scopes
	}
	// The new refresh token keeps every scope of the old one: narrowing one
	// access token must not shrink what the grant allows (spec R2).
	return s.redeem(ctx, redemption{
		grantID: rt.GrantID, accountID: rt.AccountID, grant: &g,
		mint: mintParams{
			client: c, scopes: scopes, refreshScopes: rt.Scopes,
			sid: rt.SID, authTime: rt.AuthTime, amr: rt.AMR, acr: rt.ACR, // spec R3: no nonce
		},
		resource: req.Resource, resourceScopes: req.Scopes,
		consume: func(tx store.Tx) error { return tx.ConsumeRefreshToken(ctx, hash, now) },
		reused:  func() error { return s.refreshReused(ctx, rt) },
	})
}

// refreshReused applies G4: presenting a rotated refresh token revokes the
// whole grant, and with it every token on it.
func (s *Service) refreshReused(ctx context.Context, rt store.RefreshToken) error {
	var revoked bool
	err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		g := store.Grant{ID: rt.GrantID, AccountID: rt.AccountID, ClientID: rt.ClientID}
		if revoked, err = grant.Revoke(ctx, tx, g, s.Now(), grant.ReasonRefreshReuse); err != nil || !revoked {
			return err
		}
		return tx.AddEvent(ctx, store.Event{At: s.Now(), Kind: store.EventRefreshReuse, AccountID: rt.AccountID,
			ClientID: rt.ClientID, Detail: "grant " + rt.GrantID})
	})
	if err != nil {
		return fmt.Errorf("revoke grant after refresh token reuse: %w", err)
	}
	if revoked {
		s.Logger.WarnContext(ctx, "refresh token reuse detected; grant revoked",
			"event", "refresh_token_reuse", "client_id", rt.ClientID, "grant_id", rt.GrantID, "account_id", rt.AccountID)
	}
	return deny(ErrInvalidGrant, "refresh token already used")
}
