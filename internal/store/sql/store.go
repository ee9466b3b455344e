package sql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sesame-id/sesame/internal/store"
)

// engine is what differs between the two databases beyond the text of a
// few queries: connections, transactions and their durability, size.
type engine interface {
	// reads is the querier of Store's own reads (committed data).
	reads() querier
	// primaryReads is the querier of Store.Primary.
	primaryReads() querier
	// begin starts a write transaction committed as d asks.
	begin(ctx context.Context, d store.Durability) (txConn, error)
	ping(ctx context.Context) error
	close() error
	dbSize(ctx context.Context) (int64, error)
	compact(ctx context.Context) error
	// watch is Store.Watch; changes is the Store's broadcaster of this
	// process's commits.
	watch(ctx context.Context, changes *store.Broadcaster, fn func(store.Change))
}

// txConn is one write transaction.
type txConn interface {
	querier
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// dialect names the database, for the few operations whose SQL or
// concurrency differs.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

func (d dialect) String() string {
	if d == postgresDialect {
		return "postgres"
	}
	return "sqlite"
}

// Store is a store.Store on SQLite or PostgreSQL.
type Store struct {
	// reader serves the Reader methods on committed data.
	reader
	e engine
	// strict makes every transaction durable (the durability key).
	strict bool
	// changes hands this process's committed changes to its watchers
	// (SQLite; PostgreSQL's watchers LISTEN instead).
	changes store.Broadcaster
}

var _ store.Store = (*Store)(nil)

// Options tune a Store.
type Options struct {
	// Strict makes every commit durable, routine ones included.
	Strict bool
}

// Open opens the database dbURL names, migrates it to the current schema
// and returns the Store; close it when done.
//
//   - sqlite://rel/path.db (relative to the working directory),
//     sqlite:///abs/path.db or sqlite:path.db: the embedded database, created
//     if needed. The path is taken literally, without percent-decoding, as
//     the rest of the configuration reads it.
//   - postgres://... or postgresql://..., with any of pgx's parameters
//     (sslmode, pool_max_conns...).
func Open(ctx context.Context, dbURL string, opts Options) (*Store, error) {
	switch {
	case strings.HasPrefix(dbURL, "sqlite:"):
		path, ok := strings.CutPrefix(dbURL, "sqlite://")
		if !ok {
			path = strings.TrimPrefix(dbURL, "sqlite:")
		}
		return OpenSQLite(ctx, path, opts)
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		e, err := openPostgres(ctx, dbURL)
		if err != nil {
			return nil, err
		}
		return migrated(ctx, e, postgresDialect, opts)
	}
	return nil, errors.New("database: the URL must start with sqlite:, postgres:// or postgresql://")
}

// OpenSQLite opens (creating it if needed) the SQLite database at path.
func OpenSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	e, err := openSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	return migrated(ctx, e, sqliteDialect, opts)
}

// migrated makes the Store on an open engine and migrates its database;
// on failure it closes the engine.
func migrated(ctx context.Context, e engine, d dialect, opts Options) (*Store, error) {
	s := &Store{reader: reader{q: e.reads(), d: d}, e: e, strict: opts.Strict}
	if err := s.Migrate(ctx); err != nil {
		e.close()
		return nil, err
	}
	return s, nil
}

// InTx runs fn in one write transaction and commits it, as durably as d
// asks, when fn returns nil. When fn returns an error the transaction is
// rolled back and the error returned wrapped; when fn panics (or calls
// runtime.Goexit, as t.FailNow does) it is rolled back and the panic goes
// on: without that, SQLite's single writer connection would stay in the
// transaction and every later writer would wait forever.
func (s *Store) InTx(ctx context.Context, d store.Durability, fn func(tx store.Tx) error) error {
	if s.strict {
		d = store.Durable
	}
	conn, err := s.e.begin(ctx, d)
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished {
			_ = conn.rollback(ctx)
		}
	}()
	t := &tx{reader: reader{q: conn, d: s.d}}
	fnErr := fn(t)
	finished = true
	if fnErr != nil {
		if err := conn.rollback(ctx); err != nil {
			return fmt.Errorf("%s: transaction failed, and so did its rollback: %w", s.d, errors.Join(fnErr, err))
		}
		return fmt.Errorf("%s: transaction rolled back: %w", s.d, fnErr)
	}
	if err := conn.commit(ctx); err != nil {
		return err
	}
	s.changes.Publish(t.changes...)
	return nil
}

// Primary returns the Reader for a read that a write transaction of the
// same request builds on (the refresh token a refresh rotates). On SQLite
// it reads on the writer's connection: a reader connection finds its page
// cache stale after every write and reads the pages again from the file,
// where the writer's cache holds what the last writes touched. On
// PostgreSQL it is the Store's own reads.
func (s *Store) Primary() store.Reader { return reader{q: s.e.primaryReads(), d: s.d} }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.e.ping(ctx) }

// Close releases every connection. Stop the delivery workers first.
func (s *Store) Close() error { return s.e.close() }

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.String() }

// DBSize is the bytes the database takes, for measuring storage per
// session: SQLite's live pages; PostgreSQL's tables with their indexes and
// TOAST, the space of deleted rows included (Compact first).
func (s *Store) DBSize(ctx context.Context) (int64, error) { return s.e.dbSize(ctx) }

// Compact makes DBSize count live rows only (PostgreSQL: VACUUM FULL,
// which locks each table: for benchmarks, never a serving database).
func (s *Store) Compact(ctx context.Context) error { return s.e.compact(ctx) }

// tx is a store.Tx: its reader and the writer methods share one
// transaction.
type tx struct {
	reader
	// changes are published to this process's watchers after the commit
	// (SQLite; PostgreSQL notifies inside the transaction).
	changes []store.Change
	// woke is set once the transaction has told the delivery workers.
	woke bool
}

var _ store.Tx = (*tx)(nil)
