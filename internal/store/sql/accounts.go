package sql

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

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

// The admin list, in username order from a cursor. Each prefix is a range
// of its index (the unique one of username; accounts_by_email, on
// lower(email)): `col >= prefix AND col < prefixEnd(prefix)`, which reads
// the matching accounts only, where LIKE would need a collation or
// operator class of its own on each database, and a substring match
// would read the table whole. The ranges compare in code point order:
// SQLite compares text by its bytes, and on PostgreSQL the username and
// email columns use the "C" collation (migration audit_log), whose lower()
// also lowercases ASCII alone, as SQLite's does.
//
// The four texts, by which prefixes are set (none, username, email,
// both), each number only the parameters it uses: PostgreSQL refuses a
// statement with a parameter it cannot type. Both prefixes are a UNION of
// the two ranges: with an OR, SQLite's planner walks the username index
// from the cursor to the end and tests every account.
var searchAccountsQueries = func() [4]string {
	const (
		sel       = `SELECT ` + accountCols + ` FROM accounts WHERE username > $1`
		byName    = ` AND username >= $2 AND username < $3`
		byEmail   = ` AND lower(email) >= $%d AND lower(email) < $%d`
		orderedBy = ` ORDER BY username LIMIT $%d`
	)
	return [4]string{
		sel + fmt.Sprintf(orderedBy, 2),
		sel + byName + fmt.Sprintf(orderedBy, 4),
		sel + fmt.Sprintf(byEmail, 2, 3) + fmt.Sprintf(orderedBy, 4),
		sel + byName + ` UNION ` + sel + fmt.Sprintf(byEmail, 4, 5) + fmt.Sprintf(orderedBy, 6),
	}
}()

// prefixEnd is the least string above every string that starts with p, in
// code point order: p with its last code point raised by one (past the
// surrogates, which UTF-8 cannot hold). Trailing U+10FFFF, the highest
// code point, is dropped first. For a p of U+10FFFF alone, which no
// username or email holds, it is p itself, which bounds nothing.
func prefixEnd(p string) string {
	r := []rune(p)
	for i := len(r) - 1; i >= 0; i-- {
		switch r[i] {
		case utf8.MaxRune:
			continue
		case 0xD7FF:
			r[i] = 0xE000
		default:
			r[i]++
		}
		return string(r[:i+1])
	}
	return p
}

// asciiLower lowercases A to Z only, as lower() does on both databases
// for the email column.
func asciiLower(s string) string {
	return strings.Map(func(c rune) rune {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}, s)
}

// SearchAccounts lists a page of the accounts q selects, in username
// order, after q.After.
func (r reader) SearchAccounts(ctx context.Context, q store.AccountSearch) ([]store.Account, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("search accounts: limit %d", q.Limit)
	}
	which, args := 0, []any{q.After}
	if q.UsernamePrefix != "" {
		which |= 1
		args = append(args, q.UsernamePrefix, prefixEnd(q.UsernamePrefix))
	}
	if email := asciiLower(q.EmailPrefix); email != "" {
		which |= 2
		args = append(args, email, prefixEnd(email))
	}
	list, err := queryList(ctx, r.q, scanAccount, searchAccountsQueries[which], append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("search accounts: %w", dbErr(err))
	}
	return list, nil
}

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
