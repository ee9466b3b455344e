package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// queueTests cover the deliveries table as the back-channel queue (design
// B3): what ClaimDeliveries hands the workers, and when a delivery comes
// back to them.
var queueTests = []test{
	{"ClaimTakesDuePendingUnleasedOldestDueFirst", testClaimTakesDuePendingUnleased},
	{"ExpiredLeaseIsClaimedAgain", testExpiredLeaseIsClaimedAgain},
	{"DeliveryEnqueuedUnderALeaseIsHeldUntilItEnds", testEnqueuedUnderLease},
	{"ConcurrentClaimersNeverShareADelivery", testConcurrentClaimersNeverShare},
	{"PendingAttemptIsDueAgainAtRetryAt", testPendingAttemptIsDueAtRetryAt},
	{"RetriedDeliveryIsClaimedWhenDue", testRetriedDeliveryIsClaimed},
	{"RolledBackEnqueueOrClaimLeavesNothing", testRolledBackEnqueueOrClaim},
	{"DeliveryWithoutDueTimeIsDueAtOnce", testDeliveryWithoutDueTimeIsDue},
}

// claim runs ClaimDeliveries in a transaction of its own and returns what
// it claimed.
func claim(t *testing.T, s store.Store, now, until time.Time, limit int) []store.Delivery {
	t.Helper()
	var list []store.Delivery
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		list, err = tx.ClaimDeliveries(ctx, now, until, limit)
		return err
	})
	return list
}

func deliveryID(d store.Delivery) string { return d.ID }

// dueAt is delivery(id) due at due.
func dueAt(id string, due time.Time) store.Delivery {
	d := delivery(id, "app", t0)
	d.DueAt = due
	return d
}

// testClaimTakesDuePendingUnleased: a claim takes the pending deliveries
// that are due (DueAt at or before now) and held by no live lease, at most
// limit of them, the longest due first, and leases them until until.
// Deliveries due later, already delivered or failed, or under another
// attempt's lease are left; a lease that ended is no lease.
func testClaimTakesDuePendingUnleased(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	until := at(2 * time.Hour)
	// The ids run against the due order, and so do the creation times, so
	// a claim that returned rows by id or by age would show.
	enqueue(t, s,
		dueAt("q-a", at(30*time.Minute)),
		dueAt("q-b", at(20*time.Minute)),
		dueAt("q-c", at(10*time.Minute)),
		dueAt("q-d", now), // due this very instant
		dueAt("q-future", at(90*time.Minute)),
		dueAt("q-delivered", at(time.Minute)),
		dueAt("q-failed", at(time.Minute)),
		dueAt("q-leased", at(5*time.Minute)),
		dueAt("q-lease-ended", at(15*time.Minute)),
	)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for id, state := range map[string]store.DeliveryState{"q-delivered": store.DeliveryDelivered, "q-failed": store.DeliveryFailed} {
			if err := tx.RecordDeliveryAttempt(ctx, id, store.DeliveryAttempt{At: at(2 * time.Minute), State: state}); err != nil {
				return err
			}
		}
		for id, leaseUntil := range map[string]time.Time{"q-leased": at(3 * time.Hour), "q-lease-ended": at(50 * time.Minute)} {
			if _, ok, err := tx.LeaseDelivery(ctx, id, at(6*time.Minute), leaseUntil); err != nil || !ok {
				return errors.Join(err, errors.New("lease "+id+" refused"))
			}
		}
		return nil
	})

	first := claim(t, s, now, until, 3)
	equal(t, "first claim, limit 3", ids(first, deliveryID), []string{"q-c", "q-lease-ended", "q-b"})
	for _, d := range first {
		if !d.LeaseUntil.Equal(until) || d.State != store.DeliveryPending {
			t.Errorf("claimed %s: lease until %v, state %s; want until %v, pending", d.ID, d.LeaseUntil, d.State, until)
		}
		stored, err := s.Delivery(ctx, d.ID)
		must(t, "read claimed delivery", err)
		equal(t, "claimed delivery as returned and as stored", d, stored)
	}
	second := claim(t, s, now, until, 10)
	equal(t, "second claim, the rest that is due", ids(second, deliveryID), []string{"q-a", "q-d"})
	if third := claim(t, s, now, until, 10); len(third) != 0 {
		t.Errorf("a third claim took %v: everything due is leased", ids(third, deliveryID))
	}

	// Later, the future one is due; the leases taken above still hold.
	later := claim(t, s, at(100*time.Minute), at(3*time.Hour), 10)
	equal(t, "claim once the future one is due", ids(later, deliveryID), []string{"q-future"})
}

// testExpiredLeaseIsClaimedAgain is B3's crash recovery: an instance that
// claimed a delivery and died before recording the attempt leaves a
// lease that simply ends; until then nobody takes the delivery, after it
// the next claim does, as it stood.
func testExpiredLeaseIsClaimedAgain(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0))
	leaseEnds := at(30 * time.Second)
	got := claim(t, s, t0, leaseEnds, 10)
	equal(t, "first claim", ids(got, deliveryID), []string{"d1"})
	// The claimer is gone without a word. While its lease lasts, neither
	// a claim nor a direct attempt takes the delivery.
	if again := claim(t, s, at(10*time.Second), at(40*time.Second), 10); len(again) != 0 {
		t.Errorf("claimed under a live lease: %v", ids(again, deliveryID))
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, ok, err := tx.LeaseDelivery(ctx, "d1", at(20*time.Second), at(50*time.Second))
		if ok {
			t.Error("LeaseDelivery took a delivery another claim holds")
		}
		return err
	})
	again := claim(t, s, at(31*time.Second), at(time.Minute), 10)
	equal(t, "claim after the lease ended", ids(again, deliveryID), []string{"d1"})
	if len(again) == 1 && (again[0].Attempts != 0 || !again[0].LeaseUntil.Equal(at(time.Minute))) {
		t.Errorf("reclaimed delivery: %+v; want no attempt counted and the new lease", again[0])
	}
}

// testEnqueuedUnderLease: a delivery stored with a lease (the sign-out
// leasing it to the first attempt its request makes after the commit) is
// held from the start: neither a claim nor LeaseDelivery takes it while
// the lease lasts, and it comes back to the queue, as it stood, once the
// lease ends, as a crashed claimer's does (B3).
func testEnqueuedUnderLease(t *testing.T, s store.Store) {
	leaseEnds := at(10 * time.Second)
	d := delivery("d1", "app", t0)
	d.DueAt, d.LeaseUntil = leaseEnds, leaseEnds
	enqueue(t, s, d)
	got, err := s.Delivery(t.Context(), "d1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.LeaseUntil.Equal(leaseEnds) || got.State != store.DeliveryPending || got.Attempts != 0 {
		t.Errorf("stored %+v; want pending, no attempt, leased until %v", got, leaseEnds)
	}
	if early := claim(t, s, at(5*time.Second), at(time.Minute), 10); len(early) != 0 {
		t.Errorf("claimed under the lease it was enqueued with: %v", ids(early, deliveryID))
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, ok, err := tx.LeaseDelivery(ctx, "d1", at(5*time.Second), at(time.Minute))
		if ok {
			t.Error("LeaseDelivery took a delivery enqueued under a live lease")
		}
		return err
	})
	again := claim(t, s, leaseEnds, at(time.Minute), 10)
	equal(t, "claim once the lease ended", ids(again, deliveryID), []string{"d1"})
	if len(again) == 1 && (again[0].Attempts != 0 || !again[0].LeaseUntil.Equal(at(time.Minute))) {
		t.Errorf("claimed delivery: %+v; want no attempt counted and the new lease", again[0])
	}
}

// testConcurrentClaimersNeverShareADelivery: workers of many instances
// claim at once, each in its own transaction; no delivery goes to two of
// them (PostgreSQL: FOR UPDATE SKIP LOCKED), and together they take every
// due one.
func testConcurrentClaimersNeverShare(t *testing.T, s store.Store) {
	const due, claimers, each = 20, 8, 5
	var ds []store.Delivery
	for i := range due {
		ds = append(ds, dueAt(name("d", i), at(time.Duration(i)*time.Second)))
	}
	enqueue(t, s, ds...)
	now := at(time.Hour)
	got := make([][]store.Delivery, claimers)
	errs := race(claimers, func(i int) error {
		return inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			got[i], err = tx.ClaimDeliveries(ctx, now, at(2*time.Hour), each)
			return err
		})
	})
	seen := map[string]int{}
	for i, err := range errs {
		if err != nil {
			t.Errorf("claimer %d: %v", i, err)
		}
		if len(got[i]) > each {
			t.Errorf("claimer %d got %d deliveries, limit %d", i, len(got[i]), each)
		}
		for _, d := range got[i] {
			if prev, ok := seen[d.ID]; ok {
				t.Errorf("delivery %s went to claimers %d and %d", d.ID, prev, i)
			}
			seen[d.ID] = i
		}
	}
	var claimed []string
	for id := range seen {
		claimed = append(claimed, id)
	}
	slices.Sort(claimed)
	equal(t, "deliveries claimed by all claimers together", claimed, ids(ds, deliveryID))
}

// testPendingAttemptIsDueAgainAtRetryAt: an attempt that failed for now
// releases the lease and makes the delivery due at RetryAt: not claimed
// before, claimed then.
func testPendingAttemptIsDueAtRetryAt(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0))
	equal(t, "claim", ids(claim(t, s, t0, at(time.Minute), 10), deliveryID), []string{"d1"})
	retryAt := at(10 * time.Minute)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RecordDeliveryAttempt(ctx, "d1", store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryPending,
			RetryAt: retryAt, Status: 503, Error: "503 Service Unavailable", Lease: at(time.Minute)})
	})
	// The lease is released, but the delivery is not due yet.
	if early := claim(t, s, at(2*time.Minute), at(time.Hour), 10); len(early) != 0 {
		t.Errorf("claimed before RetryAt: %v", ids(early, deliveryID))
	}
	if early := claim(t, s, retryAt.Add(-time.Second), at(time.Hour), 10); len(early) != 0 {
		t.Errorf("claimed a second before RetryAt: %v", ids(early, deliveryID))
	}
	got := claim(t, s, retryAt, at(time.Hour), 10)
	equal(t, "claim at RetryAt", ids(got, deliveryID), []string{"d1"})
	if len(got) == 1 && (got[0].Attempts != 1 || got[0].LastStatus != 503 || !got[0].DueAt.Equal(retryAt)) {
		t.Errorf("reclaimed delivery: %+v", got[0])
	}
}

// testRetriedDeliveryIsClaimed: a failed delivery is never claimed; an
// admin's retry makes it pending and due at the time given, and the
// workers take it from then.
func testRetriedDeliveryIsClaimed(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0))
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RecordDeliveryAttempt(ctx, "d1", store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryFailed, Status: 400})
	})
	if got := claim(t, s, at(time.Hour), at(2*time.Hour), 10); len(got) != 0 {
		t.Errorf("a failed delivery was claimed: %v", ids(got, deliveryID))
	}
	dueAt := at(2 * time.Hour)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RetryDelivery(ctx, "d1", at(time.Hour), dueAt) })
	if got := claim(t, s, dueAt.Add(-time.Second), at(3*time.Hour), 10); len(got) != 0 {
		t.Errorf("a retried delivery was claimed before it was due: %v", ids(got, deliveryID))
	}
	equal(t, "claim of the retried delivery", ids(claim(t, s, dueAt, at(3*time.Hour), 10), deliveryID), []string{"d1"})
}

// testRolledBackEnqueueOrClaim: the queue is rows of the transaction, so
// a sign-out that rolls back leaves no delivery to make (B3: all of it or
// nothing), and a claim that rolls back leaves no lease.
func testRolledBackEnqueueOrClaim(t *testing.T, s store.Store) {
	errBoom := errors.New("roll back")
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.EnqueueDeliveries(ctx, delivery("gone", "app", t0)); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "rolled-back enqueue", err, errBoom)
	_, err = s.Delivery(t.Context(), "gone")
	wantErr(t, "rolled-back delivery", err, store.ErrNotFound)
	if got := claim(t, s, at(time.Hour), at(2*time.Hour), 10); len(got) != 0 {
		t.Errorf("claimed %v, enqueued only in a rolled-back transaction", ids(got, deliveryID))
	}

	enqueue(t, s, delivery("d1", "app", t0))
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ClaimDeliveries(ctx, at(time.Minute), at(time.Hour), 10)
		if err != nil {
			return err
		}
		equal(t, "claim in the doomed transaction", ids(got, deliveryID), []string{"d1"})
		return errBoom
	})
	wantErr(t, "rolled-back claim", err, errBoom)
	equal(t, "claim after a rolled-back one", ids(claim(t, s, at(2*time.Minute), at(time.Hour), 10), deliveryID), []string{"d1"})
}

// testDeliveryWithoutDueTimeIsDue: a pending delivery with the zero due
// time is due at any now, the earliest of all (the zero time sorts first),
// and is leased like any other; so is one whose pending attempt was
// recorded without a RetryAt. Neither is left in the table unclaimed
// (B3: a crash or restart loses none).
func testDeliveryWithoutDueTimeIsDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	undated := dueAt("q-undated", time.Time{})
	enqueue(t, s, undated, dueAt("q-dated", at(10*time.Minute)), dueAt("q-future", at(90*time.Minute)))
	stored, err := s.Delivery(ctx, "q-undated")
	must(t, "read the delivery without a due time", err)
	equal(t, "delivery enqueued without a due time", stored, undated)

	// Due before anything else is: t0 is the earliest time of the suite.
	first := claim(t, s, t0, at(time.Minute), 10)
	equal(t, "claim at t0", ids(first, deliveryID), []string{"q-undated"})
	if len(first) == 1 && (!first[0].LeaseUntil.Equal(at(time.Minute)) || !first[0].DueAt.IsZero()) {
		t.Errorf("claimed %+v; want leased until %v, still without a due time", first[0], at(time.Minute))
	}
	if again := claim(t, s, at(30*time.Second), at(2*time.Minute), 10); len(again) != 0 {
		t.Errorf("claimed under a live lease: %v", ids(again, deliveryID))
	}
	// Once the lease ends it comes before the dated ones, within the limit.
	equal(t, "claim of one after the lease ended", ids(claim(t, s, at(time.Hour), at(2*time.Hour), 1), deliveryID), []string{"q-undated"})
	equal(t, "the next claim", ids(claim(t, s, at(time.Hour), at(2*time.Hour), 10), deliveryID), []string{"q-dated"})

	// A pending attempt recorded without a retry time leaves the delivery
	// due at once as well.
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RecordDeliveryAttempt(ctx, "q-dated", store.DeliveryAttempt{At: at(61 * time.Minute), State: store.DeliveryPending,
			Status: 503, Error: "503 Service Unavailable", Lease: at(2 * time.Hour)})
	})
	equal(t, "claim after a pending attempt without RetryAt", ids(claim(t, s, at(62*time.Minute), at(2*time.Hour), 10), deliveryID),
		[]string{"q-dated"})
}
