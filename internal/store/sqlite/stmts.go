package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Parsing and planning is most of the CPU a simple SQLite query costs (60%
// of a session lookup, measured), so every statement is prepared once per
// connection and reused.
//
// database/sql can only prepare a shared *sql.Stmt on a free connection.
// Inside a transaction the writer's one connection is not free, so the
// writer's statements cannot be prepared on first use: Open prepares every
// statement of the package up front, and a transaction binds them to its
// connection with Tx.StmtContext. To make that possible, every query is a
// package-level variable registered by statement.

// statements lists every SQL statement of the package, in the order the
// package initialises them.
var statements []string

// statement registers query to be prepared by Open and returns it.
func statement(query string) string {
	statements = append(statements, query)
	return query
}

// stmtCache holds one prepared *sql.Stmt per query on one pool; database/sql
// prepares it again on each connection that runs it.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt)}
}

// cached returns the prepared statement for query, or nil.
func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// prepare returns the prepared statement for query, preparing it on a free
// connection of the pool if needed. Never call it on the writer pool
// inside a transaction.
func (c *stmtCache) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := c.cached(query); st != nil {
		return st, nil
	}
	// Prepared outside the lock: two goroutines may both prepare, and the
	// loser closes its copy.
	st, err := c.db.PrepareContext(ctx, query)
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

// prepareAll prepares every registered statement.
func (c *stmtCache) prepareAll(ctx context.Context) error {
	for _, q := range statements {
		if _, err := c.prepare(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// close closes every prepared statement.
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

// poolQuerier runs queries on a pool through its statement cache.
type poolQuerier struct{ c *stmtCache }

func (p poolQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p poolQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p poolQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.c.prepare(ctx, query)
	if err != nil {
		// A *sql.Row cannot be made to carry err; running the query
		// unprepared fails the same way and reports it on Scan.
		return p.c.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txQuerier runs queries in one transaction, with the writer's prepared
// statements where there is one.
type txQuerier struct {
	tx *sql.Tx
	c  *stmtCache
}

// stmt binds the prepared statement for query to the transaction, or
// returns nil when there is none (a statement not registered).
func (t txQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	st := t.c.cached(query)
	if st == nil {
		return nil
	}
	return t.tx.StmtContext(ctx, st)
}

func (t txQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
