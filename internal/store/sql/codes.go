package sql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const authCodeCols = `hash, client_id, grant_id, session_id, account_id, sid, family_id, redirect_uri, scopes,
	nonce, code_challenge, code_challenge_method, auth_time, amr, acr, created_at, expires_at, used_at`

const (
	qAuthCode       = `SELECT ` + authCodeCols + ` FROM auth_codes WHERE hash = $1`
	qCreateAuthCode = `
		INSERT INTO auth_codes (` + authCodeCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT DO NOTHING`
	// The condition on used_at is what makes a code single use under
	// concurrency: racing UPDATEs wait for the first one's row lock, and
	// PostgreSQL then re-checks the condition on the row it committed, so
	// exactly one changes the row.
	qConsumeAuthCode = `UPDATE auth_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL RETURNING ` + authCodeCols
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
	c, err := scanAuthCode(r.q.queryRow(ctx, qAuthCode, hash))
	if err != nil {
		return store.AuthCode{}, fmt.Errorf("read auth code: %w", dbErr(err))
	}
	return c, nil
}

// CreateAuthCode inserts an authorization code; a taken hash is
// store.ErrConflict.
func (t *tx) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	err := insertNew(ctx, t.q, qCreateAuthCode,
		blobArg(c.Hash), c.ClientID, c.GrantID, c.SessionID, c.AccountID, c.SID, c.FamilyID,
		c.RedirectURI, listArg(c.Scopes), c.Nonce, c.CodeChallenge, c.CodeChallengeMethod,
		timeArg(c.AuthTime), listArg(c.AMR), c.ACR, timeArg(c.CreatedAt), timeArg(c.ExpiresAt), timeArg(c.UsedAt))
	if err != nil {
		return fmt.Errorf("create auth code of grant %s: %w", c.GrantID, err)
	}
	return nil
}

// ConsumeAuthCode marks the code used at at and returns it. However many
// requests race with one code, exactly one changes the row; every other
// gets the code with store.ErrAlreadyUsed, and the caller applies the
// replay rule (spec T5).
func (t *tx) ConsumeAuthCode(ctx context.Context, hash []byte, at time.Time) (store.AuthCode, error) {
	if at.IsZero() {
		return store.AuthCode{}, errors.New("consume auth code: zero time")
	}
	c, consumed, err := changeOnce(ctx, t.q, scanAuthCode, qConsumeAuthCode, []any{timeArg(at), hash}, qAuthCode, hash)
	switch {
	case err != nil:
		return store.AuthCode{}, fmt.Errorf("consume auth code: %w", err)
	case consumed:
		return c, nil
	}
	return c, fmt.Errorf("consume auth code of grant %s: %w", c.GrantID, store.ErrAlreadyUsed)
}
