package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

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
// synchronous starts FULL; each transaction sets what its durability asks
// for before it begins (liteEngine.begin).
//
// wal_autocheckpoint(0): no commit checkpoints. By default the commit that
// takes the log past 1,000 pages copies them into the database and syncs
// it while it holds the writer, tens of milliseconds for whichever
// request or sweep batch it falls on (BenchmarkSweepBatch: p99 24-49 ms).
// The engine's checkpointer does it beside the writer instead
// (checkpoints). cache_size(-16384): 16 MiB of pages for the writer, where
// the default 2 MiB made a sweep batch read back the index pages it had
// just written.
const writerParams = "_txlock=immediate&_busy_timeout=10000&_foreign_keys=on&_journal_mode=WAL&_synchronous=FULL" +
	"&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(-16384)"

// checkpointParams configure the checkpointer's own connection.
const checkpointParams = "_busy_timeout=10000"

// checkpointEvery is how often the checkpointer copies the log into the
// database. A PASSIVE checkpoint waits for no one: it copies what no
// reader still needs, and the log restarts from its beginning once all of
// it was copied.
const checkpointEvery = time.Second

// readerParams configure the reader pool. query_only makes a write through
// a reader fail loudly instead of racing the writer for the lock.
const readerParams = "_busy_timeout=10000&_foreign_keys=on&_query_only=on"

// liteEngine is the SQLite dialect: one writer connection and a pool of
// readers on one file in WAL mode.
type liteEngine struct {
	path                  string
	write, read           *dbsql.DB
	writeStmts, readStmts *stmtCache
	// synchronous is the writer connection's current setting, changed
	// only while a transaction holds that connection (begin).
	synchronous string
	// ckpt is the checkpointer's connection; stop ends it, and done is
	// closed once it has.
	ckpt *dbsql.DB
	stop context.CancelFunc
	done chan struct{}
}

// openSQLite opens (creating it if needed) the SQLite database at path.
func openSQLite(ctx context.Context, path string) (*liteEngine, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	// The writer opens first: it switches the file to WAL mode and creates
	// the schema before any reader connects.
	write, err := openPool(ctx, path, writerParams, 1)
	if err != nil {
		return nil, err
	}
	// The database and its WAL are the store's secrets (hashes of every
	// token, encrypted keys): readable by the owner only.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			write.Close()
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	// Reads are CPU-bound in-process work; more readers than cores buy
	// nothing, fewer than 4 would let a few slow scans starve lookups.
	read, err := openPool(ctx, path, readerParams, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		write.Close()
		return nil, err
	}
	ckpt, err := openPool(ctx, path, checkpointParams, 1)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	e := &liteEngine{path: path, write: write, read: read, writeStmts: newStmtCache(write),
		readStmts: newStmtCache(read), synchronous: "FULL", ckpt: ckpt, done: make(chan struct{})}
	var bg context.Context
	bg, e.stop = context.WithCancel(context.Background())
	go e.checkpoints(bg)
	return e, nil
}

// checkpoints copies the write-ahead log into the database every
// checkpointEvery, beside the writer rather than inside one of its
// commits (writerParams), until ctx ends. A failed checkpoint is tried
// again at the next tick: until one succeeds the log only grows, and
// reads stay correct.
func (e *liteEngine) checkpoints(ctx context.Context) {
	defer close(e.done)
	eachTick(ctx, checkpointEvery, func() {
		_, _ = e.ckpt.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	})
}

// eachTick calls fn every d until ctx ends: the engine's background
// chores (checkpoints, the data_version watch).
func eachTick(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
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
func openPool(ctx context.Context, path, params string, n int) (*dbsql.DB, error) {
	db, err := dbsql.Open("sqlite", dsn(path, params))
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

func (e *liteEngine) reads() querier { return liteQuerier{c: e.readStmts} }

// primaryReads run on the writer connection, outside any transaction.
func (e *liteEngine) primaryReads() querier { return liteQuerier{c: e.writeStmts} }

// begin takes the writer connection (writers queue here), sets
// synchronous for this transaction's durability (SQLite refuses to
// change it inside one) and begins IMMEDIATE.
func (e *liteEngine) begin(ctx context.Context, d store.Durability) (txConn, error) {
	// The wait for the one writer connection stays cancellable: a request
	// that gave up does not queue behind the other writers.
	conn, err := e.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: writer connection: %w", err)
	}
	if ctx, err = uninterrupted(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	want := "NORMAL"
	if d == store.Durable {
		want = "FULL"
	}
	if want != e.synchronous {
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = "+want); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sqlite: set synchronous %s: %w", want, err)
		}
		e.synchronous = want
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlite: begin transaction: %w", err)
	}
	return &liteTx{liteQuerier: liteQuerier{tx: tx, c: e.writeStmts, missed: new([]string)}, conn: conn}, nil
}

func (e *liteEngine) ping(ctx context.Context) error {
	if err := e.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := e.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping readers: %w", err)
	}
	return nil
}

// close stops the checkpointer and closes its connection, the readers
// and the writer, with their statements, in that order: the writer,
// closing last, checkpoints the whole log into the database file and
// removes it.
func (e *liteEngine) close() error {
	e.stop()
	<-e.done
	return errors.Join(e.ckpt.Close(),
		e.readStmts.close(), e.read.Close(),
		e.writeStmts.close(), e.write.Close())
}

// dbSize is the bytes the database's live pages take (page_count less the
// free list, times page_size).
func (e *liteEngine) dbSize(ctx context.Context) (int64, error) {
	var pages, free, size int64
	for _, q := range []struct {
		pragma string
		into   *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
		if err := e.write.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.into); err != nil {
			return 0, fmt.Errorf("sqlite: %s: %w", q.pragma, err)
		}
	}
	return (pages - free) * size, nil
}

// compact is a no-op: dbSize already leaves free pages out.
func (e *liteEngine) compact(context.Context) error { return nil }

// liteTx is a write transaction on the writer connection.
type liteTx struct {
	liteQuerier
	conn *dbsql.Conn
}

func (t *liteTx) commit(ctx context.Context) error {
	defer t.release(ctx)
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

func (t *liteTx) rollback(ctx context.Context) error {
	defer t.release(ctx)
	// ErrTxDone: database/sql already rolled back on a cancelled ctx.
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, dbsql.ErrTxDone) {
		return err
	}
	return nil
}

// release gives the writer connection back, then prepares for the cache
// the statements this transaction ran for the first time: the pool's one
// connection was the transaction's until now, so they could not be
// prepared on the pool meanwhile.
func (t *liteTx) release(ctx context.Context) {
	t.conn.Close()
	for _, q := range *t.missed {
		_, _ = t.c.prepare(context.WithoutCancel(ctx), q)
	}
}

// liteQuerier runs statements from a cache of prepared ones: on the
// reader pool (tx nil) or in a transaction on the writer. Parsing and
// planning was most of the CPU of a lookup, so every statement is
// prepared once per connection and reused.
type liteQuerier struct {
	tx *dbsql.Tx
	c  *stmtCache
	// missed are the statements a transaction prepared for itself alone.
	missed *[]string
}

func (q liteQuerier) stmt(ctx context.Context, query string) (*dbsql.Stmt, error) {
	if q.tx == nil {
		return q.c.prepare(ctx, query)
	}
	if st := q.c.cached(query); st != nil {
		return q.tx.StmtContext(ctx, st), nil
	}
	// Preparing on the pool would wait for the connection this
	// transaction holds: prepare for the transaction, and for the cache
	// once it ends.
	*q.missed = append(*q.missed, query)
	return q.tx.PrepareContext(ctx, sqliteText(query))
}

func (q liteQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, err := uninterrupted(ctx)
	if err != nil {
		return 0, err
	}
	st, err := q.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q liteQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	ctx, err := uninterrupted(ctx)
	if err != nil {
		return nil, err
	}
	st, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rs, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return liteRows{rs}, nil
}

func (q liteQuerier) queryRow(ctx context.Context, query string, args ...any) scanner {
	ctx, err := uninterrupted(ctx)
	if err != nil {
		return errRow{err}
	}
	st, err := q.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return liteRow{st.QueryRowContext(ctx, args...)}
}

// uninterrupted returns ctx's error if it is already done, and otherwise
// ctx without its cancellation. Given a context that can end, the driver
// starts a goroutine per statement and database/sql one per transaction,
// to interrupt SQLite when it does: about a fifth of a refresh's CPU for
// statements that run in microseconds on an embedded database, where an
// interrupted write transaction is only rolled back anyway.
func uninterrupted(ctx context.Context) (context.Context, error) {
	if ctx.Done() == nil {
		return ctx, nil // a transaction's statements: already without
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// liteRow reports no row as store.ErrNotFound, as pgRow does.
type liteRow struct{ *dbsql.Row }

func (r liteRow) Scan(dest ...any) error {
	if err := r.Row.Scan(dest...); err != nil {
		return noRow(err)
	}
	return nil
}

// liteRows adapts *sql.Rows, whose Close returns an error nobody needs
// once Err has been read.
type liteRows struct{ *dbsql.Rows }

func (r liteRows) Close() { _ = r.Rows.Close() }

// errRow is a row whose query could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// stmtCache holds one pool's prepared statements by their query text.
// database/sql prepares a statement again on each connection it meets.
type stmtCache struct {
	db    *dbsql.DB
	mu    sync.RWMutex
	stmts map[string]*dbsql.Stmt
}

func newStmtCache(db *dbsql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*dbsql.Stmt)}
}

// onPrepare, when set (by a test, before the store is used), is called
// with each query a stmtCache prepares, in PostgreSQL's syntax: the
// EXPLAIN test gathers every statement the store runs by it.
var onPrepare func(query string)

// cached returns the statement already prepared for query, if any.
func (c *stmtCache) cached(query string) *dbsql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// prepare returns the statement for query (in PostgreSQL's syntax),
// preparing its SQLite translation the first time.
func (c *stmtCache) prepare(ctx context.Context, query string) (*dbsql.Stmt, error) {
	if st := c.cached(query); st != nil {
		return st, nil
	}
	if onPrepare != nil {
		onPrepare(query)
	}
	st, err := c.db.PrepareContext(ctx, sqliteText(query))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[query]; old != nil {
		st.Close()
		return old, nil
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// What SQLite spells differently from the PostgreSQL the queries are
// written in: numbered parameters are ?N, values need no casts, and rows
// need no lock (the one writer connection already serialises every
// write transaction).
var (
	pgParam   = regexp.MustCompile(`\$(\d+)`)
	pgCast    = regexp.MustCompile(`::[a-z]+(\[\])?`)
	pgRowLock = regexp.MustCompile(`\s+FOR UPDATE( SKIP LOCKED)?`)
)

// sqliteText translates a query from PostgreSQL's syntax.
func sqliteText(query string) string {
	query = pgParam.ReplaceAllString(query, "?$1")
	query = pgCast.ReplaceAllString(query, "")
	return pgRowLock.ReplaceAllString(query, "")
}
