package sql

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const (
	throttleCols = `key, failures, decay_from, blocked_until, event_at, expires_at`
	qThrottle    = `SELECT ` + throttleCols + ` FROM throttles WHERE key = $1`
	// The lock of one key: a transaction-scoped advisory lock, so a key
	// with no row yet is held as firmly as one with a row, without
	// writing a placeholder row that a transaction which then changes
	// nothing would leave behind. "throttle " keeps these apart from the
	// names Tx.Lock takes.
	qLockThrottle = `SELECT pg_advisory_xact_lock(hashtext('throttle ' || $1))`
	qPutThrottle  = `
		INSERT INTO throttles (` + throttleCols + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO UPDATE SET
			failures = excluded.failures,
			decay_from = excluded.decay_from,
			blocked_until = excluded.blocked_until,
			event_at = excluded.event_at,
			expires_at = excluded.expires_at`
	qDeleteThrottle = `DELETE FROM throttles WHERE key = $1`
)

// Throttle reads key's failure count (design A3); a key with no row is a
// zero Throttle.
func (r reader) Throttle(ctx context.Context, key string) (store.Throttle, error) {
	t := store.Throttle{Key: key}
	err := r.q.queryRow(ctx, qThrottle, key).Scan(&t.Key, &t.Failures,
		timeDest{&t.DecayFrom}, timeDest{&t.BlockedUntil}, timeDest{&t.EventAt}, timeDest{&t.ExpiresAt})
	if errors.Is(err, store.ErrNotFound) {
		return store.Throttle{Key: key}, nil
	}
	if err != nil {
		return store.Throttle{}, fmt.Errorf("read throttle %s: %w", key, dbErr(err))
	}
	return t, nil
}

// LockThrottle takes key's lock until the transaction ends, then reads
// its count. Two statements, not one: under READ COMMITTED a statement
// reads the snapshot taken when it started, so a read in the statement
// that waited for the lock would miss what the previous holder committed
// meanwhile; the read that follows the wait sees it. On SQLite the
// transaction began IMMEDIATE on the one writer connection, so no other
// writer runs until it ends: the read alone holds the count.
func (t *tx) LockThrottle(ctx context.Context, key string) (store.Throttle, error) {
	if t.d != postgresDialect {
		return t.Throttle(ctx, key)
	}
	if _, err := t.q.exec(ctx, qLockThrottle, key); err != nil {
		return store.Throttle{}, fmt.Errorf("lock throttle %s: %w", key, dbErr(err))
	}
	return t.Throttle(ctx, key)
}

// PutThrottle stores th, replacing key's previous count.
func (t *tx) PutThrottle(ctx context.Context, th store.Throttle) error {
	_, err := t.q.exec(ctx, qPutThrottle, th.Key, th.Failures,
		timeArg(th.DecayFrom), timeArg(th.BlockedUntil), timeArg(th.EventAt), timeArg(th.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store throttle %s: %w", th.Key, dbErr(err))
	}
	return nil
}

// DeleteThrottle forgets key.
func (t *tx) DeleteThrottle(ctx context.Context, key string) error {
	if _, err := t.q.exec(ctx, qDeleteThrottle, key); err != nil {
		return fmt.Errorf("delete throttle %s: %w", key, dbErr(err))
	}
	return nil
}
