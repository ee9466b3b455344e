package sql

import (
	"context"
	dbsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
)

// SQLite is driven through its driver's own interfaces (database/sql/driver)
// rather than through database/sql. For statements that run in a few
// microseconds on an embedded database, database/sql's bookkeeping was
// a large part of their cost: a goroutine per transaction and another per
// query inside one (each waking an idle processor), a statement wrapper
// per use in a transaction, locks and reflection per argument. Measured
// on a point read plus a write transaction of three statements: 76 µs of
// CPU through database/sql, 47 µs through the driver. The engine owns its
// connections instead (litePool): one writer, a few readers.

// liteConn is one SQLite connection with the statements it has prepared,
// by their text in PostgreSQL's syntax. It is used by one goroutine at a
// time: whoever took it from its pool.
type liteConn struct {
	c     driver.Conn
	stmts map[string]*liteStmt
	// args is reused for each statement's arguments: the driver copies
	// them into SQLite when it binds.
	args []driver.NamedValue
}

// liteStmt is a prepared statement; busy while rows of it are open, when
// running it again would reset them.
type liteStmt struct {
	s    driver.Stmt
	busy bool
}

// openLiteConn opens one connection on path with the DSN's params.
func openLiteConn(path, params string) (*liteConn, error) {
	c, err := (&msqlite.Driver{}).Open(dsn(path, params))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &liteConn{c: c, stmts: map[string]*liteStmt{}}, nil
}

// stmt returns the prepared statement for query (PostgreSQL's syntax),
// preparing its SQLite translation the first time. When the cached one
// is busy it prepares one for this use alone (once reports it).
func (c *liteConn) stmt(ctx context.Context, query string) (st *liteStmt, once bool, err error) {
	if st := c.stmts[query]; st != nil && !st.busy {
		return st, false, nil
	}
	if onPrepare != nil {
		onPrepare(query)
	}
	s, err := c.c.(driver.ConnPrepareContext).PrepareContext(ctx, sqliteText(query))
	if err != nil {
		return nil, false, err
	}
	st = &liteStmt{s: s}
	if c.stmts[query] != nil {
		return st, true, nil
	}
	c.stmts[query] = st
	return st, false, nil
}

// named converts args as database/sql would (driver.Valuer, pointers,
// kinds of int and string) into the driver's numbered values.
func (c *liteConn) named(args []any) ([]driver.NamedValue, error) {
	nv := c.args[:0]
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return nil, fmt.Errorf("argument $%d: %w", i+1, err)
		}
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	c.args = nv
	return nv, nil
}

// exec runs a statement and returns how many rows it changed.
func (c *liteConn) exec(ctx context.Context, query string, args []any) (int64, error) {
	st, once, err := c.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	if once {
		defer st.s.Close()
	}
	nv, err := c.named(args)
	if err != nil {
		return 0, err
	}
	res, err := st.s.(driver.StmtExecContext).ExecContext(ctx, nv)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// query runs a query; its rows hold the statement until they are closed.
func (c *liteConn) query(ctx context.Context, query string, args []any) (*liteRows, error) {
	st, once, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	nv, err := c.named(args)
	if err == nil {
		var rs driver.Rows
		if rs, err = st.s.(driver.StmtQueryContext).QueryContext(ctx, nv); err == nil {
			st.busy = true
			return &liteRows{rs: rs, st: st, once: once, vals: make([]driver.Value, len(rs.Columns()))}, nil
		}
	}
	if once {
		st.s.Close()
	}
	return nil, err
}

// queryRow runs a query and keeps its first row; the statement is free
// again when it returns.
func (c *liteConn) queryRow(ctx context.Context, query string, args []any) scanner {
	rs, err := c.query(ctx, query, args)
	if err != nil {
		return errRow{err}
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return errRow{err}
		}
		return errRow{noRow(dbsql.ErrNoRows)}
	}
	return valuesRow(rs.vals)
}

// execText runs SQL that is not kept prepared: a PRAGMA that changes a
// setting acts when it is prepared, not when it runs again.
func (c *liteConn) execText(ctx context.Context, text string) error {
	_, err := c.c.(driver.ExecerContext).ExecContext(ctx, text, nil)
	return err
}

// queryText reads the one value of SQL that is not kept prepared (a
// PRAGMA that reports a setting or a count as of when it is prepared).
func (c *liteConn) queryText(ctx context.Context, text string, into any) error {
	rs, err := c.c.(driver.QueryerContext).QueryContext(ctx, text, nil)
	if err != nil {
		return err
	}
	defer rs.Close()
	v := make([]driver.Value, len(rs.Columns()))
	if err := rs.Next(v); err != nil {
		if errors.Is(err, io.EOF) {
			return noRow(dbsql.ErrNoRows)
		}
		return err
	}
	return valuesRow(v).Scan(into)
}

func (c *liteConn) close() error {
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.s.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.c.Close())...)
}

// liteRows are the rows of a query on a liteConn.
type liteRows struct {
	rs   driver.Rows
	st   *liteStmt
	once bool
	vals []driver.Value
	err  error
	done bool
	// release, when set, gives the connection back to its pool.
	release func()
}

func (r *liteRows) Next() bool {
	if r.done {
		return false
	}
	if err := r.rs.Next(r.vals); err != nil {
		if !errors.Is(err, io.EOF) {
			r.err = err
		}
		r.Close()
		return false
	}
	return true
}

func (r *liteRows) Scan(dest ...any) error {
	if r.done {
		return errors.New("sqlite: scan after the rows were closed")
	}
	return valuesRow(r.vals).Scan(dest...)
}

func (r *liteRows) Err() error { return r.err }

// Close resets the statement and frees its connection; closing again
// does nothing.
func (r *liteRows) Close() {
	if r.done {
		return
	}
	r.done = true
	if err := r.rs.Close(); err != nil && r.err == nil {
		r.err = err
	}
	r.st.busy = false
	if r.once {
		_ = r.st.s.Close()
	}
	if r.release != nil {
		r.release()
	}
}

// valuesRow is one row's values as the driver handed them over.
type valuesRow []driver.Value

// Scan assigns the row's values to dest, as database/sql's Scan would.
func (v valuesRow) Scan(dest ...any) error {
	if len(dest) != len(v) {
		return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), len(v))
	}
	for i, d := range dest {
		if err := assign(d, v[i]); err != nil {
			return fmt.Errorf("sqlite: column %d: %w", i, err)
		}
	}
	return nil
}

// assign stores one value SQLite's driver handed over (nil, int64,
// float64, string, []byte of its own, time.Time) into dest. The cases
// first are those the store scans into; a named kind or a pointer to a
// nullable value goes through reflection.
func assign(dest any, src driver.Value) error {
	switch d := dest.(type) {
	case dbsql.Scanner:
		return d.Scan(src)
	case *string:
		switch s := src.(type) {
		case string:
			*d = s
			return nil
		case []byte:
			*d = string(s)
			return nil
		case int64:
			*d = strconv.FormatInt(s, 10)
			return nil
		}
	case *[]byte:
		switch s := src.(type) {
		case nil:
			*d = nil
			return nil
		case []byte:
			*d = s // the driver's own copy
			return nil
		case string:
			*d = []byte(s)
			return nil
		}
	case *int64:
		if s, ok := src.(int64); ok {
			*d = s
			return nil
		}
	case *int:
		if s, ok := src.(int64); ok {
			*d = int(s)
			return nil
		}
	case *bool:
		switch s := src.(type) {
		case int64:
			*d = s != 0
			return nil
		case bool:
			*d = s
			return nil
		}
	case *float64:
		switch s := src.(type) {
		case float64:
			*d = s
			return nil
		case int64:
			*d = float64(s)
			return nil
		}
	case *time.Time:
		if s, ok := src.(time.Time); ok {
			*d = s
			return nil
		}
	case *any:
		*d = src
		return nil
	}
	return assignKind(dest, src)
}

// assignKind assigns src to what dest points to by its kind: a pointer
// (nil for NULL), or a string, integer, boolean or float type of the
// store's own.
func assignKind(dest any, src driver.Value) error {
	dv := reflect.ValueOf(dest)
	if dv.Kind() != reflect.Pointer || dv.IsNil() {
		return fmt.Errorf("destination %T is not a non-nil pointer", dest)
	}
	e := dv.Elem()
	if e.Kind() == reflect.Pointer {
		if src == nil {
			e.SetZero()
			return nil
		}
		p := reflect.New(e.Type().Elem())
		if err := assign(p.Interface(), src); err != nil {
			return err
		}
		e.Set(p)
		return nil
	}
	switch s := src.(type) {
	case nil:
		return fmt.Errorf("NULL into %T", dest)
	case int64:
		switch e.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if e.OverflowInt(s) {
				return fmt.Errorf("%d overflows %T", s, dest)
			}
			e.SetInt(s)
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if s < 0 || e.OverflowUint(uint64(s)) {
				return fmt.Errorf("%d overflows %T", s, dest)
			}
			e.SetUint(uint64(s))
			return nil
		case reflect.Bool:
			e.SetBool(s != 0)
			return nil
		}
	case string:
		if e.Kind() == reflect.String {
			e.SetString(s)
			return nil
		}
	case []byte:
		if e.Kind() == reflect.String {
			e.SetString(string(s))
			return nil
		}
	case float64:
		if e.Kind() == reflect.Float32 || e.Kind() == reflect.Float64 {
			e.SetFloat(s)
			return nil
		}
	}
	return fmt.Errorf("cannot store %T into %T", src, dest)
}

// litePool is a fixed set of connections; a caller takes one for a
// statement or a transaction and gives it back.
type litePool struct {
	idle chan *liteConn
	all  []*liteConn
	// closed is closed by close: a caller waiting for a connection, or
	// coming later, gets errClosed.
	closed chan struct{}
}

// errClosed is the answer of a pool after close, as database/sql's
// "database is closed".
var errClosed = errors.New("sqlite: database is closed")

// openLitePool opens n connections on path.
func openLitePool(ctx context.Context, path, params string, n int) (*litePool, error) {
	p := &litePool{idle: make(chan *liteConn, n), closed: make(chan struct{})}
	for range n {
		c, err := openLiteConn(path, params)
		if err == nil {
			// It answers, and the file is a database.
			var one int64
			err = c.queryText(ctx, "SELECT count(*) FROM sqlite_schema", &one)
			if err != nil {
				c.c.Close()
			}
		}
		if err != nil {
			p.close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		p.all = append(p.all, c)
		p.idle <- c
	}
	return p, nil
}

// get takes a connection, waiting while all are in use unless ctx ends.
func (p *litePool) get(ctx context.Context) (*liteConn, error) {
	select {
	case <-p.closed:
		return nil, errClosed
	case c := <-p.idle:
		return c, nil
	default:
	}
	select {
	case <-p.closed:
		return nil, errClosed
	case c := <-p.idle:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *litePool) put(c *liteConn) { p.idle <- c }

// closeWait is how long close waits for connections still in use.
const closeWait = 10 * time.Second

// close closes every connection once it is given back.
func (p *litePool) close() error {
	select {
	case <-p.closed:
		return nil
	default:
	}
	close(p.closed)
	var errs []error
	t := time.NewTimer(closeWait)
	defer t.Stop()
	for range p.all {
		select {
		case c := <-p.idle:
			errs = append(errs, c.close())
		case <-t.C:
			return errors.Join(append(errs, errors.New("sqlite: a connection was still in use at close"))...)
		}
	}
	return errors.Join(errs...)
}

// poolQuerier runs each statement on a connection of its pool: the
// readers, or the writer outside a transaction (Store.Primary).
type poolQuerier struct{ p *litePool }

func (q poolQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	c, run, err := q.take(ctx)
	if err != nil {
		return 0, err
	}
	defer q.p.put(c)
	return c.exec(run, query, args)
}

func (q poolQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	c, run, err := q.take(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := c.query(run, query, args)
	if err != nil {
		q.p.put(c)
		return nil, err
	}
	rs.release = func() { q.p.put(c) }
	return rs, nil
}

func (q poolQuerier) queryRow(ctx context.Context, query string, args ...any) scanner {
	c, run, err := q.take(ctx)
	if err != nil {
		return errRow{err}
	}
	defer q.p.put(c)
	return c.queryRow(run, query, args)
}

// take waits (cancellably) for a connection and returns it with the
// context its statements run under.
func (q poolQuerier) take(ctx context.Context) (*liteConn, context.Context, error) {
	c, err := q.p.get(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: connection: %w", err)
	}
	run, err := uninterrupted(ctx)
	if err != nil {
		q.p.put(c)
		return nil, nil, err
	}
	return c, run, nil
}

// connQuerier runs statements on one connection already taken: a write
// transaction's.
type connQuerier struct{ c *liteConn }

func (q connQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, err := uninterrupted(ctx)
	if err != nil {
		return 0, err
	}
	return q.c.exec(ctx, query, args)
}

func (q connQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	ctx, err := uninterrupted(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := q.c.query(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func (q connQuerier) queryRow(ctx context.Context, query string, args ...any) scanner {
	ctx, err := uninterrupted(ctx)
	if err != nil {
		return errRow{err}
	}
	return q.c.queryRow(ctx, query, args)
}

// noTransaction is SQLite's answer to a ROLLBACK when the transaction is
// already gone: an error inside it (a full disk, an I/O error) rolled it
// back.
func noTransaction(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no transaction is active")
}
