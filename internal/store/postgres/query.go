package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sesame-id/sesame/internal/store"
)

// querier runs SQL: the pool for Store, the transaction for Tx, so one
// query function serves both. The method set is the one *pgxpool.Pool and
// pgx.Tx share.
//
// Queries go through pgx's default mode, which prepares each statement
// once per connection and reuses it (the same saving the SQLite backend's
// statement cache makes by hand).
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// SQLSTATE codes the store maps to its sentinels (PostgreSQL's appendix
// A, class 23: integrity constraint violation).
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// dbErr turns driver errors into the store's sentinels, keeping the
// driver's message for the log.
func dbErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case foreignKeyViolation:
			// The only foreign key is authorizations → sessions: the
			// session the row would hang off is gone.
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	return err
}

// execOne runs a statement that must change exactly one row; none is
// ErrNotFound.
func execOne(ctx context.Context, q querier, query string, args ...any) error {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return dbErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// insertNew runs an INSERT ... ON CONFLICT DO NOTHING (or one that inserts
// nothing when its own check fails); no row inserted is store.ErrConflict.
//
// Why not let the unique violation happen: in PostgreSQL an error aborts
// the whole transaction, and the caller could not go on with it after
// ErrConflict as it can on SQLite. DO NOTHING reports the same conflict
// and leaves the transaction usable. (A row another transaction is
// inserting with the same key makes this one wait for it, then report
// the conflict if it committed.)
func insertNew(ctx context.Context, q querier, query string, args ...any) error {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return dbErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrConflict
	}
	return nil
}

// exec runs a statement and returns how many rows it changed.
func exec(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return 0, dbErr(err)
	}
	return tag.RowsAffected(), nil
}

// queryList runs a query and scans every row with scan.
func queryList[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// reader implements store.Reader on a querier: the pool for Store, the
// transaction for Tx.
type reader struct {
	q querier
}

var _ store.Reader = reader{}
