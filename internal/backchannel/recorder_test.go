package backchannel

// The recorder is unexported, so these tests sit inside the package, where
// the helpers of the package's other tests (package backchannel_test)
// cannot be reached. They give each recorder a gather window of an hour:
// a recorder that waited for it when it need not would time the test out,
// where with the 2 ms of gatherFor it would only be a little late.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	sqlstore "github.com/sesame-id/sesame/internal/store/sql"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
)

// longGather is the gather window of the recorders under test: nothing in
// them may wait for it.
const longGather = time.Hour

// txLog is a store that notes, for each transaction, the deliveries whose
// attempts it recorded and whether it committed.
type txLog struct {
	store.Store
	mu  sync.Mutex
	txs []loggedTx
}

type loggedTx struct {
	ids []string
	err error
}

func (x loggedTx) String() string {
	if x.err != nil {
		return fmt.Sprintf("%v failed: %v", x.ids, x.err)
	}
	return fmt.Sprintf("%v committed", x.ids)
}

func (s *txLog) InTx(ctx context.Context, d store.Durability, fn func(tx store.Tx) error) error {
	var ids []string
	err := s.Store.InTx(ctx, d, func(tx store.Tx) error { return fn(idsTx{Tx: tx, ids: &ids}) })
	s.mu.Lock()
	s.txs = append(s.txs, loggedTx{ids: ids, err: err})
	s.mu.Unlock()
	return err
}

func (s *txLog) logged() []loggedTx {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.txs)
}

// idsTx notes the deliveries whose attempts a transaction records.
type idsTx struct {
	store.Tx
	ids *[]string
}

func (t idsTx) RecordDeliveryAttempt(ctx context.Context, id string, a store.DeliveryAttempt) error {
	*t.ids = append(*t.ids, id)
	return t.Tx.RecordDeliveryAttempt(ctx, id, a)
}

// clientErrs is a client registry in which every client read fails with
// the error given for its ID (nil is a read that succeeds).
type clientErrs map[string]error

func (c clientErrs) Get(_ context.Context, id string) (store.Client, error) {
	return store.Client{ID: id}, c[id]
}

// eachStore runs fn on a Deliverer over a fresh SQLite store and over a
// fresh PostgreSQL database (skipped without SESAME_TEST_POSTGRES), its
// transactions logged: PostgreSQL aborts a transaction at its first
// error, SQLite does not.
func eachStore(t *testing.T, fn func(t *testing.T, d *Deliverer, log *txLog)) {
	run := func(t *testing.T, dbURL string) {
		st, err := sqlstore.Open(t.Context(), dbURL, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		log := &txLog{Store: st}
		fn(t, &Deliverer{Store: log, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}, log)
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "sqlite:"+filepath.Join(t.TempDir(), "sesame.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, pgtest.FreshDB(t)) })
}

// putLeased stores a pending delivery to clientID, leased to its first
// attempt as Enqueue leaves it, and returns it.
func putLeased(t *testing.T, st store.Store, id, clientID string) store.Delivery {
	t.Helper()
	now := time.Now()
	del := store.Delivery{ID: id, ReceiptID: "r1", ClientID: clientID, URI: "https://" + clientID + ".test/bc",
		Subject: "alice", SID: "sid-1", State: store.DeliveryPending, CreatedAt: now, UpdatedAt: now,
		DueAt: now.Add(LeaseFor), LeaseUntil: now.Add(LeaseFor)}
	err := st.InTx(t.Context(), store.Durable, func(tx store.Tx) error { return tx.EnqueueDeliveries(t.Context(), del) })
	if err != nil {
		t.Fatal(err)
	}
	return del
}

// until polls cond, read under r.mu, until it holds; it fails t after
// ten seconds.
func until(t *testing.T, r *recorder, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// returnsSoon fails t unless every goroutine of wg has returned within
// ten seconds, far within the recorders' gather window.
func returnsSoon(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still waiting after 10s, with a gather window of %v", what, longGather)
	}
}

// checkRecordedOnce asserts that del's attempt was recorded once: its
// state and status, one attempt counted, one row in its history.
func checkRecordedOnce(t *testing.T, st store.Store, id string, state store.DeliveryState, status int) {
	t.Helper()
	ctx := t.Context()
	got, err := st.Delivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != state || got.Attempts != 1 || got.LastStatus != status || !got.LeaseUntil.IsZero() {
		t.Errorf("delivery %s: %s after %d attempts, status %d, lease until %v; want %s after 1, status %d, no lease",
			id, got.State, got.Attempts, got.LastStatus, got.LeaseUntil, state, status)
	}
	hist, err := st.DeliveryAttempts(ctx, []string{id}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h := hist[id]; len(h) != 1 || h[0].N != 1 || h[0].Status != status {
		t.Errorf("history of delivery %s: %+v; want its one attempt", id, h)
	}
}

// failedEvents returns the deliveries that alice's delivery_failed
// events name, one entry per event.
func failedEvents(t *testing.T, st store.Store) []string {
	t.Helper()
	evs, err := st.EventsByAccount(t.Context(), "alice", []string{store.EventDeliveryFailed}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.Detail)
	}
	slices.Sort(ids)
	return ids
}

// threeOutcomes stores three leased deliveries and returns an outcome for
// each, under its lease as attempt records it: delivered (200), to retry
// (503), rejected for good (400).
func threeOutcomes(t *testing.T, st store.Store) []*outcome {
	t.Helper()
	now := time.Now()
	outs := []*outcome{
		{del: putLeased(t, st, "delivered", "app-a"), attempt: store.DeliveryAttempt{At: now, State: store.DeliveryDelivered, Status: 200}},
		{del: putLeased(t, st, "retry", "app-b"), attempt: store.DeliveryAttempt{At: now, State: store.DeliveryPending, Status: 503, Error: "503 Service Unavailable", RetryAt: now.Add(FirstRetry)}},
		{del: putLeased(t, st, "rejected", "app-c"), attempt: store.DeliveryAttempt{At: now, State: store.DeliveryFailed, Status: 400, Error: "rejected"}},
	}
	for _, o := range outs {
		o.attempt.Lease = o.del.LeaseUntil
	}
	return outs
}

// recordInOrder records outs through one recorder of d and returns each
// one's error. The outcomes come one after the other, so a batch holds
// them in the order of outs; the first waits for the others, which all
// come.
func recordInOrder(t *testing.T, d *Deliverer, outs []*outcome) []error {
	t.Helper()
	r := newRecorder(d, len(outs), longGather)
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	for i, o := range outs {
		wg.Go(func() { errs[i] = r.record(t.Context(), o) })
		if i < len(outs)-1 {
			until(t, r, "the outcomes to queue", func() bool { return r.leading && len(r.queue) == i+1 })
		}
	}
	returnsSoon(t, &wg, fmt.Sprintf("recording %d outcomes", len(outs)))
	return errs
}

// B3: the outcomes of first attempts gathered into one transaction are
// not lost with it when it fails: here one of four is an attempt at a
// delivery that no longer exists, which fails the whole batch, and each
// outcome is then recorded in a transaction of its own, in the batch's
// order. The three others are recorded once each (the failed batch left
// nothing behind: one attempt counted, one row of history, one event for
// the one that failed for good), and only the outcome that cannot be
// stored reports an error, whether it led the batch or came last.
func TestRecorderRecordsEachOutcomeAloneWhenTheirBatchFails(t *testing.T) {
	for _, failingLeads := range []bool{true, false} {
		name := map[bool]string{true: "the failing outcome leads", false: "the failing outcome comes last"}[failingLeads]
		t.Run(name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, d *Deliverer, log *txLog) {
				outs := append(threeOutcomes(t, log.Store), &outcome{del: store.Delivery{ID: "gone", ClientID: "app-d", Subject: "alice"},
					attempt: store.DeliveryAttempt{At: time.Now(), State: store.DeliveryDelivered, Status: 200}})
				if failingLeads {
					outs[0], outs[3] = outs[3], outs[0]
				}
				errs := recordInOrder(t, d, outs)

				for i, o := range outs {
					if o.del.ID == "gone" {
						if !errors.Is(errs[i], store.ErrNotFound) {
							t.Errorf("the outcome on a delivery that no longer exists: %v, want not found", errs[i])
						}
					} else if errs[i] != nil {
						t.Errorf("outcome on %s: %v", o.del.ID, errs[i])
					}
				}
				// The batch's transaction records its outcomes in order
				// until the one that fails it.
				var tried []string
				for _, o := range outs {
					if tried = append(tried, o.del.ID); o.del.ID == "gone" {
						break
					}
				}
				want := []loggedTx{{ids: tried}}
				for _, o := range outs {
					want = append(want, loggedTx{ids: []string{o.del.ID}})
				}
				txs := log.logged()
				same := len(txs) == len(want)
				for i := 0; same && i < len(txs); i++ {
					failed := i == 0 || txs[i].ids[0] == "gone"
					same = slices.Equal(txs[i].ids, want[i].ids) && (txs[i].err != nil) == failed
				}
				if !same {
					t.Errorf("transactions %+v; want the batch %v failed, then each outcome alone, in the batch's order, only %q failing", txs, tried, "gone")
				}

				checkRecordedOnce(t, d.Store, "delivered", store.DeliveryDelivered, 200)
				checkRecordedOnce(t, d.Store, "retry", store.DeliveryPending, 503)
				checkRecordedOnce(t, d.Store, "rejected", store.DeliveryFailed, 400)
				if got := failedEvents(t, d.Store); len(got) != 1 || got[0] != "delivery rejected: rejected" {
					t.Errorf("delivery_failed events %q; want one, for the rejected delivery", got)
				}
			})
		})
	}
}

// commitReportsFailure is a store whose first transaction that records
// several outcomes commits and then reports an error all the same, as a
// PostgreSQL connection lost once COMMIT was sent does.
type commitReportsFailure struct {
	store.Store
	reported bool
}

func (s *commitReportsFailure) InTx(ctx context.Context, d store.Durability, fn func(tx store.Tx) error) error {
	var n int
	err := s.Store.InTx(ctx, d, func(tx store.Tx) error { return fn(countingTx{Tx: tx, n: &n}) })
	if err == nil && n > 1 && !s.reported {
		s.reported = true
		return errors.New("connection lost after COMMIT was sent")
	}
	return err
}

// countingTx counts the outcomes a transaction records.
type countingTx struct {
	store.Tx
	n *int
}

func (t countingTx) RecordDeliveryAttempt(ctx context.Context, id string, a store.DeliveryAttempt) error {
	*t.n++
	return t.Tx.RecordDeliveryAttempt(ctx, id, a)
}

// B3: outcomes whose batch committed although its commit reported an
// error are recorded once, not again by the transactions that then
// record each alone: those find the deliveries no longer under the
// attempts' leases (the batch released them) and change nothing, and no
// outcome reports an error.
func TestRecorderRecordsOnceWhenACommitReportsAFailureAfterAll(t *testing.T) {
	eachStore(t, func(t *testing.T, d *Deliverer, log *txLog) {
		lying := &commitReportsFailure{Store: log}
		d.Store = lying
		outs := threeOutcomes(t, log.Store)
		errs := recordInOrder(t, d, outs)

		if !lying.reported {
			t.Fatal("no transaction recorded the outcomes together, so none reported a failure after its commit")
		}
		for i, o := range outs {
			if errs[i] != nil {
				t.Errorf("outcome on %s: %v", o.del.ID, errs[i])
			}
			if !o.lost {
				t.Errorf("outcome on %s: recorded again alone, want found recorded (lost lease)", o.del.ID)
			}
		}
		if txs := log.logged(); len(txs) != 1+len(outs) {
			t.Errorf("transactions %+v; want the batch, then each outcome alone", txs)
		}
		checkRecordedOnce(t, d.Store, "delivered", store.DeliveryDelivered, 200)
		checkRecordedOnce(t, d.Store, "retry", store.DeliveryPending, 503)
		checkRecordedOnce(t, d.Store, "rejected", store.DeliveryFailed, 400)
		if got := failedEvents(t, d.Store); len(got) != 1 || got[0] != "delivery rejected: rejected" {
			t.Errorf("delivery_failed events %q; want one, for the rejected delivery", got)
		}
	})
}

// B3: a first attempt that ends with nothing to record (its client could
// not be read) neither holds the outcomes of the others until the gather
// window ends nor loses them: whether it ends while the first outcome
// waits for the others or before any outcome, the outcomes of the
// attempts that did end are recorded, together, at once.
func TestRecorderDoesNotWaitForAnAttemptWithNothingToRecord(t *testing.T) {
	// The deliveries' apps were deleted, so their attempts fail for good
	// without a request; app-down's read fails, so its attempt has
	// nothing to record.
	clients := clientErrs{"app-gone": store.ErrNotFound, "app-gone-too": store.ErrNotFound, "app-down": errors.New("database unreachable")}

	t.Run("while the first outcome waits", func(t *testing.T) {
		eachStore(t, func(t *testing.T, d *Deliverer, log *txLog) {
			d.Clients = clients
			first, second := putLeased(t, log.Store, "first", "app-gone"), putLeased(t, log.Store, "second", "app-gone-too")
			dropped := putLeased(t, log.Store, "dropped", "app-down")
			r := newRecorder(d, 3, longGather)
			var wg sync.WaitGroup
			var errFirst, errSecond, errDropped error
			wg.Go(func() { errFirst = d.attempt(t.Context(), first, r) })
			until(t, r, "the first outcome to wait for the others", func() bool { return r.leading && len(r.queue) == 1 })
			wg.Go(func() { errSecond = d.attempt(t.Context(), second, r) })
			until(t, r, "the second outcome to join the first", func() bool { return len(r.queue) == 2 })
			// Only the attempt with nothing to record is left.
			wg.Go(func() { errDropped = d.attempt(t.Context(), dropped, r) })
			returnsSoon(t, &wg, "two outcomes and an attempt with nothing to record")

			if errFirst != nil || errSecond != nil {
				t.Errorf("attempts with an outcome: %v, %v", errFirst, errSecond)
			}
			if errDropped == nil {
				t.Error("the attempt whose client could not be read reported no error")
			}
			if txs := log.logged(); len(txs) != 1 || txs[0].err != nil || !slices.Equal(slices.Sorted(slices.Values(txs[0].ids)), []string{"first", "second"}) {
				t.Errorf("transactions %+v; want the two outcomes in one", txs)
			}
			checkRecordedOnce(t, d.Store, "first", store.DeliveryFailed, 0)
			checkRecordedOnce(t, d.Store, "second", store.DeliveryFailed, 0)
			if got, err := d.Store.Delivery(t.Context(), "dropped"); err != nil || got.Attempts != 0 || got.LeaseUntil.IsZero() {
				t.Errorf("the delivery whose attempt had nothing to record: %+v, %v; want untouched, left to its lease", got, err)
			}
			if got := failedEvents(t, d.Store); len(got) != 2 {
				t.Errorf("delivery_failed events %q; want one per app that was deleted", got)
			}
		})
	})

	t.Run("before any outcome", func(t *testing.T) {
		eachStore(t, func(t *testing.T, d *Deliverer, log *txLog) {
			d.Clients = clients
			dropped, first := putLeased(t, log.Store, "dropped", "app-down"), putLeased(t, log.Store, "first", "app-gone")
			r := newRecorder(d, 2, longGather)
			if err := d.attempt(t.Context(), dropped, r); err == nil {
				t.Error("the attempt whose client could not be read reported no error")
			}
			var wg sync.WaitGroup
			var err error
			wg.Go(func() { err = d.attempt(t.Context(), first, r) })
			returnsSoon(t, &wg, "the outcome of the last attempt")
			if err != nil {
				t.Error(err)
			}
			if txs := log.logged(); len(txs) != 1 || txs[0].err != nil || !slices.Equal(txs[0].ids, []string{"first"}) {
				t.Errorf("transactions %+v; want the one outcome", txs)
			}
			checkRecordedOnce(t, d.Store, "first", store.DeliveryFailed, 0)
		})
	})
}
