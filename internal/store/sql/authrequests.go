package sql

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const authRequestCols = `id, browser_hash, client_id, params, account_id, session_id, prompt, created_at, expires_at`

const (
	qAuthRequest       = `SELECT ` + authRequestCols + ` FROM auth_requests WHERE id = $1`
	qCreateAuthRequest = `INSERT INTO auth_requests (` + authRequestCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING`
	qUpdateAuthRequest = `
		UPDATE auth_requests SET browser_hash = $1, client_id = $2, params = $3, account_id = $4, session_id = $5,
			prompt = $6, expires_at = $7
		WHERE id = $8`
	qDeleteAuthRequest = `DELETE FROM auth_requests WHERE id = $1`
)

func scanAuthRequest(row scanner) (store.AuthRequest, error) {
	var (
		r      store.AuthRequest
		params []byte
	)
	err := row.Scan(&r.ID, blobDest{&r.BrowserHash}, &r.ClientID, &params, &r.AccountID, &r.SessionID, &r.Prompt,
		timeDest{&r.CreatedAt}, timeDest{&r.ExpiresAt})
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(params, &r.Params); err != nil {
		return r, fmt.Errorf("params: %w", err)
	}
	// Empty lists come back nil, as every other list does.
	r.Params.Scopes = nilIfEmpty(r.Params.Scopes)
	r.Params.Prompt = nilIfEmpty(r.Params.Prompt)
	return r, nil
}

// AuthRequest reads one authorization request.
func (r reader) AuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ar, err := scanAuthRequest(r.q.queryRow(ctx, qAuthRequest, id))
	if err != nil {
		return store.AuthRequest{}, fmt.Errorf("read auth request %s: %w", id, dbErr(err))
	}
	return ar, nil
}

// CreateAuthRequest inserts an authorization request; a taken id is
// store.ErrConflict.
func (t *tx) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	params, err := json.Marshal(r.Params)
	if err != nil {
		return fmt.Errorf("create auth request %s: params: %w", r.ID, err)
	}
	err = insertNew(ctx, t.q, qCreateAuthRequest,
		r.ID, blobArg(r.BrowserHash), r.ClientID, string(params), r.AccountID, r.SessionID, r.Prompt,
		timeArg(r.CreatedAt), timeArg(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create auth request %s: %w", r.ID, err)
	}
	return nil
}

// UpdateAuthRequest replaces every field of the request but ID and
// CreatedAt: callers read it, change what the interaction decided (the
// account, the session, what is left to prompt) and write it back.
func (t *tx) UpdateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	params, err := json.Marshal(r.Params)
	if err != nil {
		return fmt.Errorf("update auth request %s: params: %w", r.ID, err)
	}
	err = execOne(ctx, t.q, qUpdateAuthRequest,
		blobArg(r.BrowserHash), r.ClientID, string(params), r.AccountID, r.SessionID, r.Prompt,
		timeArg(r.ExpiresAt), r.ID)
	if err != nil {
		return fmt.Errorf("update auth request %s: %w", r.ID, err)
	}
	return nil
}

// DeleteAuthRequest removes an authorization request; one already gone is
// not an error.
func (t *tx) DeleteAuthRequest(ctx context.Context, id string) error {
	if _, err := exec(ctx, t.q, qDeleteAuthRequest, id); err != nil {
		return fmt.Errorf("delete auth request %s: %w", id, err)
	}
	return nil
}
