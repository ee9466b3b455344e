package sql

import (
	"context"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const accountCols = `id, username, email, email_verified, name, password_hash, disabled, created_at, updated_at`

const (
	qAccount           = `SELECT ` + accountCols + ` FROM accounts WHERE id = $1`
	qAccountByUsername = `SELECT ` + accountCols + ` FROM accounts WHERE username = $1`
	// The username check is in the statement, not left to the UNIQUE
	// constraint, so that a taken name is store.ErrConflict without
	// aborting the transaction (see insertNew). The constraint still
	// guards against a rename committed between the check and the write.
	// INSERT ... SELECT does not type its parameters from the columns as
	// VALUES does, hence the casts.
	qUpsertAccount = `
		INSERT INTO accounts (` + accountCols + `)
		SELECT $1::text, $2::text, $3::text, $4::boolean, $5::text, $6::text, $7::boolean, $8::timestamptz, $9::timestamptz
		WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE username = $2 AND id <> $1)
		ON CONFLICT (id) DO UPDATE SET
			username = excluded.username,
			email = excluded.email,
			email_verified = excluded.email_verified,
			name = excluded.name,
			password_hash = excluded.password_hash,
			disabled = excluded.disabled,
			updated_at = excluded.updated_at`
)

func scanAccount(row scanner) (store.Account, error) {
	var a store.Account
	err := row.Scan(&a.ID, &a.Username, &a.Email, &a.EmailVerified, &a.Name, &a.PasswordHash, &a.Disabled,
		timeDest{&a.CreatedAt}, timeDest{&a.UpdatedAt})
	return a, err
}

// Account reads one account by id (its `sub`).
func (r reader) Account(ctx context.Context, id string) (store.Account, error) {
	a, err := scanAccount(r.q.queryRow(ctx, qAccount, id))
	if err != nil {
		return store.Account{}, fmt.Errorf("read account %s: %w", id, dbErr(err))
	}
	return a, nil
}

// AccountByUsername reads one account by its exact username.
func (r reader) AccountByUsername(ctx context.Context, username string) (store.Account, error) {
	a, err := scanAccount(r.q.queryRow(ctx, qAccountByUsername, username))
	if err != nil {
		return store.Account{}, fmt.Errorf("read account by username: %w", dbErr(err))
	}
	return a, nil
}

// UpsertAccount creates the account or replaces every field but ID and
// CreatedAt. A username another account holds is store.ErrConflict.
func (t *tx) UpsertAccount(ctx context.Context, a store.Account) error {
	err := insertNew(ctx, t.q, qUpsertAccount,
		a.ID, a.Username, a.Email, a.EmailVerified, a.Name, a.PasswordHash, a.Disabled,
		timeArg(a.CreatedAt), timeArg(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("upsert account %s: %w", a.ID, err)
	}
	return t.changed(ctx, store.Change{Kind: store.ChangeAccount, ID: a.ID})
}
