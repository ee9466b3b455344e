package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const authCodeCols = `hash, client_id, grant_id, session_id, account_id, sid, family_id, redirect_uri, scopes,
	nonce, code_challenge, code_challenge_method, auth_time, amr, acr, created_at, expires_at, used_at`

var (
	qAuthCode       = statement(`SELECT ` + authCodeCols + ` FROM auth_codes WHERE hash = ?`)
	qCreateAuthCode = statement(`
		INSERT INTO auth_codes (` + authCodeCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// The condition on used_at is what makes a code single use under
	// concurrency: of many racing UPDATEs exactly one changes the row.
	qConsumeAuthCode = statement(
		`UPDATE auth_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING ` + authCodeCols)
)

func scanAuthCode(row scanner) (store.AuthCode, error) {
	var c store.AuthCode
	err := row.Scan(blobDest{&c.Hash}, &c.ClientID, &c.GrantID, &c.SessionID, &c.AccountID, &c.SID, &c.FamilyID,
		&c.RedirectURI, listDest{&c.Scopes}, &c.Nonce, &c.CodeChallenge, &c.CodeChallengeMethod,
		timeDest{&c.AuthTime}, listDest{&c.AMR}, &c.ACR, timeDest{&c.CreatedAt}, timeDest{&c.ExpiresAt},
		timeDest{&c.UsedAt})
	return c, err
}

// AuthCode reads an authorization code by the hash of its value, used or
// not.
func (r reader) AuthCode(ctx context.Context, hash []byte) (store.AuthCode, error) {
	c, err := scanAuthCode(r.q.QueryRowContext(ctx, qAuthCode, hash))
	if err != nil {
		return store.AuthCode{}, fmt.Errorf("read auth code: %w", dbErr(err))
	}
	return c, nil
}

// CreateAuthCode inserts an authorization code; a taken hash is
// store.ErrConflict.
func (t *tx) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	_, err := t.q.ExecContext(ctx, qCreateAuthCode,
		blobArg(c.Hash), c.ClientID, c.GrantID, c.SessionID, c.AccountID, c.SID, c.FamilyID,
		c.RedirectURI, listArg(c.Scopes), c.Nonce, c.CodeChallenge, c.CodeChallengeMethod,
		timeArg(c.AuthTime), listArg(c.AMR), c.ACR, timeArg(c.CreatedAt), timeArg(c.ExpiresAt), timeArg(c.UsedAt))
	if err != nil {
		return fmt.Errorf("create auth code of grant %s: %w", c.GrantID, dbErr(err))
	}
	return nil
}

// ConsumeAuthCode marks the code used at at and returns it. The UPDATE
// itself checks used_at IS NULL, so however many requests race with one
// code, exactly one changes the row; every other gets the code with
// store.ErrAlreadyUsed, and the caller applies the replay rule (spec T5).
func (t *tx) ConsumeAuthCode(ctx context.Context, hash []byte, at time.Time) (store.AuthCode, error) {
	if at.IsZero() {
		return store.AuthCode{}, errors.New("consume auth code: zero time")
	}
	c, err := scanAuthCode(t.q.QueryRowContext(ctx, qConsumeAuthCode, timeArg(at), hash))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.AuthCode{}, fmt.Errorf("consume auth code: %w", dbErr(err))
	}
	// No row changed: the code was used before, or never existed.
	c, err = scanAuthCode(t.q.QueryRowContext(ctx, qAuthCode, hash))
	if err != nil {
		return store.AuthCode{}, fmt.Errorf("consume auth code: %w", dbErr(err))
	}
	return c, fmt.Errorf("consume auth code of grant %s: %w", c.GrantID, store.ErrAlreadyUsed)
}
