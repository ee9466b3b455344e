package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var changeTests = []test{
	{"CommittedChangesReachWatchers", testCommittedChangesReachWatchers},
	{"LocksExcludeOtherTransactions", testLocksExcludeOtherTransactions},
	{"OnCommitHearsBeforeTheCommitReturns", testOnCommitHearsBeforeTheCommitReturns},
	{"OnlyDueDeliveriesWakeTheWorkers", testOnlyDueDeliveriesWakeTheWorkers},
}

// testOnlyDueDeliveriesWakeTheWorkers: a transaction that enqueues
// deliveries wakes the workers (ChangeDeliveries) once, however many it
// enqueues, and only when one is due by the wall clock: one due later (a
// sign-out's own request makes the first attempt) would wake them for
// nothing, and their poll finds it when it is due.
func testOnlyDueDeliveriesWakeTheWorkers(t *testing.T, s store.Store) {
	var mu sync.Mutex
	wakes := 0
	s.OnCommit(func(c store.Change) {
		if c.Kind == store.ChangeDeliveries {
			mu.Lock()
			wakes++
			mu.Unlock()
		}
	})
	heard := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := wakes
		wakes = 0
		return n
	}
	later := time.Now().Add(time.Hour)
	enqueue(t, s, delivery("later-1", "app", later), delivery("later-2", "app", later))
	if n := heard(); n != 0 {
		t.Errorf("deliveries due in an hour woke the workers %d times, want none", n)
	}
	enqueue(t, s, delivery("later-3", "app", later), delivery("due-1", "app", t0), delivery("due-2", "app", t0))
	if n := heard(); n != 1 {
		t.Errorf("a transaction enqueueing two due deliveries woke the workers %d times, want once", n)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.EnqueueDeliveries(ctx, delivery("later-4", "app", later), delivery("due-3", "app", t0))
	})
	if n := heard(); n != 1 {
		t.Errorf("one call enqueueing a due delivery after one due later woke the workers %d times, want once", n)
	}
}

// testOnCommitHearsBeforeTheCommitReturns: a change this process commits
// reaches an OnCommit hook before InTx returns, and a rolled-back one never
// does, so a cache that forgets there never serves its old copy to the
// request after the change (an account just disabled still signing in).
func testOnCommitHearsBeforeTheCommitReturns(t *testing.T, s store.Store) {
	var mu sync.Mutex
	var got []store.Change
	s.OnCommit(func(c store.Change) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	})
	heard := func() []store.Change {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, fullClient("c1")) })
	if h := heard(); !slices.Contains(h, store.Change{Kind: store.ChangeClient, ID: "c1"}) {
		t.Fatalf("after the commit returned, the hook had heard %v, want the client c1", h)
	}
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UpsertClient(ctx, fullClient("rolled-back")); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	if h := heard(); slices.Contains(h, store.Change{Kind: store.ChangeClient, ID: "rolled-back"}) {
		t.Errorf("the hook heard a rolled-back change: %v", h)
	}
}

// testCommittedChangesReachWatchers: a client created, updated or deleted,
// a signing key created, a delivery enqueued, or a role or the roles of a
// holder changed, reaches every watcher
// once committed, in order; a rolled-back change never does. Instances
// invalidate their caches, and delivery workers wake, by this.
func testCommittedChangesReachWatchers(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	var got []store.Change
	heard := func(want store.Change) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(got, want)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, func(c store.Change) {
			if c.Kind == store.ChangeAll {
				return
			}
			mu.Lock()
			got = append(got, c)
			mu.Unlock()
		})
	}()
	defer func() { cancel(); <-done }()
	// Changes committed before the watch is in place (registered in this
	// process, or LISTENing) are unknown to it by design: commit a probe
	// until the watch hears one. The probes are left out of what is
	// compared below.
	probe := store.Change{Kind: store.ChangeClient, ID: "probe"}
	for deadline := time.Now().Add(10 * time.Second); !heard(probe); {
		if time.Now().After(deadline) {
			t.Fatal("the watch never heard a committed change")
		}
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, fullClient(probe.ID)) })
		time.Sleep(20 * time.Millisecond)
	}

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, fullClient("c1")) })
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UpsertClient(ctx, fullClient("rolled-back")); err != nil {
			return err
		}
		if err := tx.EnqueueDeliveries(ctx, delivery("rolled-back", "app", t0)); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.DeleteClient(ctx, "c1", t0)
		return err
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSigningKey(ctx, fullSigningKey("kid-1")) })
	// A delivery enqueued wakes the delivery workers of every instance.
	enqueue(t, s, delivery("d1", "app", t0))
	// Roles and who holds them: the holder's id, itself holding a colon,
	// comes through whole (PostgreSQL's payload is kind:id).
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertRole(ctx, fullRole("reader")) })
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.SetAccountRoles(ctx, "alice", []string{"reader"})
	})

	want := []store.Change{{Kind: store.ChangeClient, ID: "c1"}, {Kind: store.ChangeClient, ID: "c1"}, {Kind: store.ChangeKeys, ID: "kid-1"},
		{Kind: store.ChangeDeliveries}, {Kind: store.ChangeResources}, {Kind: store.ChangeResources, ID: store.ResourceHolderAccount + "alice"}}
	// What the watch heard, the probes left out.
	heardSince := func() []store.Change {
		mu.Lock()
		defer mu.Unlock()
		return slices.DeleteFunc(slices.Clone(got), func(c store.Change) bool { return c == probe })
	}
	for deadline := time.Now().Add(10 * time.Second); len(heardSince()) < len(want) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // anything extra, such as the rolled-back change, would show by now
	equal(t, "changes heard", heardSince(), want)
}

// testLocksExcludeOtherTransactions: while one transaction holds a lock,
// no other takes it, with TryLock or Lock; they may once it has ended.
// This is what keeps instances from sweeping at once or creating two
// signing keys for one algorithm.
func testLocksExcludeOtherTransactions(t *testing.T, s store.Store) {
	var released time.Time
	holding := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Lock(ctx, "the-lock"); err != nil {
				return err
			}
			close(holding)
			time.Sleep(300 * time.Millisecond)
			released = time.Now()
			return nil
		})
	})
	<-holding
	var tried, locked time.Time
	var triedOK bool
	var others sync.WaitGroup
	others.Go(func() {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			ok, err := tx.TryLock(ctx, "the-lock")
			triedOK, tried = ok, time.Now()
			return err
		})
	})
	others.Go(func() {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			err := tx.Lock(ctx, "the-lock")
			locked = time.Now()
			return err
		})
	})
	others.Wait()
	wg.Wait()
	if triedOK && tried.Before(released) {
		t.Error("TryLock took a lock another transaction held")
	}
	if locked.Before(released) {
		t.Error("Lock took a lock another transaction held")
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ok, err := tx.TryLock(ctx, "the-lock")
		if err == nil && !ok {
			t.Error("TryLock failed on a lock nobody holds")
		}
		return err
	})
}
