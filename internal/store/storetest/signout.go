package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// signoutTests cover the sign-out records (design O3, O9, B3).
var signoutTests = []test{
	{"LogoutRequestRoundTripAndLatestOnly", testLogoutRequests},
	{"ReceiptRoundTripAndOrder", testReceipts},
	{"DeliveryLifecycle", testDeliveryLifecycle},
	{"EnqueueDeliveriesStoresEachOfMany", testEnqueueDeliveriesStoresEachOfMany},
	{"DeliveryLeaseIsExclusive", testDeliveryLeaseExclusive},
	{"DeliveriesByClientFilterAndOrder", testDeliveriesByClient},
	{"SweepRemovesOldSignOutRecords", testSweepSignout},
	{"RetryDeliveryMakesItPendingAgain", testRetryDelivery},
}

func testLogoutRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(x, session string) store.LogoutRequest {
		return store.LogoutRequest{XSRFHash: hash(x), SessionID: session, ClientID: "app", PostLogoutRedirectURI: "https://app/",
			State: "st", UILocales: "en", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	}
	first, second, other, none1, none2 := mk("1", "s1"), mk("2", "s1"), mk("3", "s2"), mk("4", ""), mk("5", "")
	for _, r := range []store.LogoutRequest{first, other, none1, none2, second} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateLogoutRequest(ctx, r) })
	}
	got, err := s.LogoutRequest(ctx, hash("2"))
	must(t, "read", err)
	equal(t, "logout request", got, second)
	if _, err := s.LogoutRequest(ctx, hash("1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the older request of the same session survived: %v", err)
	}
	for _, x := range []string{"3", "4", "5"} {
		if _, err := s.LogoutRequest(ctx, hash(x)); err != nil {
			t.Errorf("request %s of another or no session was dropped: %v", x, err)
		}
	}
	for i, want := range []bool{true, false} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			deleted, err := tx.DeleteLogoutRequest(ctx, hash("2"))
			if deleted != want {
				t.Errorf("delete #%d reported %v, want %v", i+1, deleted, want)
			}
			return err
		})
	}
	if _, err := s.LogoutRequest(ctx, hash("2")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted request: %v", err)
	}
}

func testReceipts(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.Receipt{ID: "r1", Scope: "browser", Cause: "end_session", SessionID: "s1", AccountID: "acct", ClientID: "app",
		CreatedAt: t0, Outcomes: []store.ReceiptOutcome{
			{ClientID: "app", SID: "sid1", GrantID: "g1", Revoked: true, DeliveryID: "d1", FrontchannelURI: "https://app.example/fc?x=1"},
			{ClientID: "b", SID: "sid2", GrantID: "g2", Kept: "offline_access"},
		}}
	bare := store.Receipt{ID: "r2", AccountID: "acct", CreatedAt: at(time.Minute)}
	other := store.Receipt{ID: "r3", AccountID: "other", CreatedAt: at(2 * time.Minute)}
	for _, r := range []store.Receipt{full, bare, other} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateReceipt(ctx, r) })
	}
	got, err := s.Receipt(ctx, "r1")
	must(t, "read", err)
	equal(t, "receipt", got, full)
	got, err = s.Receipt(ctx, "r2")
	must(t, "read", err)
	equal(t, "bare receipt", got, bare)
	if _, err := s.Receipt(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown receipt: %v", err)
	}
	list, err := s.ReceiptsByAccount(ctx, "acct", 10)
	must(t, "list", err)
	if len(list) != 2 || list[0].ID != "r2" || list[1].ID != "r1" {
		t.Errorf("receipts newest first: %+v", list)
	}
	if list, _ := s.ReceiptsByAccount(ctx, "acct", 1); len(list) != 1 || list[0].ID != "r2" {
		t.Errorf("limit: %+v", list)
	}
	if err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateReceipt(ctx, full) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate receipt: %v", err)
	}
}

// delivery is a pending delivery, due as soon as it is created.
func delivery(id, client string, created time.Time) store.Delivery {
	return store.Delivery{ID: id, ReceiptID: "r1", ClientID: client, URI: "https://" + client + "/bc", Subject: "acct",
		SID: "sid-" + id, State: store.DeliveryPending, CreatedAt: created, UpdatedAt: created, DueAt: created}
}

// enqueue stores deliveries in one transaction, one call each.
func enqueue(t *testing.T, s store.Store, ds ...store.Delivery) {
	t.Helper()
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, d := range ds {
			if err := tx.EnqueueDeliveries(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// testEnqueueDeliveriesStoresEachOfMany: one call stores every delivery
// given, each with its own columns, more than one statement's worth
// included; a taken id among them is ErrConflict.
func testEnqueueDeliveriesStoresEachOfMany(t *testing.T, s store.Store) {
	ctx := t.Context()
	var ds []store.Delivery
	for i := range 21 { // more than a statement's 16
		d := delivery(fmt.Sprintf("d%02d", i), fmt.Sprintf("app-%d", i%5), at(time.Duration(i)*time.Second))
		d.ReceiptID = fmt.Sprintf("r%d", i%3)
		d.DueAt, d.LeaseUntil = at(time.Minute+time.Duration(i)*time.Second), at(time.Minute)
		ds = append(ds, d)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.EnqueueDeliveries(ctx, ds...) })
	for _, want := range ds {
		got, err := s.Delivery(ctx, want.ID)
		must(t, want.ID, err)
		equal(t, want.ID, got, want)
	}
	err := s.InTx(ctx, store.Routine, func(tx store.Tx) error {
		return tx.EnqueueDeliveries(ctx, delivery("new", "app", t0), delivery("d07", "app", t0))
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("a taken id among many: %v, want ErrConflict", err)
	}
	if _, err := s.Delivery(ctx, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the rolled-back call's other delivery: %v, want ErrNotFound", err)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.EnqueueDeliveries(ctx) })
}

// testDeliveryLifecycle: a delivery is leased one attempt at a time, an
// outcome is recorded once and only under the lease its attempt took (not
// under another, not twice, not after the lease was taken over), and a
// delivered one is leased no more.
func testDeliveryLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := delivery("d1", "app", t0)
	d.DueAt = at(time.Second) // a time of its own, so a column mix-up shows
	enqueue(t, s, d)
	got, err := s.Delivery(ctx, "d1")
	must(t, "read", err)
	equal(t, "delivery", got, d)
	if _, err := s.Delivery(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown delivery: %v", err)
	}
	var leased store.Delivery
	var ok bool
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		leased, ok, err = tx.LeaseDelivery(ctx, "d1", at(time.Second), at(11*time.Second))
		return err
	})
	if !ok || !leased.LeaseUntil.Equal(at(11*time.Second)) {
		t.Fatalf("lease: %v %+v", ok, leased)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, ok, err := tx.LeaseDelivery(ctx, "d1", at(2*time.Second), at(12*time.Second))
		if ok {
			t.Error("a held lease was taken again")
		}
		return err
	})
	// An outcome is recorded only under the lease its attempt took.
	failed := store.DeliveryAttempt{At: at(3 * time.Second), State: store.DeliveryPending,
		RetryAt: at(time.Minute), Status: 503, Error: "503", Lease: at(11 * time.Second)}
	for _, lease := range []time.Time{{}, at(12 * time.Second)} {
		other := failed
		other.Lease = lease
		err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RecordDeliveryAttempt(ctx, "d1", other) })
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("an outcome under lease %v of a delivery leased until %v: %v, want ErrLeaseLost", lease, at(11*time.Second), err)
		}
	}
	if got, _ = s.Delivery(ctx, "d1"); got.Attempts != 0 || !got.LeaseUntil.Equal(at(11*time.Second)) {
		t.Errorf("after outcomes under other leases: %+v, want untouched", got)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RecordDeliveryAttempt(ctx, "d1", failed) })
	// Recording it again (a commit that reported an error after all)
	// finds the lease released: nothing is counted twice.
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RecordDeliveryAttempt(ctx, "d1", failed) })
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("the same outcome recorded again: %v, want ErrLeaseLost", err)
	}
	if hist, err := s.DeliveryAttempts(ctx, []string{"d1"}, 0); err != nil || len(hist["d1"]) != 1 {
		t.Errorf("history after the outcome was recorded twice: %+v, %v; want its one attempt", hist["d1"], err)
	}
	got, _ = s.Delivery(ctx, "d1")
	if got.Attempts != 1 || got.State != store.DeliveryPending || got.LastStatus != 503 || got.LastError != "503" ||
		!got.LeaseUntil.IsZero() || !got.UpdatedAt.Equal(at(3*time.Second)) || !got.DueAt.Equal(at(time.Minute)) {
		t.Errorf("after a failed attempt: %+v", got)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, ok, err := tx.LeaseDelivery(ctx, "d1", at(4*time.Second), at(14*time.Second))
		if !ok {
			t.Error("a released lease could not be taken")
		}
		return err
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, ok, err := tx.LeaseDelivery(ctx, "d1", at(15*time.Second), at(25*time.Second))
		if !ok {
			t.Error("an expired lease could not be taken")
		}
		return err
	})
	// The attempt whose lease ended and was taken again lost the
	// delivery to the one that took it.
	delivered := store.DeliveryAttempt{At: at(16 * time.Second), State: store.DeliveryDelivered, Status: 200, Lease: at(14 * time.Second)}
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RecordDeliveryAttempt(ctx, "d1", delivered) })
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("an outcome under a lease taken over since: %v, want ErrLeaseLost", err)
	}
	delivered.Lease = at(25 * time.Second)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RecordDeliveryAttempt(ctx, "d1", delivered) })
	got, _ = s.Delivery(ctx, "d1")
	if got.Attempts != 2 || got.State != store.DeliveryDelivered || !got.DeliveredAt.Equal(at(16*time.Second)) || got.LastError != "" ||
		!got.DueAt.IsZero() || !got.LeaseUntil.IsZero() {
		t.Errorf("after delivery: %+v", got)
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, ok, err := tx.LeaseDelivery(ctx, "d1", at(time.Hour), at(2*time.Hour))
		if ok {
			t.Error("a delivered delivery was leased")
		}
		return err
	})
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RecordDeliveryAttempt(ctx, "nope", store.DeliveryAttempt{At: t0, State: store.DeliveryFailed})
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("attempt on an unknown delivery: %v", err)
	}
	list, err := s.DeliveriesByReceipt(ctx, "r1")
	if err != nil || len(list) != 1 {
		t.Errorf("by receipt: %+v %v", list, err)
	}
}

func testDeliveryLeaseExclusive(t *testing.T, s store.Store) {
	enqueue(t, s, delivery("d1", "app", t0))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				_, ok, err := tx.LeaseDelivery(ctx, "d1", at(time.Second), at(time.Minute))
				if ok {
					wins.Add(1)
				}
				return err
			})
			if err != nil {
				t.Errorf("lease: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d of 16 concurrent leases won, want 1", wins.Load())
	}
}

func testDeliveriesByClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, d := range []store.Delivery{delivery("a1", "a", at(time.Second)), delivery("a2", "a", at(2*time.Second)),
		delivery("a3", "a", at(3*time.Second)), delivery("b1", "b", at(4*time.Second))} {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.EnqueueDeliveries(ctx, d); err != nil {
				return err
			}
			if i == 1 {
				return tx.RecordDeliveryAttempt(ctx, d.ID, store.DeliveryAttempt{At: at(time.Minute), State: store.DeliveryFailed, Status: 400})
			}
			return nil
		})
	}
	all, err := s.DeliveriesByClient(ctx, "a", "", 10)
	must(t, "list", err)
	if len(all) != 3 || all[0].ID != "a3" || all[2].ID != "a1" {
		t.Errorf("all of a, newest first: %+v", all)
	}
	failed, _ := s.DeliveriesByClient(ctx, "a", store.DeliveryFailed, 10)
	if len(failed) != 1 || failed[0].ID != "a2" {
		t.Errorf("failed of a: %+v", failed)
	}
	if one, _ := s.DeliveriesByClient(ctx, "a", "", 1); len(one) != 1 || one[0].ID != "a3" {
		t.Errorf("limit: %+v", one)
	}
}

func testSweepSignout(t *testing.T, s store.Store) {
	ctx := t.Context()
	old, fresh := delivery("old", "app", t0), delivery("fresh", "app", t0)
	pending := delivery("pending", "app", t0)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, d := range []store.Delivery{old, fresh, pending} {
			if err := tx.EnqueueDeliveries(ctx, d); err != nil {
				return err
			}
		}
		if err := tx.RecordDeliveryAttempt(ctx, "old", store.DeliveryAttempt{At: t0, State: store.DeliveryDelivered, Status: 200}); err != nil {
			return err
		}
		if err := tx.RecordDeliveryAttempt(ctx, "fresh", store.DeliveryAttempt{At: at(40 * 24 * time.Hour), State: store.DeliveryFailed}); err != nil {
			return err
		}
		if err := tx.CreateReceipt(ctx, store.Receipt{ID: "old", CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.CreateReceipt(ctx, store.Receipt{ID: "fresh", CreatedAt: at(40 * 24 * time.Hour)}); err != nil {
			return err
		}
		if err := tx.CreateLogoutRequest(ctx, store.LogoutRequest{XSRFHash: hash("old"), CreatedAt: t0, ExpiresAt: at(time.Hour)}); err != nil {
			return err
		}
		return tx.CreateLogoutRequest(ctx, store.LogoutRequest{XSRFHash: hash("fresh"), CreatedAt: t0, ExpiresAt: at(60 * 24 * time.Hour)})
	})
	// Kept for the retention (audit_retention), here 30 days: the old ones
	// are 45 days old, the fresh ones 5.
	sweepKeeping(t, s, at(45*24*time.Hour), 30*24*time.Hour, 100)
	for id, want := range map[string]bool{"old": false, "fresh": true, "pending": true} {
		_, err := s.Delivery(ctx, id)
		if (err == nil) != want {
			t.Errorf("delivery %s kept=%v, want %v", id, err == nil, want)
		}
	}
	for id, want := range map[string]bool{"old": false, "fresh": true} {
		if _, err := s.Receipt(ctx, id); (err == nil) != want {
			t.Errorf("receipt %s kept=%v, want %v", id, err == nil, want)
		}
		if _, err := s.LogoutRequest(ctx, hash(id)); (err == nil) != want {
			t.Errorf("logout request %s kept=%v, want %v", id, err == nil, want)
		}
	}
}

// testRetryDelivery: an admin's retry makes a failed delivery pending
// again, due when asked, with its attempts kept.
func testRetryDelivery(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.EnqueueDeliveries(ctx, delivery("d1", "app", t0)); err != nil {
			return err
		}
		return tx.RecordDeliveryAttempt(ctx, "d1", store.DeliveryAttempt{At: at(time.Second), State: store.DeliveryFailed, Status: 400})
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RetryDelivery(ctx, "d1", at(time.Hour), at(2*time.Hour))
	})
	d, err := s.Delivery(t.Context(), "d1")
	must(t, "read", err)
	if d.State != store.DeliveryPending || d.Attempts != 1 || !d.UpdatedAt.Equal(at(time.Hour)) ||
		!d.DueAt.Equal(at(2*time.Hour)) || !d.LeaseUntil.IsZero() {
		t.Errorf("after retry: %+v", d)
	}
	err = inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RetryDelivery(ctx, "nope", t0, t0) })
	wantErr(t, "retry unknown", err, store.ErrNotFound)
}
