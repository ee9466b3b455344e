package token

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/store"
)

// mintParams is what a set of tokens is made from: a code or a refresh token.
type mintParams struct {
	client  store.Client
	grant   store.Grant
	account store.Account
	// scopes are the access token's and the ID token's; refreshScopes
	// the refresh token's when they differ (a narrowed refresh), else
	// scopes.
	scopes        []string
	refreshScopes []string
	sid           string
	nonce         string
	authTime      time.Time
	amr           []string
	acr           string
	// api, when set, makes the access token an RFC 9068 JWT for that API
	// resource instead of the opaque one for userinfo (R3); scopes then
	// remain the OpenID scopes of the ID and refresh tokens.
	api *apiToken
}

// minted is a set of tokens made but not yet stored: an opaque access
// token, or the record of a JWT one.
type minted struct {
	access   *store.AccessToken
	jwt      *store.JWTAccessToken
	refresh  *store.RefreshToken
	response Response
}

// mint makes the access token, the refresh token when offline_access was
// granted (G3) and the ID token, outside any transaction.
func (s *Service) mint(p mintParams) (minted, error) {
	now := s.Now()
	var m minted
	if p.api != nil {
		t, err := s.signAccessJWT(accessJWT{
			client: p.client, grantID: p.grant.ID, subject: p.account.ID, authTime: p.authTime, sid: p.sid,
			token: *p.api, notAfter: p.grant.ExpiresAt,
		}, now)
		if err != nil {
			return minted{}, err
		}
		m.jwt = &t.record
		m.response = Response{AccessToken: t.value, TokenType: "Bearer", ExpiresIn: t.expiresIn, Scope: grant.Format(p.api.scopes)}
	} else {
		exp := expiry(now, s.TTL.Access, time.Time{})
		atValue, atKey := NewTokenValue(exp)
		m.access = &store.AccessToken{
			Hash: atKey, GrantID: p.grant.ID, ClientID: p.client.ID, AccountID: p.account.ID,
			Scopes: p.scopes, CreatedAt: now, ExpiresAt: exp,
		}
		m.response = Response{
			AccessToken: atValue,
			TokenType:   "Bearer",
			ExpiresIn:   expiresIn(exp, now),
			Scope:       grant.Format(p.scopes),
		}
	}
	if slices.Contains(p.scopes, "openid") {
		id, err := s.signIDToken(idTokenParams{
			client: p.client, account: p.account, sid: p.sid, nonce: p.nonce,
			authTime: p.authTime, amr: p.amr, acr: p.acr, scopes: p.scopes, accessToken: m.response.AccessToken,
		})
		if err != nil {
			return minted{}, err
		}
		m.response.IDToken = id
	}
	if p.refreshScopes == nil {
		p.refreshScopes = p.scopes
	}
	if slices.Contains(p.refreshScopes, grant.ScopeOfflineAccess) && grant.HasOffline(p.grant) &&
		client.AllowsGrantType(p.client, "refresh_token") {
		exp := expiry(now, s.TTL.Refresh, p.grant.ExpiresAt) // G5: never past its grant
		rtValue, rtKey := NewTokenValue(exp)
		m.refresh = &store.RefreshToken{
			Hash: rtKey, GrantID: p.grant.ID, ClientID: p.client.ID, AccountID: p.account.ID,
			SID: p.sid, AuthTime: p.authTime, AMR: p.amr, ACR: p.acr,
			Scopes: p.refreshScopes, CreatedAt: now, ExpiresAt: exp,
		}
		m.response.RefreshToken = rtValue
	}
	return m, nil
}

// save records the minted tokens in tx.
func (m minted) save(ctx context.Context, tx store.Tx) error {
	if m.access != nil {
		if err := tx.CreateAccessToken(ctx, *m.access); err != nil {
			return fmt.Errorf("store access token: %w", err)
		}
	}
	if m.jwt != nil {
		if err := tx.CreateJWTAccessToken(ctx, *m.jwt); err != nil {
			return fmt.Errorf("record JWT access token: %w", err)
		}
	}
	if m.refresh != nil {
		if err := tx.CreateRefreshToken(ctx, *m.refresh); err != nil {
			return fmt.Errorf("store refresh token: %w", err)
		}
	}
	return nil
}
