package sql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sesame-id/sesame/internal/store"
)

// changesChannel is the PostgreSQL NOTIFY channel of committed changes.
const changesChannel = "sesame_changes"

// changed reports c to the watchers once the transaction commits: on
// PostgreSQL by NOTIFY, which the server delivers at commit (and drops
// with a rollback) to every instance; on SQLite by the Store's
// broadcaster after the commit. On both, the broadcaster hands it to the
// OnCommit hooks before the commit returns.
func (t *tx) changed(ctx context.Context, c store.Change) error {
	if t.d == postgresDialect {
		if _, err := t.q.exec(ctx, `SELECT pg_notify($1, $2)`, changesChannel, c.Kind+":"+c.ID); err != nil {
			return fmt.Errorf("notify %s %s: %w", c.Kind, c.ID, err)
		}
	}
	t.changes = append(t.changes, c)
	return nil
}

// Lock takes the lock name until the transaction ends: a PostgreSQL
// advisory transaction lock. On SQLite the single writer connection
// already runs one transaction at a time.
func (t *tx) Lock(ctx context.Context, name string) error {
	if t.d != postgresDialect {
		return nil
	}
	if _, err := t.q.exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, name); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// TryLock takes the lock name if nobody holds it; always on SQLite.
func (t *tx) TryLock(ctx context.Context, name string) (bool, error) {
	if t.d != postgresDialect {
		return true, nil
	}
	var ok bool
	if err := t.q.queryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext($1))`, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	return ok, nil
}

// Watch calls fn with each change committed to the database until ctx
// ends. After a gap in which changes may have been missed, fn gets a
// ChangeAll.
func (s *Store) Watch(ctx context.Context, fn func(store.Change)) { s.e.watch(ctx, &s.changes, fn) }

// OnCommit registers fn with the broadcaster every commit of this
// process publishes to.
func (s *Store) OnCommit(fn func(store.Change)) { s.changes.OnPublish(fn) }

// WatchesOtherProcesses is true on both databases: PostgreSQL's watch
// hears every instance's NOTIFY, and SQLite's sees another process's
// commits (the CLI) through PRAGMA data_version within a second.
func (s *Store) WatchesOtherProcesses() bool { return true }

// dataVersionEvery is how often SQLite's watch asks whether another
// process committed.
var dataVersionEvery = time.Second

// watch is SQLite's Watch: this process's commits from the broadcaster,
// and a ChangeAll when PRAGMA data_version shows another process's. The
// writer connection is asked: its data_version moves only when another
// connection commits, and this process's other connections are readers
// and the checkpointer, which commit nothing (a checkpoint moves pages,
// not data: tried, no ChangeAll in 5 s of commits and checkpoints).
func (e *liteEngine) watch(ctx context.Context, changes *store.Broadcaster, fn func(store.Change)) {
	last := int64(-1)
	go eachTick(ctx, dataVersionEvery, func() {
		var v int64
		if err := e.onWriter(ctx, func(c *liteConn, ctx context.Context) error {
			return c.queryText(ctx, "PRAGMA data_version", &v)
		}); err != nil {
			return
		}
		if last >= 0 && v != last {
			changes.Publish(store.Change{Kind: store.ChangeAll})
		}
		last = v
	})
	changes.Watch(ctx, fn)
}

// How PostgreSQL's watch keeps its connection (variables so a test can
// shorten them).
var (
	watchIdle      = 30 * time.Second
	watchPingLimit = 5 * time.Second
	watchRetryMax  = 5 * time.Second
)

// watch is PostgreSQL's Watch: LISTEN on a connection of its own, outside
// the pool, and again with a growing pause after it is lost; each new
// LISTEN begins with a ChangeAll, since notifications sent meanwhile are
// gone. This process's commits arrive by NOTIFY like any other's, so the
// broadcaster is not needed.
func (e *pgEngine) watch(ctx context.Context, _ *store.Broadcaster, fn func(store.Change)) {
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		if e.listen(ctx, fn) {
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

// listen holds one LISTEN until the connection fails or ctx ends, and
// reports whether it got as far as listening.
func (e *pgEngine) listen(ctx context.Context, fn func(store.Change)) (listened bool) {
	conn, err := pgx.ConnectConfig(ctx, e.pool.Config().ConnConfig.Copy())
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
			if n.Channel != changesChannel {
				continue
			}
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
