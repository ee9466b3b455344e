package sql

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// TestIdleWatchKeepsItsConnection: an idle PostgreSQL watch pings and
// keeps its connection: it does not reconnect (which would flush every
// instance's caches with a ChangeAll) each time it has heard nothing for a
// while, and it still hears changes after.
func TestIdleWatchKeepsItsConnection(t *testing.T) {
	s := openTest(t, postgresDialect, Options{})
	old := watchIdle
	watchIdle = 100 * time.Millisecond
	t.Cleanup(func() { watchIdle = old })
	ctx, cancel := context.WithCancel(t.Context())
	var all, clients atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, func(c store.Change) {
			switch c.Kind {
			case store.ChangeAll:
				all.Add(1)
			case store.ChangeClient:
				clients.Add(1)
			}
		})
	}()
	time.Sleep(1500 * time.Millisecond) // many idle periods
	if err := s.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
		return tx.UpsertClient(t.Context(), store.Client{ID: "c", Type: "m2m", CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for clients.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := all.Load(); n != 1 {
		t.Errorf("%d ChangeAll over idle periods, want 1 (only when it started listening)", n)
	}
	if clients.Load() != 1 {
		t.Errorf("the change after the idle periods was heard %d times, want 1", clients.Load())
	}
}
