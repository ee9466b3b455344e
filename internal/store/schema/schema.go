// Package schema holds the migration steps that the store runs the same
// way on both of its SQL dialects: today, the step that makes stored
// usernames canonical (design A1), which needs Go between two goose
// versions.
package schema

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/sesame-id/sesame/internal/account/username"
)

// Up brings the schema of db up to date with p. Usernames become canonical
// with migration version canonical, in Go: the schema goes up to the
// version before it, the usernames are rewritten (or the migration stops
// with a *username.ConflictError that lists the accounts for the
// operator), then the rest follows. rename is the dialect's
// `UPDATE accounts SET username = ? WHERE id = ?`.
func Up(ctx context.Context, p *goose.Provider, db *sql.DB, canonical int64, rename string) error {
	if _, err := p.UpTo(ctx, canonical-1); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v < canonical {
		if err := canonicalUsernames(ctx, db, rename); err != nil {
			return fmt.Errorf("migrate to version %d: %w", canonical, err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// canonicalUsernames rewrites every username into its RFC 8265 canonical
// form in one transaction, or, when two accounts would share one name or
// a name has no canonical form, changes nothing and returns the
// *username.ConflictError that lists them.
func canonicalUsernames(ctx context.Context, db *sql.DB, rename string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("canonical usernames: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT id, username FROM accounts ORDER BY id`)
	if err != nil {
		return fmt.Errorf("canonical usernames: read accounts: %w", err)
	}
	var stored []username.Stored
	for rows.Next() {
		var a username.Stored
		if err := rows.Scan(&a.ID, &a.Username); err != nil {
			rows.Close()
			return fmt.Errorf("canonical usernames: read accounts: %w", err)
		}
		stored = append(stored, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("canonical usernames: read accounts: %w", err)
	}
	renames, err := username.Plan(stored)
	if err != nil {
		return err
	}
	for _, r := range renames {
		if _, err := tx.ExecContext(ctx, rename, r.Username, r.ID); err != nil {
			return fmt.Errorf("canonical usernames: rename account %s: %w", r.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("canonical usernames: commit: %w", err)
	}
	return nil
}
