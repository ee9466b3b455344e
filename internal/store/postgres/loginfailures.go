package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
)

const (
	qCountAllLoginFailures = `SELECT count(*) FROM login_failures WHERE fail_key = $1`
	qCountLoginFailures    = `SELECT count(*) FROM login_failures WHERE fail_key = $1 AND at >= $2`
	qAddLoginFailure       = `INSERT INTO login_failures (fail_key, at) VALUES ($1, $2)`
	qClearLoginFailures    = `DELETE FROM login_failures WHERE fail_key = $1`
)

// LoginFailures counts the failures recorded for key at or after since
// (design A3). A zero since counts them all.
func (r reader) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	var err error
	if since.IsZero() {
		err = r.q.QueryRow(ctx, qCountAllLoginFailures, key).Scan(&n)
	} else {
		err = r.q.QueryRow(ctx, qCountLoginFailures, key, timeArg(since)).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count login failures: %w", err)
	}
	return n, nil
}

// AddLoginFailure records one failed sign-in for key at at.
func (t *tx) AddLoginFailure(ctx context.Context, key string, at time.Time) error {
	if at.IsZero() {
		return errors.New("add login failure: zero time")
	}
	if _, err := t.q.Exec(ctx, qAddLoginFailure, key, timeArg(at)); err != nil {
		return fmt.Errorf("add login failure: %w", err)
	}
	return nil
}

// ClearLoginFailures forgets every failure of key (after a successful
// sign-in).
func (t *tx) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := t.q.Exec(ctx, qClearLoginFailures, key); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
