package sqlite

import (
	"context"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const accountCols = `id, username, email, email_verified, name, password_hash, disabled, created_at, updated_at`

var (
	qAccount           = statement(`SELECT ` + accountCols + ` FROM accounts WHERE id = ?`)
	qAccountByUsername = statement(`SELECT ` + accountCols + ` FROM accounts WHERE username = ?`)
	// ON CONFLICT names only id, so a username another account holds
	// still fails the UNIQUE constraint: store.ErrConflict.
	qUpsertAccount = statement(`
		INSERT INTO accounts (` + accountCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			username = excluded.username,
			email = excluded.email,
			email_verified = excluded.email_verified,
			name = excluded.name,
			password_hash = excluded.password_hash,
			disabled = excluded.disabled,
			updated_at = excluded.updated_at`)
)

func scanAccount(row scanner) (store.Account, error) {
	var a store.Account
	err := row.Scan(&a.ID, &a.Username, &a.Email, &a.EmailVerified, &a.Name, &a.PasswordHash, &a.Disabled,
		timeDest{&a.CreatedAt}, timeDest{&a.UpdatedAt})
	return a, err
}

// Account reads one account by id (its `sub`).
func (r reader) Account(ctx context.Context, id string) (store.Account, error) {
	a, err := scanAccount(r.q.QueryRowContext(ctx, qAccount, id))
	if err != nil {
		return store.Account{}, fmt.Errorf("read account %s: %w", id, dbErr(err))
	}
	return a, nil
}

// AccountByUsername reads one account by its exact username.
func (r reader) AccountByUsername(ctx context.Context, username string) (store.Account, error) {
	a, err := scanAccount(r.q.QueryRowContext(ctx, qAccountByUsername, username))
	if err != nil {
		return store.Account{}, fmt.Errorf("read account by username: %w", dbErr(err))
	}
	return a, nil
}

// UpsertAccount creates the account or replaces every field but ID and
// CreatedAt. A username another account holds is store.ErrConflict.
func (t *tx) UpsertAccount(ctx context.Context, a store.Account) error {
	_, err := t.q.ExecContext(ctx, qUpsertAccount,
		a.ID, a.Username, a.Email, a.EmailVerified, a.Name, a.PasswordHash, a.Disabled,
		timeArg(a.CreatedAt), timeArg(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("upsert account %s: %w", a.ID, dbErr(err))
	}
	return nil
}
