package sql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const accessTokenCols = `hash, grant_id, client_id, account_id, scopes, created_at, expires_at, revoked_at`

const refreshTokenCols = `hash, grant_id, client_id, account_id, sid, auth_time, amr, acr, scopes,
	created_at, expires_at, used_at, revoked_at`

const (
	qAccessToken       = `SELECT ` + accessTokenCols + ` FROM access_tokens WHERE hash = $1`
	qCreateAccessToken = `INSERT INTO access_tokens (` + accessTokenCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`
	// coalesce keeps the first revocation time.
	qRevokeAccessToken  = `UPDATE access_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`
	qRefreshToken       = `SELECT ` + refreshTokenCols + ` FROM refresh_tokens WHERE hash = $1`
	qCreateRefreshToken = `
		INSERT INTO refresh_tokens (` + refreshTokenCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT DO NOTHING`
	// As for codes, the condition on used_at makes rotation single use.
	qConsumeRefreshToken = `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL RETURNING ` + refreshTokenCols
	qRevokeRefreshToken  = `UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`
)

func scanAccessToken(row scanner) (store.AccessToken, error) {
	var t store.AccessToken
	err := row.Scan(accessTokenDests(&t)...)
	return t, err
}

// accessTokenDests are the scan destinations of accessTokenCols.
func accessTokenDests(t *store.AccessToken) []any {
	return []any{blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, wordsDest{&t.Scopes},
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}, timeDest{&t.RevokedAt}}
}

func scanRefreshToken(row scanner) (store.RefreshToken, error) {
	var t store.RefreshToken
	err := row.Scan(refreshTokenDests(&t)...)
	return t, err
}

// refreshTokenDests are the scan destinations of refreshTokenCols.
func refreshTokenDests(t *store.RefreshToken) []any {
	return []any{blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, &t.SID,
		timeDest{&t.AuthTime}, wordsDest{&t.AMR}, &t.ACR, wordsDest{&t.Scopes},
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}, timeDest{&t.UsedAt}, timeDest{&t.RevokedAt}}
}

// AccessToken reads an opaque access token by the hash of its value.
func (r reader) AccessToken(ctx context.Context, hash []byte) (store.AccessToken, error) {
	t, err := scanAccessToken(r.q.queryRow(ctx, qAccessToken, hash))
	if err != nil {
		return store.AccessToken{}, fmt.Errorf("read access token: %w", dbErr(err))
	}
	return t, nil
}

// withGrant is the SELECT of a token table's cols joined with the
// token's grant: userinfo, introspection and a refresh read both in one
// search of each primary key, not two reads.
func withGrant(table, cols string) string {
	return `SELECT ` + columnsOf("t", cols) + `, ` + columnsOf("g", grantCols) + `
	FROM ` + table + ` t JOIN grants g ON g.id = t.grant_id WHERE t.hash = $1`
}

var (
	qAccessTokenGrant  = withGrant("access_tokens", accessTokenCols)
	qRefreshTokenGrant = withGrant("refresh_tokens", refreshTokenCols)
)

// tokenGrant reads the token with hash and its grant by query (withGrant);
// a token whose grant is gone is ErrNotFound.
func tokenGrant[T any](ctx context.Context, q querier, query string, hash []byte, dests func(*T) []any) (T, store.Grant, error) {
	var t T
	var g store.Grant
	if err := q.queryRow(ctx, query, hash).Scan(append(dests(&t), grantDests(&g)...)...); err != nil {
		var zero T
		return zero, store.Grant{}, dbErr(err)
	}
	return t, g, nil
}

// AccessTokenGrant reads an access token by the hash of its value with
// its grant; a token whose grant is gone is ErrNotFound.
func (r reader) AccessTokenGrant(ctx context.Context, hash []byte) (store.AccessToken, store.Grant, error) {
	t, g, err := tokenGrant(ctx, r.q, qAccessTokenGrant, hash, accessTokenDests)
	if err != nil {
		return t, g, fmt.Errorf("read access token: %w", err)
	}
	return t, g, nil
}

// RefreshTokenGrant reads a refresh token by the hash of its value with
// its grant; a token whose grant is gone is ErrNotFound.
func (r reader) RefreshTokenGrant(ctx context.Context, hash []byte) (store.RefreshToken, store.Grant, error) {
	t, g, err := tokenGrant(ctx, r.q, qRefreshTokenGrant, hash, refreshTokenDests)
	if err != nil {
		return t, g, fmt.Errorf("read refresh token: %w", err)
	}
	return t, g, nil
}

// RefreshToken reads a refresh token by the hash of its value.
func (r reader) RefreshToken(ctx context.Context, hash []byte) (store.RefreshToken, error) {
	t, err := scanRefreshToken(r.q.queryRow(ctx, qRefreshToken, hash))
	if err != nil {
		return store.RefreshToken{}, fmt.Errorf("read refresh token: %w", dbErr(err))
	}
	return t, nil
}

// CreateAccessToken inserts an access token; a taken hash is
// store.ErrConflict.
func (t *tx) CreateAccessToken(ctx context.Context, a store.AccessToken) error {
	err := insertNew(ctx, t.q, qCreateAccessToken,
		blobArg(a.Hash), a.GrantID, a.ClientID, a.AccountID, wordsArg(a.Scopes),
		timeArg(a.CreatedAt), timeArg(a.ExpiresAt), timeArg(a.RevokedAt))
	if err != nil {
		return fmt.Errorf("create access token of grant %s: %w", a.GrantID, err)
	}
	return nil
}

// RevokeAccessToken marks one access token revoked. A token revoked before
// keeps its first RevokedAt.
func (t *tx) RevokeAccessToken(ctx context.Context, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("revoke access token: zero time")
	}
	if err := execOne(ctx, t.q, qRevokeAccessToken, timeArg(at), hash); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// CreateRefreshToken inserts a refresh token; a taken hash is
// store.ErrConflict.
func (t *tx) CreateRefreshToken(ctx context.Context, r store.RefreshToken) error {
	err := insertNew(ctx, t.q, qCreateRefreshToken,
		blobArg(r.Hash), r.GrantID, r.ClientID, r.AccountID, r.SID,
		timeArg(r.AuthTime), wordsArg(r.AMR), r.ACR, wordsArg(r.Scopes),
		timeArg(r.CreatedAt), timeArg(r.ExpiresAt), timeArg(r.UsedAt), timeArg(r.RevokedAt))
	if err != nil {
		return fmt.Errorf("create refresh token of grant %s: %w", r.GrantID, err)
	}
	return nil
}

// ConsumeRefreshToken marks the token used (rotated) at at and returns it.
// As for codes, of many concurrent rotations exactly one wins; the others
// get the token with store.ErrAlreadyUsed and apply the reuse rule (design
// G4).
func (t *tx) ConsumeRefreshToken(ctx context.Context, hash []byte, at time.Time) (store.RefreshToken, error) {
	if at.IsZero() {
		return store.RefreshToken{}, errors.New("consume refresh token: zero time")
	}
	r, consumed, err := changeOnce(ctx, t.q, scanRefreshToken, qConsumeRefreshToken, []any{timeArg(at), hash}, qRefreshToken, hash)
	switch {
	case err != nil:
		return store.RefreshToken{}, fmt.Errorf("consume refresh token: %w", err)
	case consumed:
		return r, nil
	}
	return r, fmt.Errorf("consume refresh token of grant %s: %w", r.GrantID, store.ErrAlreadyUsed)
}

// RevokeRefreshToken marks one refresh token revoked. A token revoked
// before keeps its first RevokedAt.
func (t *tx) RevokeRefreshToken(ctx context.Context, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("revoke refresh token: zero time")
	}
	if err := execOne(ctx, t.q, qRevokeRefreshToken, timeArg(at), hash); err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	return nil
}
