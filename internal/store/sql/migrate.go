package sql

import (
	"context"
	dbsql "database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/sesame-id/sesame/internal/store/schema"
)

// migrations are each dialect's versioned goose migrations. The schema is
// the same on both; the types are each database's own (times are INTEGER
// unix nanoseconds on SQLite, timestamptz on PostgreSQL; lists JSON text
// or text[]).
//
//go:embed migrations
var migrations embed.FS

// canonicalUsernames is, per dialect, the migration version before which
// stored usernames are rewritten into their canonical form, in Go
// (package schema).
var canonicalUsernames = map[dialect]int64{sqliteDialect: 6, postgresDialect: 3}

// Migrate brings the schema up to date. It runs in Open; it is exported
// for `sesame migrate`. On PostgreSQL it runs under an advisory lock, so
// instances starting at once migrate one at a time.
func (s *Store) Migrate(ctx context.Context) (err error) {
	fsys, err := fs.Sub(migrations, "migrations/"+s.d.String())
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", s.d, err)
	}
	var db *dbsql.DB
	goDialect := goose.DialectSQLite3
	switch e := s.e.(type) {
	case *liteEngine:
		// goose wants a database/sql pool: one connection of its own,
		// beside the engine's (the writer is idle while Open migrates;
		// a running server's queue behind the busy timeout).
		if db, err = openPool(ctx, e.path, writerParams, 1); err != nil {
			return err
		}
		defer db.Close()
	case *pgEngine:
		unlock, err := e.lockMigrations(ctx)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, unlock()) }()
		db = stdlib.OpenDBFromPool(e.pool)
		defer db.Close()
		goDialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(goDialect, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", s.d, err)
	}
	rename := `UPDATE accounts SET username = $1 WHERE id = $2`
	if s.d == sqliteDialect {
		rename = sqliteText(rename)
	}
	if err := schema.Up(ctx, p, db, canonicalUsernames[s.d], rename); err != nil {
		return fmt.Errorf("%s: %w", s.d, err)
	}
	return nil
}

// migrateLockKey is the advisory lock migrations hold ("sesame:m").
const migrateLockKey int64 = 0x7365_7361_6d65_3a6d

// lockMigrations takes the migration lock on a connection of its own (a
// session-level lock must be released on the connection that took it,
// which the pool would not promise) and returns its release.
func (e *pgEngine) lockMigrations(ctx context.Context) (unlock func() error, err error) {
	conn, err := pgx.ConnectConfig(ctx, e.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to take the migration lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgres: take the migration lock: %w", err)
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, unlockErr := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", migrateLockKey)
		if err := conn.Close(ctx); err != nil {
			return fmt.Errorf("postgres: release the migration lock: %w", errors.Join(unlockErr, err))
		}
		return nil
	}, nil
}
