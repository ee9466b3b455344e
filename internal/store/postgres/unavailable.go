package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sesame-id/sesame/internal/store"
)

// unavailable reports whether err means the database cannot be reached
// or is going away, rather than that this statement failed: the caller
// answers 503 and tries again later, instead of 500.
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
		// Class 08: connection exception; 57P01-03: the server is shutting
		// down or starting; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" ||
			pe.Code == "57P03" || pe.Code == "53300"
	}
	// pgx reports a connection it already closed under it by message only.
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// classify marks an unavailable database's errors with store.ErrUnavailable.
func classify(err error) error {
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// guarded is a querier whose errors say when the database is unavailable,
// so every reader and writer method reports it without knowing of it.
type guarded struct{ q querier }

func (g guarded) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := g.q.Exec(ctx, sql, args...)
	return tag, classify(err)
}

func (g guarded) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := g.q.Query(ctx, sql, args...)
	if err != nil {
		return rows, classify(err)
	}
	return guardedRows{rows}, nil
}

func (g guarded) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return guardedRow{g.q.QueryRow(ctx, sql, args...)}
}

type guardedRow struct{ pgx.Row }

func (r guardedRow) Scan(dest ...any) error { return classify(r.Row.Scan(dest...)) }

type guardedRows struct{ pgx.Rows }

func (r guardedRows) Err() error { return classify(r.Rows.Err()) }
