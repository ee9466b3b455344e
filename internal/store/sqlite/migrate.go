package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/sesame-id/sesame/internal/store/schema"
)

// migrations holds the schema, one numbered goose file per change.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Migrate brings the schema up to date: it applies, in order, every embedded
// migration the database has not had yet, and does nothing when there is
// none. Open calls it; `sesame migrate` needs nothing else.
//
// It runs on the writer connection. Two processes migrating one file at the
// same moment are not coordinated; run one instance per SQLite file, as
// SQLite deployments do.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	// A Provider rather than goose's package functions: no global dialect,
	// no global registry of Go migrations, nothing shared between Stores.
	p, err := goose.NewProvider(goose.DialectSQLite3, s.write, fsys,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	// p.Close would close s.write; the provider holds nothing else.
	if err := schema.Up(ctx, p, s.write, canonicalUsernamesVersion, `UPDATE accounts SET username = ? WHERE id = ?`); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// canonicalUsernamesVersion is the migration that makes usernames
// canonical (00006_throttles.sql, design A1).
const canonicalUsernamesVersion = 6
