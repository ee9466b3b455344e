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
//
// page_size(2048): a new database's pages are 2 KiB, not SQLite's 4 KiB.
// A commit writes each page it changed whole into the log, and a write
// changes one leaf of each table and index it touches whatever the page's
// size (a 4-app sign-out: 22 pages on a fresh database), so smaller pages
// are fewer bytes copied and synced per commit
// (BenchmarkGlobalSignOutCommit/own, 6 interleaved rounds: medians 552
// against 495 us of CPU). 1 KiB pages measured lower still, but such a
// page holds at most 230 bytes of a WITHOUT ROWID table's row in place,
// and the rest goes to overflow pages: a delivery attempt's error alone
// may be 300 bytes. The driver applies _pragma before _journal_mode, so
// the size is set while the file is still empty; a database created
// before keeps its 4 KiB pages (in WAL mode SQLite ignores the pragma),
// which changes nothing but this figure.
const writerParams = "_txlock=immediate&_busy_timeout=10000&_foreign_keys=on&_journal_mode=WAL&_synchronous=FULL" +
	"&_pragma=page_size(2048)&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(-16384)"

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
// readers on one file in WAL mode, driven through the driver (liteconn.go).
type liteEngine struct {
	path string
	// writer is a pool of one: holding its connection is holding the
	// write lock of this process.
	writer, readers *litePool
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
	// The writer opens first: it switches the file to WAL mode before any
	// reader connects.
	writer, err := openLitePool(ctx, path, writerParams, 1)
	if err != nil {
		return nil, err
	}
	// The database and its WAL are the store's secrets (hashes of every
	// token, encrypted keys): readable by the owner only.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			writer.close()
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	// Reads are CPU-bound in-process work; more readers than cores buy
	// nothing, fewer than 4 would let a few slow scans starve lookups.
	readers, err := openLitePool(ctx, path, readerParams, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		writer.close()
		return nil, err
	}
	ckpt, err := openPool(ctx, path, checkpointParams, 1)
	if err != nil {
		writer.close()
		readers.close()
		return nil, err
	}
	e := &liteEngine{path: path, writer: writer, readers: readers, synchronous: "FULL", ckpt: ckpt, done: make(chan struct{})}
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

func (e *liteEngine) reads() querier { return poolQuerier{e.readers} }

// primaryReads run on the writer connection, outside any transaction.
func (e *liteEngine) primaryReads() querier { return poolQuerier{e.writer} }

// onWriter runs fn on the writer connection, outside any transaction:
// the engine's chores that read a setting (data_version, the size).
func (e *liteEngine) onWriter(ctx context.Context, fn func(c *liteConn, ctx context.Context) error) error {
	c, run, err := poolQuerier{e.writer}.take(ctx)
	if err != nil {
		return err
	}
	defer e.writer.put(c)
	return fn(c, run)
}

// begin takes the writer connection (writers queue here), sets
// synchronous for this transaction's durability (SQLite refuses to
// change it inside one) and begins IMMEDIATE.
func (e *liteEngine) begin(ctx context.Context, d store.Durability) (txConn, error) {
	// The wait for the one writer connection stays cancellable: a request
	// that gave up does not queue behind the other writers.
	c, ctx, err := poolQuerier{e.writer}.take(ctx)
	if err != nil {
		return nil, err
	}
	want := "NORMAL"
	if d == store.Durable {
		want = "FULL"
	}
	if want != e.synchronous {
		if err := c.execText(ctx, "PRAGMA synchronous = "+want); err != nil {
			e.writer.put(c)
			return nil, fmt.Errorf("sqlite: set synchronous %s: %w", want, err)
		}
		e.synchronous = want
	}
	if _, err := c.exec(ctx, "BEGIN IMMEDIATE", nil); err != nil {
		e.writer.put(c)
		return nil, fmt.Errorf("sqlite: begin transaction: %w", err)
	}
	return &liteTx{connQuerier: connQuerier{c}, pool: e.writer}, nil
}

func (e *liteEngine) ping(ctx context.Context) error {
	var n int64
	if err := e.onWriter(ctx, func(c *liteConn, ctx context.Context) error {
		return c.queryText(ctx, "SELECT 1", &n)
	}); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := e.reads().queryRow(ctx, "SELECT 1").Scan(&n); err != nil {
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
	return errors.Join(e.ckpt.Close(), e.readers.close(), e.writer.close())
}

// dbSize is the bytes the database's live pages take (page_count less the
// free list, times page_size).
func (e *liteEngine) dbSize(ctx context.Context) (int64, error) {
	var pages, free, size int64
	err := e.onWriter(ctx, func(c *liteConn, ctx context.Context) error {
		for _, q := range []struct {
			pragma string
			into   *int64
		}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
			if err := c.queryText(ctx, "PRAGMA "+q.pragma, q.into); err != nil {
				return fmt.Errorf("sqlite: %s: %w", q.pragma, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return (pages - free) * size, nil
}

// compact is a no-op: dbSize already leaves free pages out.
func (e *liteEngine) compact(context.Context) error { return nil }

// liteTx is a write transaction on the writer connection.
type liteTx struct {
	connQuerier
	pool *litePool
}

// commit commits; a commit that fails is rolled back, so the writer
// connection is never handed on inside a transaction.
func (t *liteTx) commit(ctx context.Context) error {
	run := context.WithoutCancel(ctx)
	if _, err := t.c.exec(run, "COMMIT", nil); err != nil {
		return errors.Join(fmt.Errorf("sqlite: commit: %w", err), t.rollback(run))
	}
	t.pool.put(t.c)
	return nil
}

func (t *liteTx) rollback(ctx context.Context) error {
	defer t.pool.put(t.c)
	if _, err := t.c.exec(context.WithoutCancel(ctx), "ROLLBACK", nil); err != nil && !noTransaction(err) {
		return fmt.Errorf("sqlite: rollback: %w", err)
	}
	return nil
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

// errRow is a row whose query failed.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// onPrepare, when set (by a test, before the store is used), is called
// with each query a connection prepares, in PostgreSQL's syntax: the
// EXPLAIN test gathers every statement the store runs by it.
var onPrepare func(query string)

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
