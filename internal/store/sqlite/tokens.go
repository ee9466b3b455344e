package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const accessTokenCols = `hash, grant_id, client_id, account_id, family_id, scopes, created_at, expires_at, revoked_at`

var (
	qAccessToken       = statement(`SELECT ` + accessTokenCols + ` FROM access_tokens WHERE hash = ?`)
	qCreateAccessToken = statement(`INSERT INTO access_tokens (` + accessTokenCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// coalesce keeps the first revocation time.
	qRevokeAccessToken  = statement(`UPDATE access_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE hash = ?`)
	qRevokeAccessFamily = statement(`UPDATE access_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`)

	qRefreshToken       = statement(`SELECT ` + refreshTokenCols + ` FROM refresh_tokens WHERE hash = ?`)
	qCreateRefreshToken = statement(`
		INSERT INTO refresh_tokens (` + refreshTokenCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// As for codes, the condition on used_at makes rotation single use.
	qConsumeRefreshToken = statement(
		`UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING ` + refreshTokenCols)
	qRevokeRefreshToken  = statement(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE hash = ?`)
	qRevokeRefreshFamily = statement(`UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`)
)

func scanAccessToken(row scanner) (store.AccessToken, error) {
	var t store.AccessToken
	err := row.Scan(blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, &t.FamilyID, listDest{&t.Scopes},
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}, timeDest{&t.RevokedAt})
	return t, err
}

const refreshTokenCols = `hash, grant_id, client_id, account_id, family_id, sid, auth_time, amr, acr, scopes,
	created_at, expires_at, used_at, revoked_at`

func scanRefreshToken(row scanner) (store.RefreshToken, error) {
	var t store.RefreshToken
	err := row.Scan(blobDest{&t.Hash}, &t.GrantID, &t.ClientID, &t.AccountID, &t.FamilyID, &t.SID,
		timeDest{&t.AuthTime}, listDest{&t.AMR}, &t.ACR, listDest{&t.Scopes},
		timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt}, timeDest{&t.UsedAt}, timeDest{&t.RevokedAt})
	return t, err
}

// AccessToken reads an opaque access token by the hash of its value.
func (r reader) AccessToken(ctx context.Context, hash []byte) (store.AccessToken, error) {
	t, err := scanAccessToken(r.q.QueryRowContext(ctx, qAccessToken, hash))
	if err != nil {
		return store.AccessToken{}, fmt.Errorf("read access token: %w", dbErr(err))
	}
	return t, nil
}

// RefreshToken reads a refresh token by the hash of its value.
func (r reader) RefreshToken(ctx context.Context, hash []byte) (store.RefreshToken, error) {
	t, err := scanRefreshToken(r.q.QueryRowContext(ctx, qRefreshToken, hash))
	if err != nil {
		return store.RefreshToken{}, fmt.Errorf("read refresh token: %w", dbErr(err))
	}
	return t, nil
}

// CreateAccessToken inserts an access token; a taken hash is
// store.ErrConflict.
func (t *tx) CreateAccessToken(ctx context.Context, a store.AccessToken) error {
	_, err := t.q.ExecContext(ctx, qCreateAccessToken,
		blobArg(a.Hash), a.GrantID, a.ClientID, a.AccountID, a.FamilyID, listArg(a.Scopes),
		timeArg(a.CreatedAt), timeArg(a.ExpiresAt), timeArg(a.RevokedAt))
	if err != nil {
		return fmt.Errorf("create access token of grant %s: %w", a.GrantID, dbErr(err))
	}
	return nil
}

// RevokeAccessToken marks one access token revoked. A token revoked before
// keeps its first RevokedAt.
func (t *tx) RevokeAccessToken(ctx context.Context, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("revoke access token: zero time")
	}
	err := execOne(ctx, t.q, qRevokeAccessToken, timeArg(at), hash)
	if err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// CreateRefreshToken inserts a refresh token; a taken hash is
// store.ErrConflict.
func (t *tx) CreateRefreshToken(ctx context.Context, r store.RefreshToken) error {
	_, err := t.q.ExecContext(ctx, qCreateRefreshToken,
		blobArg(r.Hash), r.GrantID, r.ClientID, r.AccountID, r.FamilyID, r.SID,
		timeArg(r.AuthTime), listArg(r.AMR), r.ACR, listArg(r.Scopes),
		timeArg(r.CreatedAt), timeArg(r.ExpiresAt), timeArg(r.UsedAt), timeArg(r.RevokedAt))
	if err != nil {
		return fmt.Errorf("create refresh token of grant %s: %w", r.GrantID, dbErr(err))
	}
	return nil
}

// ConsumeRefreshToken marks the token used (rotated) at at and returns it.
// As for codes, the UPDATE checks used_at IS NULL, so of many concurrent
// rotations exactly one wins; the others get the token with
// store.ErrAlreadyUsed and apply the reuse rule (design G4).
func (t *tx) ConsumeRefreshToken(ctx context.Context, hash []byte, at time.Time) (store.RefreshToken, error) {
	if at.IsZero() {
		return store.RefreshToken{}, errors.New("consume refresh token: zero time")
	}
	r, err := scanRefreshToken(t.q.QueryRowContext(ctx, qConsumeRefreshToken, timeArg(at), hash))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.RefreshToken{}, fmt.Errorf("consume refresh token: %w", dbErr(err))
	}
	// No row changed: the token was used before, or never existed.
	r, err = scanRefreshToken(t.q.QueryRowContext(ctx, qRefreshToken, hash))
	if err != nil {
		return store.RefreshToken{}, fmt.Errorf("consume refresh token: %w", dbErr(err))
	}
	return r, fmt.Errorf("consume refresh token of grant %s: %w", r.GrantID, store.ErrAlreadyUsed)
}

// RevokeRefreshToken marks one refresh token revoked. A token revoked
// before keeps its first RevokedAt.
func (t *tx) RevokeRefreshToken(ctx context.Context, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("revoke refresh token: zero time")
	}
	err := execOne(ctx, t.q, qRevokeRefreshToken, timeArg(at), hash)
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	return nil
}

// RevokeFamily revokes every access and refresh token issued from one
// authorization code (spec T5); tokens revoked before keep their time. An
// empty familyID is refused: it would name every token issued without a
// code.
func (t *tx) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	switch {
	case familyID == "":
		return errors.New("revoke token family: empty family id")
	case at.IsZero():
		return fmt.Errorf("revoke token family %s: zero time", familyID)
	}
	if _, err := exec(ctx, t.q, qRevokeAccessFamily, timeArg(at), familyID); err != nil {
		return fmt.Errorf("revoke access tokens of family %s: %w", familyID, err)
	}
	if _, err := exec(ctx, t.q, qRevokeRefreshFamily, timeArg(at), familyID); err != nil {
		return fmt.Errorf("revoke refresh tokens of family %s: %w", familyID, err)
	}
	return nil
}
