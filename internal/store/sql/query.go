package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sesame-id/sesame/internal/store"
)

// querier runs SQL on one dialect's connection: the read pool for Store,
// the transaction for Tx, so one operation serves both. Queries are
// written once, in PostgreSQL's syntax ($1 placeholders, casts, row
// locks); the SQLite dialect translates them (sqliteText).
type querier interface {
	// exec runs a statement and returns how many rows it changed.
	exec(ctx context.Context, query string, args ...any) (int64, error)
	query(ctx context.Context, query string, args ...any) (rows, error)
	queryRow(ctx context.Context, query string, args ...any) scanner
}

// scanner is one row.
type scanner interface {
	Scan(dest ...any) error
}

// rows is a result set.
type rows interface {
	scanner
	Next() bool
	Err() error
	Close()
}

// SQLSTATE codes mapped to the store's sentinels (PostgreSQL's appendix
// A, class 23: integrity constraint violation).
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// dbErr turns either driver's errors into the store's sentinels, keeping
// the driver's message for the log.
func dbErr(err error) error {
	if errors.Is(err, dbsql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// A foreign key names the row this one hangs off
			// (authorizations → sessions, role_permissions → roles):
			// it is gone.
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case foreignKeyViolation:
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	return err
}

// noRow makes either driver's "no rows" store.ErrNotFound, so an
// operation tests one sentinel whatever the dialect.
func noRow(err error) error {
	if errors.Is(err, dbsql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// execOne runs a statement that must change exactly one row; none is
// ErrNotFound.
func execOne(ctx context.Context, q querier, query string, args ...any) error {
	n, err := q.exec(ctx, query, args...)
	if err != nil {
		return dbErr(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// insertNew runs an INSERT ... ON CONFLICT DO NOTHING (or one that inserts
// nothing when its own check fails); no row inserted is store.ErrConflict.
//
// Why not let the unique violation happen: in PostgreSQL an error aborts
// the whole transaction, and the caller could not go on with it after
// ErrConflict. DO NOTHING reports the same conflict on both databases and
// leaves the transaction usable. (On PostgreSQL a row another transaction
// is inserting with the same key makes this one wait for it, then report
// the conflict if it committed.)
func insertNew(ctx context.Context, q querier, query string, args ...any) error {
	return insertRows(ctx, q, 1, query, args...)
}

// insertRows is insertNew for an INSERT of rows rows: fewer inserted is
// store.ErrConflict.
func insertRows(ctx context.Context, q querier, rows int, query string, args ...any) error {
	n, err := q.exec(ctx, query, args...)
	if err != nil {
		return dbErr(err)
	}
	if n < int64(rows) {
		return store.ErrConflict
	}
	return nil
}

// exec runs a statement and returns how many rows it changed.
func exec(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	n, err := q.exec(ctx, query, args...)
	if err != nil {
		return 0, dbErr(err)
	}
	return n, nil
}

// queryList runs a query and scans every row with scan.
func queryList[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rs, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var list []T
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rs.Err()
}

// changeOnce runs a conditional UPDATE ... RETURNING that changes the row
// of key only if its condition holds (a code not yet used, a delivery not
// leased), so that of concurrent callers exactly one changes it. When the
// condition does not hold it reads the row as it stands and reports
// changed false; a row that does not exist is store.ErrNotFound.
func changeOnce[T any](ctx context.Context, q querier, scan func(scanner) (T, error), update string, args []any, read string, key ...any) (v T, changed bool, err error) {
	v, err = scan(q.queryRow(ctx, update, args...))
	if err == nil {
		return v, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return v, false, dbErr(err)
	}
	v, err = scan(q.queryRow(ctx, read, key...))
	if err != nil {
		return v, false, dbErr(err)
	}
	return v, false, nil
}

// columnsOf qualifies each of a comma-separated column list with a table
// alias, for joins.
func columnsOf(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// reader implements store.Reader on a querier: the read pool for Store,
// the transaction for Tx.
type reader struct {
	q querier
	// d is the dialect, for the few operations whose SQL differs.
	d dialect
}

var _ store.Reader = reader{}

// params is n numbered parameters from $first, comma-separated.
func params(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
	}
	return b.String()
}

// padded is values as n arguments, NULL after the last value.
func padded(values []string, n int) []any {
	args := make([]any, n)
	for i, v := range values {
		args[i] = v
	}
	return args
}
