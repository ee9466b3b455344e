package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

const throttleCols = `key, failures, decay_from, blocked_until, event_at, expires_at`

var (
	qThrottle    = statement(`SELECT ` + throttleCols + ` FROM throttles WHERE key = ?`)
	qPutThrottle = statement(`
		INSERT INTO throttles (` + throttleCols + `) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			failures = excluded.failures,
			decay_from = excluded.decay_from,
			blocked_until = excluded.blocked_until,
			event_at = excluded.event_at,
			expires_at = excluded.expires_at`)
	qDeleteThrottle = statement(`DELETE FROM throttles WHERE key = ?`)
)

// Throttle reads key's failure count (design A3); a key with no row is a
// zero Throttle.
func (r reader) Throttle(ctx context.Context, key string) (store.Throttle, error) {
	t := store.Throttle{Key: key}
	err := r.q.QueryRowContext(ctx, qThrottle, key).Scan(&t.Key, &t.Failures,
		timeDest{&t.DecayFrom}, timeDest{&t.BlockedUntil}, timeDest{&t.EventAt}, timeDest{&t.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Throttle{Key: key}, nil
	}
	if err != nil {
		return store.Throttle{}, fmt.Errorf("read throttle %s: %w", key, dbErr(err))
	}
	return t, nil
}

// LockThrottle reads key's failure count inside the transaction. Nothing
// more is needed to hold it: the transaction began IMMEDIATE on the one
// writer connection, so no other writer runs until it ends.
func (t *tx) LockThrottle(ctx context.Context, key string) (store.Throttle, error) {
	return t.Throttle(ctx, key)
}

// PutThrottle stores th, replacing key's previous count.
func (t *tx) PutThrottle(ctx context.Context, th store.Throttle) error {
	_, err := t.q.ExecContext(ctx, qPutThrottle, th.Key, th.Failures,
		timeArg(th.DecayFrom), timeArg(th.BlockedUntil), timeArg(th.EventAt), timeArg(th.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store throttle %s: %w", th.Key, dbErr(err))
	}
	return nil
}

// DeleteThrottle forgets key.
func (t *tx) DeleteThrottle(ctx context.Context, key string) error {
	if _, err := t.q.ExecContext(ctx, qDeleteThrottle, key); err != nil {
		return fmt.Errorf("delete throttle %s: %w", key, dbErr(err))
	}
	return nil
}
