package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const authRequestCols = `id, browser_hash, client_id, params, account_id, session_id, prompt, created_at, expires_at`

var (
	qAuthRequest       = statement(`SELECT ` + authRequestCols + ` FROM auth_requests WHERE id = ?`)
	qCreateAuthRequest = statement(`INSERT INTO auth_requests (` + authRequestCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qUpdateAuthRequest = statement(`
		UPDATE auth_requests SET browser_hash = ?, client_id = ?, params = ?, account_id = ?, session_id = ?,
			prompt = ?, expires_at = ?
		WHERE id = ?`)
	qDeleteAuthRequest = statement(`DELETE FROM auth_requests WHERE id = ?`)
)

func scanAuthRequest(row scanner) (store.AuthRequest, error) {
	var (
		r      store.AuthRequest
		params string
	)
	err := row.Scan(&r.ID, blobDest{&r.BrowserHash}, &r.ClientID, &params, &r.AccountID, &r.SessionID, &r.Prompt,
		timeDest{&r.CreatedAt}, timeDest{&r.ExpiresAt})
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
		return r, fmt.Errorf("params: %w", err)
	}
	// Empty lists come back nil, as every other list does.
	r.Params.Scopes = nilIfEmpty(r.Params.Scopes)
	r.Params.Prompt = nilIfEmpty(r.Params.Prompt)
	return r, nil
}

// AuthRequest reads one authorization request.
func (r reader) AuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ar, err := scanAuthRequest(r.q.QueryRowContext(ctx, qAuthRequest, id))
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
	_, err = t.q.ExecContext(ctx, qCreateAuthRequest,
		r.ID, blobArg(r.BrowserHash), r.ClientID, string(params), r.AccountID, r.SessionID, r.Prompt,
		timeArg(r.CreatedAt), timeArg(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create auth request %s: %w", r.ID, dbErr(err))
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
