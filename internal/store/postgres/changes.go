package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sesame-id/sesame/internal/store"
)

// changesChannel is the NOTIFY channel of committed changes; the payload
// is "kind:id".
const changesChannel = "sesame_changes"

// changed notifies the change in the transaction: PostgreSQL delivers it
// to every listener when, and only if, the transaction commits.
func (t *tx) changed(ctx context.Context, c store.Change) error {
	if _, err := t.q.Exec(ctx, `SELECT pg_notify($1, $2)`, changesChannel, c.Kind+":"+c.ID); err != nil {
		return fmt.Errorf("notify %s %s: %w", c.Kind, c.ID, err)
	}
	return nil
}

// Lock takes an advisory lock on name until the transaction ends, waiting
// for another transaction that holds it.
func (t *tx) Lock(ctx context.Context, name string) error {
	if _, err := t.q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, name); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// TryLock takes the advisory lock on name until the transaction ends if
// no other transaction holds it.
func (t *tx) TryLock(ctx context.Context, name string) (bool, error) {
	var ok bool
	if err := t.q.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext($1))`, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	return ok, nil
}

// WatchesOtherProcesses is true: every instance LISTENs.
func (s *Store) WatchesOtherProcesses() bool { return true }

// How the watch keeps its connection honest: a listener waits in a read,
// and a connection that died without a word (a cut network) would leave it
// waiting for ever, so it pings when it has heard nothing for a while.
var (
	watchIdle      = 30 * time.Second // a variable so a test can shorten it
	watchPingLimit = 5 * time.Second
	watchRetryMax  = 5 * time.Second
)

// Watch LISTENs on its own connection (not one of the pool's) and calls fn
// with every change any instance commits, until ctx ends. Each time it
// starts listening, the first time included, it calls fn with a ChangeAll:
// what was committed while it was not listening is unknown. A lost
// connection is dialled again, with a growing pause up to 5 s.
func (s *Store) Watch(ctx context.Context, fn func(store.Change)) {
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		if s.listen(ctx, fn) {
			pause = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, watchRetryMax)
	}
}

// listen runs one LISTEN connection until it fails or ctx ends; it
// reports whether it got as far as listening. Why it stopped does not
// matter: Watch dials again either way, and a missed change is covered by
// the ChangeAll of the next connection.
func (s *Store) listen(ctx context.Context, fn func(store.Change)) (listened bool) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return false
	}
	fn(store.Change{Kind: store.ChangeAll})
	for {
		waitCtx, cancel := context.WithTimeout(ctx, watchIdle)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			kind, id, _ := strings.Cut(n.Payload, ":")
			fn(store.Change{Kind: kind, ID: id})
		case ctx.Err() != nil:
			return true
		case waitCtx.Err() != nil: // quiet for watchIdle: is the connection still there?
			pingCtx, cancel := context.WithTimeout(ctx, watchPingLimit)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return true
			}
		default:
			return true
		}
	}
}
