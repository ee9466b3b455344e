package backchannel_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

// queue is a Deliverer alone on a SQLite store, without a server and its
// worker, whose queue clock (due times, leases) is a fake one the test
// moves: what is due, and when a retry is due, is then the test's to say
// instead of the wall clock's.
type queue struct {
	store     store.Store
	app       *sesametest.App
	clock     *sesametest.Clock
	deliverer *backchannel.Deliverer
}

func newQueue(t *testing.T) *queue {
	t.Helper()
	st := sqltest.Open(t)
	app := sesametest.NewApp(t, sesametest.AppA)
	clock := sesametest.NewClock()
	d := &backchannel.Deliverer{
		Store:   st,
		Clients: clients{sesametest.AppA: {ID: sesametest.AppA, BackchannelLogoutURI: app.BackchannelURI()}},
		Signer:  unsigned{}, Issuer: "https://sesame.test", HTTP: backchannel.NewHTTPClient(true),
		Now: clock.Now, Logger: slog.New(slog.DiscardHandler),
	}
	backchannel.SetQueueClock(d, clock.Now)
	return &queue{store: st, app: app, clock: clock, deliverer: d}
}

// put stores a pending delivery to the app, due at due.
func (q *queue) put(t *testing.T, id string, due time.Time) {
	t.Helper()
	now := q.clock.Now()
	err := q.store.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
		return tx.EnqueueDeliveries(t.Context(), store.Delivery{ID: id, ReceiptID: "r1", ClientID: sesametest.AppA,
			URI: q.app.BackchannelURI(), Subject: "alice", SID: "sid-1", State: store.DeliveryPending,
			CreatedAt: now, UpdatedAt: now, DueAt: due})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// clients is a fixed client registry.
type clients map[string]store.Client

func (c clients) Get(_ context.Context, id string) (store.Client, error) {
	if cl, ok := c[id]; ok {
		return cl, nil
	}
	return store.Client{}, store.ErrNotFound
}

// unsigned stands in for the keys: the app in these tests answers with a
// status it was given before it reads a token.
type unsigned struct{}

func (unsigned) Sign(alg, typ string, _ any) (string, error) {
	return "unsigned." + alg + "." + typ, nil
}

// waitDelivery polls a delivery until done says so or d passes, and
// returns it as it last read.
func waitDelivery(t *testing.T, st store.Store, id string, done func(store.Delivery) bool, d time.Duration) store.Delivery {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		del, err := st.Delivery(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if done(del) || time.Now().After(deadline) {
			return del
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func attempted(d store.Delivery) bool { return d.Attempts > 0 }

// B2: after a first attempt that failed for now (the app answers 503), the
// delivery is due again early enough that the retry comes within 2 s of
// the failure: a worker claims a due delivery at most PollEvery after it
// is due, so the due time plus PollEvery must stay under 2 s after the
// failure, with room for the claim itself. The failure and the due time
// are read on one fake clock that does not move, so this asserts what was
// scheduled, not how long anything took.
func TestFirstRetryIsDueWithinTwoSeconds(t *testing.T) {
	q := newQueue(t)
	q.app.Answer(http.StatusServiceUnavailable)
	ctx := t.Context()
	del := enqueueOne(t, q)
	failedAt := q.clock.Now()
	q.deliverer.AttemptQueued(ctx, []backchannel.Queued{del}, backchannel.Timeout)

	got, err := q.store.Delivery(ctx, del.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.DeliveryPending || got.Attempts != 1 || got.LastStatus != http.StatusServiceUnavailable {
		t.Fatalf("after a 503: %+v; want pending after one attempt", got)
	}
	retryIn := got.DueAt.Sub(failedAt)
	if retryIn <= 0 || retryIn+backchannel.PollEvery >= 2*time.Second {
		t.Errorf("after a 503 the delivery is due again %v later; with a claim at least every %v the retry may come %v after the failure, want under 2s",
			retryIn, backchannel.PollEvery, retryIn+backchannel.PollEvery)
	}
}

// B3: a worker waiting for its next poll (an hour away here, so nothing
// else makes it look) claims at once when woken, as it is when its
// instance hears a ChangeDeliveries notification: another instance's
// sign-out committed a delivery due now, or an admin retried one. That
// delivery is attempted then, not at the next poll. The waits are bounded
// only so that a worker that never attempts it fails the test instead of
// hanging it.
func TestWokenWorkerAttemptsNewlyDueDelivery(t *testing.T) {
	q := newQueue(t)
	// No attempt gets through, so a delivery tried once is due again only
	// FirstRetry later on the queue's clock, which stands still.
	q.app.Answer(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	now := q.clock.Now()
	q.put(t, "due-at-start", now)

	w := backchannel.NewWorker(q.deliverer, 4)
	backchannel.SetPoll(w, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })

	// The claim a worker makes as it starts takes what is due then; once
	// that attempt is recorded, nothing is due and the worker waits.
	if d := waitDelivery(t, q.store, "due-at-start", attempted, 5*time.Second); !attempted(d) {
		t.Fatalf("the worker never attempted the delivery due when it started: %+v", d)
	}

	q.put(t, "enqueued-while-waiting", now)
	w.Wake()
	if d := waitDelivery(t, q.store, "enqueued-while-waiting", attempted, 5*time.Second); !attempted(d) {
		t.Fatalf("woken, the worker never attempted the delivery due since it waited: %+v", d)
	}
}

// B3: a delivery the sign-out enqueued is leased, from its own
// transaction on, to the first attempt that the sign-out's request makes
// after the commit: a worker looking for due deliveries meanwhile leaves
// it alone, and that attempt needs no lease of its own. If the attempt
// never comes (the instance died right after the commit), the delivery
// goes back to the queue when the lease ends, and a worker makes it then.
func TestEnqueuedDeliveryIsLeasedToTheFirstAttempt(t *testing.T) {
	q := newQueue(t)
	// The app answers without reading the token (unsigned here).
	q.app.Answer(http.StatusNoContent, http.StatusNoContent)
	ctx := t.Context()
	first, orphan := enqueueOne(t, q), enqueueOne(t, q)

	w := backchannel.NewWorker(q.deliverer, 4)
	backchannel.SetPoll(w, 5*time.Millisecond)
	wctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); w.Run(wctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	// Many polls, on a queue clock that stands still: the leases hold.
	time.Sleep(100 * time.Millisecond)
	if n := q.app.Calls(); n != 0 {
		t.Fatalf("a worker attempted %d deliveries leased to the sign-out's first attempts", n)
	}

	q.deliverer.AttemptQueued(ctx, []backchannel.Queued{first}, backchannel.Timeout)
	got, err := q.store.Delivery(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.DeliveryDelivered || got.Attempts != 1 || !got.LeaseUntil.IsZero() {
		t.Errorf("after the first attempt: %+v; want delivered after one attempt, no lease", got)
	}
	if n := q.app.Calls(); n != 1 {
		t.Errorf("the app was called %d times for one first attempt", n)
	}

	// The orphan's lease ends: a worker takes it as it takes any due row.
	q.clock.Advance(backchannel.LeaseFor)
	w.Wake()
	if d := waitDelivery(t, q.store, orphan.ID, attempted, 5*time.Second); d.State != store.DeliveryDelivered || d.Attempts != 1 {
		t.Errorf("delivery whose first attempt never came, after its lease ended: %+v; want delivered by a worker", d)
	}
}

// enqueueOne commits one delivery to the queue's app, as a sign-out does.
func enqueueOne(t *testing.T, q *queue) backchannel.Queued {
	t.Helper()
	ctx := t.Context()
	del := q.deliverer.Queue("r1", store.Client{ID: sesametest.AppA, BackchannelLogoutURI: q.app.BackchannelURI()}, "alice", "sid-1")
	err := q.store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		return q.deliverer.Enqueue(ctx, tx, del)
	})
	if err != nil {
		t.Fatal(err)
	}
	return del
}
