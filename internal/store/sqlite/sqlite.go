package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/sesame-id/sesame/internal/store"
)

// writerParams configure the one writer connection.
//
// busy_timeout (10 s) is how long a connection waits for a lock another
// process holds (a `sesame migrate` next to a running server, a backup)
// before it reports SQLITE_BUSY. Within one process writers queue on the
// single writer connection and never see it.
//
// synchronous=FULL syncs the WAL on every commit: a sign-out or a refresh
// token rotation that was answered must survive a power cut (a lost
// revocation is a security bug), and the cost is I/O wait, not CPU.
const writerParams = "_txlock=immediate&_busy_timeout=10000&_foreign_keys=on&_journal_mode=WAL&_synchronous=FULL"

// readerParams configure the reader pool. query_only makes a write through
// a reader fail loudly instead of racing the writer for the lock.
const readerParams = "_busy_timeout=10000&_foreign_keys=on&_query_only=on"

// Store is a store.Store on one SQLite file.
type Store struct {
	// reader serves the Reader methods from the reader pool.
	reader
	write, read           *sql.DB
	writeStmts, readStmts *stmtCache
	jobs                  *jobs
	changes               store.Broadcaster
}

var _ store.Store = (*Store)(nil)

// OpenURL opens the database a configuration URL names: sqlite://rel/path.db
// (relative to the working directory), sqlite:///abs/path.db, or
// sqlite:path.db. The path is taken literally, without percent-decoding, as
// the rest of the configuration reads it.
func OpenURL(ctx context.Context, url string) (*Store, error) {
	path, ok := strings.CutPrefix(url, "sqlite://")
	if !ok {
		path, ok = strings.CutPrefix(url, "sqlite:")
	}
	if !ok {
		return nil, fmt.Errorf("sqlite: %q is not a sqlite:// URL", url)
	}
	return Open(ctx, path)
}

// Open opens (creating it if needed) the SQLite database at path, migrates
// it to the current schema and returns the Store. Close it when done.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	// The writer opens first: it switches the file to WAL mode and creates
	// the schema before any reader connects.
	write, err := openPool(ctx, path, writerParams, 1)
	if err != nil {
		return nil, err
	}
	s := &Store{write: write, writeStmts: newStmtCache(write)}
	if err := s.Migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}
	if s.jobs, err = newJobs(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	// After Migrate: the statements name the tables it creates.
	if err := s.writeStmts.prepareAll(ctx); err != nil {
		s.writeStmts.close()
		write.Close()
		return nil, fmt.Errorf("sqlite: prepare statements: %w", err)
	}
	// Reads are CPU-bound in-process work; more readers than cores buy
	// nothing, fewer than 4 would let a few slow scans starve lookups.
	read, err := openPool(ctx, path, readerParams, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		s.writeStmts.close()
		write.Close()
		return nil, err
	}
	// Reader statements are prepared on first use, on whichever reader
	// connection runs them.
	s.read, s.readStmts = read, newStmtCache(read)
	s.reader = reader{q: poolQuerier{s.readStmts}}
	return s, nil
}

// checkPath refuses what would silently give the two pools two different
// databases.
func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("sqlite: empty database path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite: %q: give a file path; the writer and the readers must share one file", path)
	}
	return nil
}

// openPool opens a pool of at most n connections on path and checks that
// it answers.
func openPool(ctx context.Context, path, params string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, params))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	// Connections are cheap to keep and costly to reopen (the pragmas run
	// again): keep them for the life of the Store.
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// dsn builds a file: URI, so that a path holding '?' or '#' is not taken for
// the start of the parameters.
func dsn(path, params string) string {
	p := filepath.ToSlash(path)
	if filepath.VolumeName(path) != "" {
		p = "/" + p // file:///C:/... on Windows
	}
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	return "file:" + p + "?" + params
}

// InTx runs fn in one IMMEDIATE transaction on the writer connection and
// commits when fn returns nil. When fn returns an error the transaction is
// rolled back and the error returned wrapped; when fn panics it is rolled
// back and the panic goes on.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin transaction: %w", err)
	}
	finished := false
	defer func() {
		if !finished {
			// fn panicked (or called runtime.Goexit, as t.FailNow does).
			// Without this the single writer connection would stay in
			// the transaction and every later writer would wait forever.
			_ = sqlTx.Rollback()
		}
	}()
	t := &tx{reader: reader{q: txQuerier{tx: sqlTx, c: s.writeStmts}}}
	fnErr := fn(t)
	if fnErr == nil && len(t.pending) > 0 {
		fnErr = s.jobs.insert(ctx, sqlTx, t.pending)
	}
	finished = true
	if fnErr != nil {
		// ErrTxDone: database/sql already rolled back on a cancelled ctx.
		if err := sqlTx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			return fmt.Errorf("sqlite: transaction failed, and so did its rollback: %w", errors.Join(fnErr, err))
		}
		return fmt.Errorf("sqlite: transaction rolled back: %w", fnErr)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	s.changes.Publish(t.changes...)
	return nil
}

// Ping reports whether both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping readers: %w", err)
	}
	return nil
}

// Close closes both pools and their statements. Readers go first so the
// writer, closing last, can checkpoint the WAL into the database file.
func (s *Store) Close() error {
	return errors.Join(
		s.readStmts.close(), s.read.Close(),
		s.writeStmts.close(), s.write.Close())
}

// tx is a store.Tx: its reader and the writer methods share one querier
// on one *sql.Tx.
type tx struct {
	reader
	// pending are the delivery jobs to insert before the commit, all in
	// one statement (jobs.insert).
	pending []store.PendingJob
	// changes are published to watchers after the commit.
	changes []store.Change
}

var _ store.Tx = (*tx)(nil)

// DBSize is the bytes the database's live pages take (page_count less the
// free list, times page_size), for measuring storage per session.
func (s *Store) DBSize(ctx context.Context) (int64, error) {
	var pages, free, size int64
	for _, q := range []struct {
		pragma string
		into   *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
		if err := s.write.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.into); err != nil {
			return 0, fmt.Errorf("sqlite: %s: %w", q.pragma, err)
		}
	}
	return (pages - free) * size, nil
}
