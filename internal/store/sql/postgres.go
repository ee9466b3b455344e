package sql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sesame-id/sesame/internal/store"
)

// pgEngine is the PostgreSQL dialect: one pgxpool pool. pgx prepares each
// statement once per connection and reuses it; behind a
// transaction-pooling PgBouncer, set default_query_exec_mode=exec in the
// URL.
type pgEngine struct {
	pool *pgxpool.Pool
}

// connectTimeout bounds a dial to the database when the URL does not set
// connect_timeout.
const connectTimeout = 3 * time.Second

// rollbackTimeout bounds a rollback that runs after the request's context
// is done.
const rollbackTimeout = 5 * time.Second

// openPostgres connects to the database dbURL names.
func openPostgres(ctx context.Context, dbURL string) (*pgEngine, error) {
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
	return &pgEngine{pool: pool}, nil
}

// defaultMaxConns sizes the pool when the URL does not. pgx's own default
// (the number of CPUs, at least 4) is too small for a server: every
// request that waits for a connection waits in line. Four per CPU, at
// least 8, keeps a 2-core instance to 8; with the connection each
// instance also holds to LISTEN for changes, that is 9 per instance, so
// ten fit in PostgreSQL's default max_connections of 100 less its 3
// reserved for superusers (docs/operators.md has the arithmetic).
func defaultMaxConns() int32 {
	return int32(max(8, 4*runtime.GOMAXPROCS(0)))
}

// hasParam reports whether the URL's query sets name.
func hasParam(dbURL, name string) bool {
	u, err := url.Parse(dbURL)
	return err == nil && u.Query().Has(name)
}

func (e *pgEngine) reads() querier { return pgQuerier{q: e.pool} }

// primaryReads are the pool's: every connection is alike.
func (e *pgEngine) primaryReads() querier { return e.reads() }

// begin starts a READ COMMITTED transaction, set explicitly whatever the
// server's default: the single-use and exclusive operations (Consume*,
// RevokeGrant, ClaimDeliveries, DeleteSession) are conditional UPDATEs and
// DELETEs, and PostgreSQL re-checks their condition on the latest
// committed row after waiting for its lock, so exactly one of concurrent
// callers wins without the serialization failures that SERIALIZABLE
// would make every caller retry. A routine transaction commits with
// synchronous_commit off: a crash of the server may lose its last
// instants, never a process crash of Sesame.
func (e *pgEngine) begin(ctx context.Context, d store.Durability) (txConn, error) {
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin transaction: %w", classify(err))
	}
	t := &pgTx{conn: conn, opening: beginDurable}
	if d != store.Durable {
		t.opening = beginRoutine
	}
	t.q = t
	return t, nil
}

// The statements that open a transaction, which pgTx sends with its first
// statement.
var (
	beginDurable = []string{"BEGIN ISOLATION LEVEL READ COMMITTED"}
	beginRoutine = []string{"BEGIN ISOLATION LEVEL READ COMMITTED", "SET LOCAL synchronous_commit = off"}
)

func (e *pgEngine) ping(ctx context.Context) error {
	if err := e.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", classify(err))
	}
	return nil
}

// close closes every connection of the pool. It waits for connections in
// use to come back, so stop the delivery workers first.
func (e *pgEngine) close() error {
	e.pool.Close()
	return nil
}

// dbSize is the bytes Sesame's tables take with their indexes and TOAST
// (pg_total_relation_size over the schema's tables). It counts allocated
// pages, the space deleted rows left for reuse included (SQLite's figure
// leaves out its free pages); compact first to count live rows only.
func (e *pgEngine) dbSize(ctx context.Context) (int64, error) {
	var n int64
	err := e.pool.QueryRow(ctx, `SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE c.relkind = 'r' AND ns.nspname = current_schema()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: database size: %w", classify(err))
	}
	return n, nil
}

// compact rewrites every table without the space of deleted rows (VACUUM
// FULL). It locks each table while it runs: for benchmarks, never for a
// serving database.
func (e *pgEngine) compact(ctx context.Context) error {
	if _, err := e.pool.Exec(ctx, "VACUUM FULL"); err != nil {
		return fmt.Errorf("postgres: vacuum full: %w", classify(err))
	}
	return nil
}

// pgTx is a transaction on one pooled connection. Its BEGIN is not a
// round trip of its own: it waits for the transaction's first statement
// and goes to the server with it, in one pgx batch (one network write, one
// wait). A round trip costs Sesame about what a whole userinfo costs on
// SQLite (a bare pgx query: 26 us of client CPU), plus the server's; with
// BEGIN sent alone every write transaction paid one more (3 interleaved
// rounds of the internal/oidc benchmarks on PostgreSQL, Sesame's and the
// server's CPU: SSO sign-in 1000-1036 -> 900-921 us, refresh 773-861 ->
// 690-745 us).
type pgTx struct {
	pgQuerier
	conn *pgxpool.Conn
	// opening are the statements that open the transaction, until they
	// have been sent; nil since.
	opening []string
}

// first sends the opening statements and the transaction's first
// statement in one batch, and returns the batch positioned at that
// statement's result; the caller closes it.
func (t *pgTx) first(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	for _, s := range t.opening {
		b.Queue(s)
	}
	b.Queue(sql, args...)
	// Sent, whatever comes back: from here on the connection may be in a
	// transaction, which commit or rollback must end.
	opening := t.opening
	t.opening = nil
	br := t.conn.SendBatch(ctx, b)
	for range opening {
		if _, err := br.Exec(); err != nil {
			_ = br.Close() // the same error
			return nil, err
		}
	}
	return br, nil
}

// Exec implements pgConn. A first statement goes through Query, whose
// rows (none, for a write) end with the statement's command tag.
func (t *pgTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.opening == nil {
		return t.conn.Exec(ctx, sql, args...)
	}
	rs, err := t.Query(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	rs.Close()
	return rs.CommandTag(), rs.Err()
}

// Query implements pgConn.
func (t *pgTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.opening == nil {
		return t.conn.Query(ctx, sql, args...)
	}
	br, err := t.first(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rs, err := br.Query()
	if err != nil {
		_ = br.Close() // the same error
		return nil, err
	}
	return batchRows{Rows: rs, br: br}, nil
}

// QueryRow implements pgConn.
func (t *pgTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.opening == nil {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	br, err := t.first(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{Row: br.QueryRow(), br: br}
}

// batchRows are the rows of a transaction's first statement: closing them
// closes its batch, which frees the connection for the next statement.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	_ = r.br.Close() // the rows' own error is theirs (Err); nothing follows them
}

// batchRow is the row of a transaction's first statement, as batchRows.
type batchRow struct {
	pgx.Row
	br pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// commit commits and gives the connection back to the pool. A transaction
// that ran no statement never began: there is nothing to commit.
func (t *pgTx) commit(ctx context.Context) error {
	defer t.conn.Release()
	if t.opening != nil {
		return nil
	}
	tag, err := t.conn.Exec(ctx, "COMMIT")
	if err != nil {
		return fmt.Errorf("postgres: commit: %w", classify(dbErr(err)))
	}
	// A transaction that an error aborted answers COMMIT with ROLLBACK.
	if tag.String() == "ROLLBACK" {
		return fmt.Errorf("postgres: commit: %w", pgx.ErrTxCommitRollback)
	}
	return nil
}

// rollback rolls back even when ctx is done, and gives the connection
// back to the pool: with a cancelled context pgx would close the
// connection rather than send ROLLBACK, and a pool that loses a connection
// on every cancelled request has to dial again. The pool closes a
// connection it gets back still in a transaction (ROLLBACK failed).
func (t *pgTx) rollback(ctx context.Context) error {
	defer t.conn.Release()
	if t.opening != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

// pgConn is what *pgxpool.Pool and pgx.Tx share.
type pgConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgQuerier runs statements through pgx, adapting the store's argument
// and destination types (conv.go) to pgx's, and marking errors that mean
// the database is out of reach as store.ErrUnavailable.
type pgQuerier struct{ q pgConn }

func (p pgQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, query, pgArgs(args)...)
	return tag.RowsAffected(), classify(err)
}

func (p pgQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	rs, err := p.q.Query(ctx, query, pgArgs(args)...)
	if err != nil {
		return nil, classify(err)
	}
	return pgRows{rs}, nil
}

func (p pgQuerier) queryRow(ctx context.Context, query string, args ...any) scanner {
	return pgRow{p.q.QueryRow(ctx, query, pgArgs(args)...)}
}

type pgRow struct{ pgx.Row }

// Scan reports no row as store.ErrNotFound, as liteRow does.
func (r pgRow) Scan(dest ...any) error { return noRow(classify(r.Row.Scan(pgDests(dest)...))) }

type pgRows struct{ pgx.Rows }

func (r pgRows) Scan(dest ...any) error { return r.Rows.Scan(pgDests(dest)...) }
func (r pgRows) Err() error             { return classify(r.Rows.Err()) }

// pgArgs adapts arguments in place: times to timestamptz, lists to a
// text[] (empty rather than NULL: the columns are NOT NULL).
func pgArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case timeArg:
			t := time.Time(v)
			args[i] = pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
		case listArg:
			if v == nil {
				v = listArg{}
			}
			args[i] = []string(v)
		}
	}
	return args
}

// pgDests adapts scan destinations in place.
func pgDests(dest []any) []any {
	for i, d := range dest {
		switch v := d.(type) {
		case timeDest:
			dest[i] = pgTime(v)
		case listDest:
			dest[i] = pgList(v)
		case blobDest:
			dest[i] = pgBytes(v)
		case jsonDest:
			dest[i] = pgJSON(v)
		}
	}
	return dest
}

// pgTime scans a timestamptz: NULL is the zero time, anything else UTC
// (pgx would give it in time.Local).
type pgTime timeDest

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (d pgTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*d.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		// Sesame never writes infinity; someone edited the row by hand.
		return fmt.Errorf("time column holds %s", v.InfinityModifier)
	default:
		*d.t = v.Time.UTC()
	}
	return nil
}

// pgList scans a text[]; an empty array is a nil slice.
type pgList listDest

// SetDimensions implements pgtype.ArraySetter.
func (d pgList) SetDimensions(dims []pgtype.ArrayDimension) error {
	*d.l = nil
	if len(dims) == 0 { // NULL, or the empty array
		return nil
	}
	if len(dims) > 1 {
		return fmt.Errorf("list column holds a %d-dimensional array", len(dims))
	}
	if n := int(dims[0].Length); n > 0 {
		*d.l = make([]string, n)
	}
	return nil
}

// ScanIndex implements pgtype.ArraySetter.
func (d pgList) ScanIndex(i int) any { return &(*d.l)[i] }

// ScanIndexType implements pgtype.ArraySetter.
func (d pgList) ScanIndexType() any { return new(string) }

// pgBytes scans a bytea into a slice of its own (pgx reuses its buffer
// for the next row); NULL and empty are nil.
type pgBytes blobDest

// ScanBytes implements pgtype.BytesScanner.
func (d pgBytes) ScanBytes(v []byte) error {
	*d.b = nil
	if len(v) > 0 {
		*d.b = append([]byte(nil), v...)
	}
	return nil
}

// pgJSON scans a jsonb document.
type pgJSON jsonDest

// ScanBytes implements pgtype.BytesScanner.
func (d pgJSON) ScanBytes(v []byte) error { return jsonDest(d).unmarshal(v) }

// unavailable reports whether err means the database could not be reached
// or went away mid-query: the connection was refused, reset or timed out,
// the server is shutting down or starting, or has no connection slot.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01-03: admin shutdown, crash
		// shutdown, cannot connect now; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" ||
			pe.Code == "57P03" || pe.Code == "53300"
	}
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// classify marks err as store.ErrUnavailable when the database is out of
// reach, so callers answer 503 rather than 500.
func classify(err error) error {
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
