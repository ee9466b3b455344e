package sql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const accessTokenCols = `hash, grant_id, client_id, account_id, family_id, scopes, created_at, expires_at, revoked_at`

const refreshTokenCols = `hash, grant_id, client_id, account_id, family_id, sid, auth_time, amr, acr, scopes,
	created_at, expires_at, used_at, revoked_at`

const (
	qAccessToken       = `SELECT ` + accessTokenCols + ` FROM access_tokens WHERE hash = $1`
	qCreateAccessToken = `INSERT INTO access_tokens (` + accessTokenCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING`
	// coalesce keeps the first revocation time.
	qRevokeAccessToken = `UPDATE access_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`
	// A family is found through its grant's index: a grant holds few
	// tokens, and a family index would cost every token a write.
	qRevokeAccessFamily = `UPDATE access_tokens SET revoked_at = $1
		WHERE grant_id = $2 AND family_id = $3 AND revoked_at IS NULL`

	qRefreshToken       = `SELECT ` + refreshTokenCols + ` FROM refresh_tokens WHERE hash = $1`
	qCreateRefreshToken = `
		INSERT INTO refresh_tokens (` + refreshTokenCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT DO NOTHING`
	// As for codes, the condition on used_at makes rotation single use.
	qConsumeRefreshToken = `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL RETURNING ` + refreshTokenCols
	qRevokeRefreshToken  = `UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`
	qRevokeRefreshFamily = `UPDATE refresh_tokens SET revoked_at = $1
		WHERE grant_id = $2 AND family_id = $3 AND revoked_at IS NULL`
)

func scanAccessToken(row scanner) (store.AccessToken, error) {
	var t store.AccessToken
	err := row.Scan(accessTokenDests(&t)...)
	return t, err
}

// accessTokenDests are the scan destinations of accessTokenCols.
func accessTokenDests(t *store.AccessToken) []any {
	return []any{blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, &t.FamilyID, listDest{&t.Scopes},
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}, timeDest{&t.RevokedAt}}
}

func scanRefreshToken(row scanner) (store.RefreshToken, error) {
	var t store.RefreshToken
	err := row.Scan(refreshTokenDests(&t)...)
	return t, err
}

// refreshTokenDests are the scan destinations of refreshTokenCols.
func refreshTokenDests(t *store.RefreshToken) []any {
	return []any{blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, &t.FamilyID, &t.SID,
		timeDest{&t.AuthTime}, listDest{&t.AMR}, &t.ACR, listDest{&t.Scopes},
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
		blobArg(a.Hash), a.GrantID, a.ClientID, a.AccountID, a.FamilyID, listArg(a.Scopes),
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
		blobArg(r.Hash), r.GrantID, r.ClientID, r.AccountID, r.FamilyID, r.SID,
		timeArg(r.AuthTime), listArg(r.AMR), r.ACR, listArg(r.Scopes),
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

// RevokeFamily revokes every access and refresh token of grantID issued
// from one authorization code (spec T5); tokens revoked before keep their
// time. An empty familyID is refused: it would name every token issued
// without a code.
func (t *tx) RevokeFamily(ctx context.Context, grantID, familyID string, at time.Time) error {
	switch {
	case familyID == "":
		return errors.New("revoke token family: empty family id")
	case at.IsZero():
		return fmt.Errorf("revoke token family %s: zero time", familyID)
	}
	if _, err := exec(ctx, t.q, qRevokeAccessFamily, timeArg(at), grantID, familyID); err != nil {
		return fmt.Errorf("revoke access tokens of family %s: %w", familyID, err)
	}
	if _, err := exec(ctx, t.q, qRevokeRefreshFamily, timeArg(at), grantID, familyID); err != nil {
		return fmt.Errorf("revoke refresh tokens of family %s: %w", familyID, err)
	}
	return nil
}
