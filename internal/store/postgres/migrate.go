package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/sesame-id/sesame/internal/store/schema"
)

// migrations holds the schema, one numbered goose file per change.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrateLockKey is the advisory lock every Sesame instance takes while it
// migrates: the bytes of "sesame:m". Advisory locks are per database, so
// instances of different databases on one server do not wait for each
// other.
const migrateLockKey int64 = 0x7365_7361_6d65_3a6d

// Migrate brings the schema up to date: Sesame's embedded migrations, then
// River's. It does nothing when there is nothing to apply. Open calls it;
// `sesame migrate` needs nothing else.
//
// Several instances starting at once against one database are
// coordinated: each takes a PostgreSQL advisory lock first, so one
// migrates and the others wait for it, then find nothing to do. The lock
// is held by a connection of its own, outside the pool, and closing that
// connection releases it, whatever happened meanwhile.
func (s *Store) Migrate(ctx context.Context) (err error) {
	unlock, err := s.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()

	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	// goose speaks database/sql; this *sql.DB borrows the pool's
	// connections and closing it leaves the pool open.
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	// A Provider rather than goose's package functions: no global dialect,
	// no global registry of Go migrations, nothing shared between Stores.
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if err := schema.Up(ctx, p, db, canonicalUsernamesVersion, `UPDATE accounts SET username = $1 WHERE id = $2`); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}

	m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
	if err != nil {
		return fmt.Errorf("postgres: job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("postgres: migrate job queue: %w", err)
	}
	return nil
}

// canonicalUsernamesVersion is the migration that makes usernames
// canonical (00003_throttles.sql, design A1).
const canonicalUsernamesVersion = 3

// lockMigrations waits for the migration lock on a connection of its own
// and returns the function that releases it.
//
// Why not goose's own session locker: it polls with pg_try_advisory_lock
// every five seconds, so every instance but the first would start five
// seconds late. pg_advisory_lock wakes the waiter the moment the lock is
// free.
func (s *Store) lockMigrations(ctx context.Context) (unlock func() error, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to take the migration lock: %w", err)
	}
	// pg_advisory_lock waits as long as another instance migrates; ctx
	// bounds the wait (pgx cancels the query when ctx ends).
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgres: take the migration lock: %w", err)
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// Closing the session releases the lock; the explicit unlock only
		// makes it prompt when the close has to time out.
		_, unlockErr := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", migrateLockKey)
		if err := conn.Close(ctx); err != nil {
			return fmt.Errorf("postgres: release the migration lock: %w", errors.Join(unlockErr, err))
		}
		return nil
	}, nil
}
