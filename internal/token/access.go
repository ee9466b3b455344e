package token

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/store"
)

// Active is a checked access token with its grant and account.
type Active struct {
	Token   store.AccessToken
	Grant   store.Grant
	Account store.Account
}

// CheckAccess returns the access token named by value if it is active: known,
// not revoked, not expired, its grant valid and its account enabled (G2,
// spec I5).
func (s *Service) CheckAccess(ctx context.Context, value string) (Active, error) {
	now := s.Now()
	// One read for the token and its grant (a token whose grant was swept
	// is unknown), the account from the cache.
	at, g, err := s.Store.AccessTokenGrant(ctx, Key(value))
	if errors.Is(err, store.ErrNotFound) {
		return Active{}, deny(ErrInvalidToken, "unknown access token")
	}
	if err != nil {
		return Active{}, fmt.Errorf("read access token: %w", err)
	}
	if !at.RevokedAt.IsZero() || !now.Before(at.ExpiresAt) {
		return Active{}, deny(ErrInvalidToken, "access token expired or revoked")
	}
	if err := grant.Check(g, now); err != nil {
		return Active{}, deny(ErrInvalidToken, "grant revoked or expired")
	}
	if at.AccountID == "" { // a machine client's own token (client_credentials)
		return Active{Token: at, Grant: g}, nil
	}
	acct, err := s.account(ctx, at.AccountID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Active{}, fmt.Errorf("read account %s: %w", at.AccountID, err)
	}
	if err != nil || acct.Disabled {
		return Active{}, deny(ErrInvalidToken, "account disabled")
	}
	return Active{Token: at, Grant: g, Account: acct}, nil
}

// Hint is a token_type_hint (RFC 7009 §2.1, RFC 7662 §2.1).
type Hint string

// Hints that change the lookup order; any other value is ignored (spec V1).
const (
	HintAccess  Hint = "access_token"
	HintRefresh Hint = "refresh_token"
)

// Introspection is an RFC 7662 §2.2 response. An inactive token is exactly
// {"active":false} (spec I3).
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Subject   string `json:"sub,omitempty"`
	Audience  string `json:"aud,omitempty"`
	Issuer    string `json:"iss,omitempty"`
	Expiry    int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	SID       string `json:"sid,omitempty"`
}

// Introspect describes a token to the client it was issued to. Tokens of
// other clients are reported inactive, as are dead ones (spec I3, I5). A
// JWT access token is described to any client that presents it
// (introspectJWT).
func (s *Service) Introspect(ctx context.Context, c store.Client, value string, hint Hint) (Introspection, error) {
	inactive := Introspection{}
	if strings.Count(value, ".") == 2 { // a compact JWS; opaque values are base64url, without dots
		return s.introspectJWT(ctx, value)
	}
	tryRefresh := func() (Introspection, bool, error) {
		rt, err := s.checkRefresh(ctx, value)
		if err != nil {
			return inactive, false, err
		}
		if rt.ClientID != c.ID {
			return inactive, true, nil
		}
		return Introspection{
			Active: true, Scope: grant.Format(rt.Scopes), ClientID: rt.ClientID, Subject: rt.AccountID,
			Audience: rt.ClientID, Issuer: s.Issuer, Expiry: rt.ExpiresAt.Unix(), IssuedAt: rt.CreatedAt.Unix(),
			TokenType: "refresh_token", SID: rt.SID,
		}, true, nil
	}
	tryAccess := func() (Introspection, bool, error) {
		a, err := s.CheckAccess(ctx, value)
		if err != nil {
			return inactive, false, err
		}
		if a.Token.ClientID != c.ID {
			return inactive, true, nil
		}
		return Introspection{
			Active: true, Scope: grant.Format(a.Token.Scopes), ClientID: a.Token.ClientID, Subject: a.Token.AccountID,
			Audience: a.Token.ClientID, Issuer: s.Issuer, Expiry: a.Token.ExpiresAt.Unix(), IssuedAt: a.Token.CreatedAt.Unix(),
			TokenType: "Bearer",
		}, true, nil
	}
	order := []func() (Introspection, bool, error){tryAccess, tryRefresh}
	if hint == HintRefresh {
		order[0], order[1] = order[1], order[0]
	}
	for _, try := range order {
		res, found, err := try()
		if found {
			return res, nil
		}
		var d *Denied
		if err != nil && !errors.As(err, &d) {
			return inactive, err
		}
	}
	return inactive, nil
}

// checkRefresh returns the refresh token named by value if it is active.
func (s *Service) checkRefresh(ctx context.Context, value string) (store.RefreshToken, error) {
	now := s.Now()
	// One read for the token and its grant, as for access tokens (a token
	// whose grant was swept is unknown).
	rt, g, err := s.Store.RefreshTokenGrant(ctx, Key(value))
	if errors.Is(err, store.ErrNotFound) {
		return rt, deny(ErrInvalidToken, "unknown refresh token")
	}
	if err != nil {
		return rt, fmt.Errorf("read refresh token: %w", err)
	}
	if !rt.RevokedAt.IsZero() || !rt.UsedAt.IsZero() || !now.Before(rt.ExpiresAt) {
		return rt, deny(ErrInvalidToken, "refresh token inactive")
	}
	if err := grant.Check(g, now); err != nil {
		return rt, grantDenied(err)
	}
	return rt, nil
}

// Revoke handles RFC 7009 revocation. Both kinds are looked up, so a
// token_type_hint changes nothing (spec V1). Revoking a refresh token revokes its
// grant, so the access tokens of that grant die too (spec V4); revoking an
// access token revokes that token alone, a JWT one included (revokeJWT).
// Unknown tokens are not an error (spec V3); another client's token is
// ErrNotOwner (spec V2).
func (s *Service) Revoke(ctx context.Context, c store.Client, value string) error {
	if strings.Count(value, ".") == 2 { // a compact JWS, as in Introspect
		return s.revokeJWT(ctx, c, value)
	}
	hash := Key(value)
	rt, rtErr := s.Store.RefreshToken(ctx, hash)
	at, atErr := s.Store.AccessToken(ctx, hash)
	for _, err := range []error{rtErr, atErr} {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read token to revoke: %w", err)
		}
	}
	switch {
	case rtErr == nil:
		if rt.ClientID != c.ID {
			return deny(ErrNotOwner, "the token was not issued to this client")
		}
		return s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
			if err := tx.RevokeRefreshToken(ctx, hash, s.Now()); err != nil {
				return err
			}
			g := store.Grant{ID: rt.GrantID, AccountID: rt.AccountID, ClientID: rt.ClientID}
			_, err := grant.Revoke(ctx, tx, g, s.Now(), grant.ReasonRevocation)
			return err
		})
	case atErr == nil:
		if at.ClientID != c.ID {
			return deny(ErrNotOwner, "the token was not issued to this client")
		}
		return s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
			return tx.RevokeAccessToken(ctx, hash, s.Now())
		})
	}
	return nil
}
