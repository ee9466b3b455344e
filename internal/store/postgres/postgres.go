package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sesame-id/sesame/internal/store"
)

// Store is a store.Store on one PostgreSQL database.
type Store struct {
	// reader serves the Reader methods from the pool.
	reader
	pool *pgxpool.Pool
	jobs *jobs
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database a configuration URL names
// (postgres://... or postgresql://..., with any of pgx's parameters, such
// as sslmode or pool_max_conns), migrates it to the current schema, River's
// included, and returns the Store. Close it when done.
func Open(ctx context.Context, dbURL string) (*Store, error) {
	if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return nil, errors.New("postgres: the database URL must start with postgres:// or postgresql://")
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		// pgx's message names the part it could not parse; the URL itself
		// may hold a password, so it is not repeated here.
		return nil, fmt.Errorf("postgres: parse database URL: %w", err)
	}
	if !hasParam(dbURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns()
	}
	if !hasParam(dbURL, "connect_timeout") && os.Getenv("PGCONNECT_TIMEOUT") == "" {
		// With the database gone, a request waits at most this long for a
		// connection, then fails with 503, rather than hanging on a dial
		// the network never answers.
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	s := &Store{reader: reader{q: guarded{pool}}, pool: pool}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if s.jobs, err = newJobs(pool); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// defaultMaxConns sizes the pool when the URL does not. pgx's own default
// (the number of CPUs, at least 4) is too small for a server: River's
// workers hold one connection for LISTEN and use more to fetch and
// complete jobs, and every request that waits for a connection waits in
// line. Four per CPU, at least 8, keeps a 2-core instance to 8; with the
// two listening connections each instance also holds (changes, River),
// that is 10 per instance, so nine fit in PostgreSQL's default
// max_connections of 100 (docs/operators.md has the arithmetic).
func defaultMaxConns() int32 {
	return int32(max(8, 4*runtime.GOMAXPROCS(0)))
}

// hasParam reports whether the URL's query sets name.
func hasParam(dbURL, name string) bool {
	u, err := url.Parse(dbURL)
	return err == nil && u.Query().Has(name)
}

// connectTimeout bounds a dial to the database when the URL does not set
// connect_timeout.
const connectTimeout = 3 * time.Second

// rollbackTimeout bounds a rollback that runs after the request's context
// is done.
const rollbackTimeout = 5 * time.Second

// InTx runs fn in one READ COMMITTED transaction on one pooled connection
// and commits when fn returns nil, after inserting the jobs fn queued.
// When fn returns an error the transaction is rolled back and the error
// returned wrapped; when fn panics it is rolled back and the panic goes on.
//
// READ COMMITTED, set explicitly whatever the server's default: the
// single-use and exclusive operations (Consume*, RevokeGrant,
// LeaseDelivery, DeleteSession) are conditional UPDATEs and DELETEs, and
// PostgreSQL re-checks their condition on the latest committed row after
// waiting for its lock, so exactly one of concurrent callers wins without
// the serialization failures that SERIALIZABLE would make every caller
// retry.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: begin transaction: %w", classify(err))
	}
	finished := false
	defer func() {
		if !finished {
			// fn panicked (or called runtime.Goexit, as t.FailNow does).
			// Roll back so the connection goes back to the pool clean.
			_ = rollback(ctx, pgTx)
		}
	}()
	t := &tx{reader: reader{q: guarded{pgTx}}}
	fnErr := fn(t)
	if fnErr == nil && len(t.jobs) > 0 {
		fnErr = classify(s.jobs.insert(ctx, pgTx, t.jobs))
	}
	finished = true
	if fnErr != nil {
		if err := rollback(ctx, pgTx); err != nil {
			return fmt.Errorf("postgres: transaction failed, and so did its rollback: %w", errors.Join(fnErr, err))
		}
		return fmt.Errorf("postgres: transaction rolled back: %w", fnErr)
	}
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", classify(dbErr(err)))
	}
	return nil
}

// rollback rolls pgTx back even when ctx is done: with a cancelled
// context pgx would close the connection rather than send ROLLBACK, and a
// pool that loses a connection on every cancelled request has to dial
// again.
func rollback(ctx context.Context, pgTx pgx.Tx) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if err := pgTx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", classify(err))
	}
	return nil
}

// Close closes every connection of the pool. It waits for connections in
// use to come back, so stop the job workers (StartJobs) first.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// tx is a store.Tx: its reader and the writer methods share one pgx.Tx.
type tx struct {
	reader
	// jobs are the delivery jobs to insert before the commit, all in one
	// statement (jobs.insert).
	jobs []store.PendingJob
}

var _ store.Tx = (*tx)(nil)

// DBSize is the bytes Sesame's tables take with their indexes and TOAST
// (pg_total_relation_size over the schema's tables), for measuring
// storage per session. It counts allocated pages, the space deleted rows
// left for reuse included (SQLite's figure leaves out its free pages);
// Compact first to count live rows only.
func (s *Store) DBSize(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE c.relkind = 'r' AND ns.nspname = current_schema()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: database size: %w", classify(err))
	}
	return n, nil
}

// Compact rewrites every table without the space of deleted rows (VACUUM
// FULL), for measuring the bytes live rows take. It locks each table while
// it runs: for benchmarks, never for a serving database.
func (s *Store) Compact(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, "VACUUM FULL"); err != nil {
		return fmt.Errorf("postgres: vacuum full: %w", classify(err))
	}
	return nil
}
