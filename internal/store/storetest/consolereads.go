package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// consoleReadTests cover the reads the console's pages make in one go
// where they once read row by row or through the whole log: the
// deliveries of a page of sign-outs, counted by state (O9), and one
// account's latest events.
var consoleReadTests = []test{
	{"DeliveryCountsByReceiptsCountsEachReceiptsStates", testDeliveryCountsByReceiptsCountsEachReceiptsStates},
	{"DeliveryCountsByReceiptsCountsManyReceipts", testDeliveryCountsByReceiptsCountsManyReceipts},
	{"EventsByAccountListsOneAccountsNewestFirst", testEventsByAccountListsOneAccountsNewestFirst},
	{"EventsByAccountKeepsTheKindsAskedFor", testEventsByAccountKeepsTheKindsAskedFor},
}

// receiptDelivery is delivery(id) of receipt receipt, created at created,
// in state.
func receiptDelivery(id, receipt string, state store.DeliveryState, created time.Time) store.Delivery {
	d := delivery(id, "app-"+id, created)
	d.ReceiptID, d.State = receipt, state
	if state != store.DeliveryPending {
		d.DueAt = time.Time{}
	}
	return d
}

// stateCounts is a receipt's deliveries counted by state.
type stateCounts = map[store.DeliveryState]int

// Each receipt asked for gets its deliveries counted in each state they
// are in, as DeliveriesByReceipt lists them; a state none is in has no
// entry; a receipt asked for twice is counted once; a receipt without
// deliveries, or unknown, has no entry; deliveries of receipts not asked
// for, and those of no receipt, are left out. No receipt asked for is an
// empty map. The counts are of each delivery's state as it stands, and
// inside a transaction the read sees its own writes.
func testDeliveryCountsByReceiptsCountsEachReceiptsStates(t *testing.T, s store.Store) {
	ctx := t.Context()
	const (
		pending   = store.DeliveryPending
		delivered = store.DeliveryDelivered
		failed    = store.DeliveryFailed
	)
	enqueue(t, s,
		receiptDelivery("d-1", "r1", delivered, at(2*time.Second)),
		receiptDelivery("d-2", "r1", failed, at(time.Second)),
		receiptDelivery("d-3", "r1", delivered, t0),
		receiptDelivery("d-4", "r1", pending, at(time.Second)),
		receiptDelivery("d-5", "r1", delivered, at(time.Minute)),
		receiptDelivery("d-other", "r-other", failed, at(time.Second)),
		receiptDelivery("d-x", "r2", pending, at(time.Minute)),
		receiptDelivery("d-none", "", delivered, t0),
	)
	got, err := s.DeliveryCountsByReceipts(ctx, []string{"r1", "r2", "r-none", "r1"})
	must(t, "counts by receipts", err)
	equal(t, "each receipt's deliveries by state", got, map[string]stateCounts{
		"r1": {delivered: 3, failed: 1, pending: 1},
		"r2": {pending: 1},
	})
	for r, counts := range got {
		list, err := s.DeliveriesByReceipt(ctx, r)
		must(t, "by receipt", err)
		listed := stateCounts{}
		for _, d := range list {
			listed[d.State]++
		}
		equal(t, "receipt "+r+" as DeliveriesByReceipt lists it", counts, listed)
	}

	for _, none := range [][]string{nil, {}, {"r-none"}, {"r-none", "r-unknown"}} {
		got, err := s.DeliveryCountsByReceipts(ctx, none)
		must(t, fmt.Sprintf("counts by receipts %q", none), err)
		if got == nil || len(got) != 0 {
			t.Errorf("counts by receipts %q: %+v, want an empty map", none, got)
		}
	}

	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.EnqueueDeliveries(ctx, receiptDelivery("d-new", "r2", pending, at(2*time.Minute))); err != nil {
			return err
		}
		if err := tx.RecordDeliveryAttempt(ctx, "d-x", store.DeliveryAttempt{At: at(3 * time.Minute), State: delivered, Status: 200}); err != nil {
			return err
		}
		got, err := tx.DeliveryCountsByReceipts(ctx, []string{"r2"})
		if err != nil {
			return err
		}
		equal(t, "in the transaction that wrote one and delivered another", got, map[string]stateCounts{"r2": {pending: 1, delivered: 1}})
		return nil
	})
}

// Many receipts at once (more than a page of the console lists, so more
// than one statement, and in an order of their own, with unknown and
// repeated ids) get each its own counts, none lost, repeated or mixed up
// between the statements a backend may split them into.
func testDeliveryCountsByReceiptsCountsManyReceipts(t *testing.T, s store.Store) {
	const receipts = 101
	states := []store.DeliveryState{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed}
	var asked []string
	want := map[string]stateCounts{}
	var all []store.Delivery
	for i := range receipts {
		r := name("r", i)
		asked = append(asked, r)
		// Every third receipt has none; the others have i%4+1, their
		// states in turn from i's.
		if i%3 == 0 {
			continue
		}
		want[r] = stateCounts{}
		for k := range i%4 + 1 {
			state := states[(i+k)%len(states)]
			all = append(all, receiptDelivery(fmt.Sprintf("d-%02d-%d", i, k), r, state, at(time.Duration(i)*time.Second+time.Duration(k)*time.Millisecond)))
			want[r][state]++
		}
	}
	enqueue(t, s, all...)
	slices.Reverse(asked)
	asked = append(asked, "r-unknown", asked[7], asked[90])
	got, err := s.DeliveryCountsByReceipts(t.Context(), asked)
	must(t, "counts by receipts", err)
	equal(t, "each receipt's deliveries by state", got, want)
}

// eventLog writes the events of three accounts and of none, interleaved,
// one second apart, and returns them as Events lists them: newest first.
func eventLog(t *testing.T, s store.Store) []store.Event {
	t.Helper()
	kinds := []string{store.EventSignIn, store.EventSignInFailed, store.EventSignOut, store.EventGrantRevoked,
		store.EventRefreshReuse, store.EventDeliveryFailed, store.EventClientAuthFailed}
	// Five accounts to seven kinds: each account writes every kind.
	accounts := []string{"a", "b", "", "a", "c"}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 40 {
			e := store.Event{At: at(time.Duration(i) * time.Second), Kind: kinds[i%len(kinds)], AccountID: accounts[i%len(accounts)],
				ClientID: name("app", i%3), Detail: name("detail", i)}
			if err := tx.AddEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	all, err := s.Events(t.Context(), 0, 100)
	must(t, "events", err)
	if len(all) != 40 {
		t.Fatalf("%d events written, %d listed", 40, len(all))
	}
	return all
}

// eventsOf is the events of list that account wrote, in any of kinds (any
// when none), in list's order.
func eventsOf(list []store.Event, account string, kinds ...string) []store.Event {
	var out []store.Event
	for _, e := range list {
		if e.AccountID == account && (len(kinds) == 0 || slices.Contains(kinds, e.Kind)) {
			out = append(out, e)
		}
	}
	return out
}

// An account's events come whole, newest first, as Events lists them,
// and no other account's; pages of limit events, each below the last
// seq of the one before, reach the oldest and then nothing; an account
// without events, or unknown, has none.
func testEventsByAccountListsOneAccountsNewestFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := eventLog(t, s)
	for _, account := range []string{"a", "b", "c"} {
		got, err := s.EventsByAccount(ctx, account, nil, 0, 100)
		must(t, "events of "+account, err)
		want := eventsOf(all, account)
		if len(want) == 0 {
			t.Fatalf("account %s wrote no events", account)
		}
		equal(t, "the events of "+account+", newest first", got, want)
	}

	want := eventsOf(all, "a")
	var paged []store.Event
	var before int64
	for range len(want) + 2 {
		page, err := s.EventsByAccount(ctx, "a", nil, before, 3)
		must(t, "page", err)
		if len(page) > 3 {
			t.Fatalf("a page of %d events, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1].Seq
	}
	equal(t, "every event of a, page after page", paged, want)

	below, err := s.EventsByAccount(ctx, "a", nil, want[2].Seq, 100)
	must(t, "below a cursor", err)
	equal(t, "the events below a cursor", below, want[3:])

	for _, none := range []string{"unknown", "A"} {
		got, err := s.EventsByAccount(ctx, none, nil, 0, 100)
		must(t, "events of "+none, err)
		if len(got) != 0 {
			t.Errorf("account %q: %+v, want none", none, got)
		}
	}
}

// Asked for some kinds, an account's events are those of these kinds
// only, newest first, at most limit; no kinds is every kind; a kind no
// event has finds none; more kinds than MaxEventKinds is refused.
func testEventsByAccountKeepsTheKindsAskedFor(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := eventLog(t, s)
	signIns := []string{store.EventSignIn, store.EventSignInFailed}
	got, err := s.EventsByAccount(ctx, "a", signIns, 0, 100)
	must(t, "sign-ins of a", err)
	want := eventsOf(all, "a", signIns...)
	if len(want) < 3 || len(want) == len(eventsOf(all, "a")) {
		t.Fatalf("the log gives a %d sign-ins among %d events", len(want), len(eventsOf(all, "a")))
	}
	equal(t, "the sign-ins of a, newest first", got, want)

	got, err = s.EventsByAccount(ctx, "a", signIns, 0, 2)
	must(t, "latest sign-ins of a", err)
	equal(t, "the latest two sign-ins of a", got, want[:2])

	got, err = s.EventsByAccount(ctx, "a", signIns, want[0].Seq, 100)
	must(t, "sign-ins of a below a cursor", err)
	equal(t, "the sign-ins of a below a cursor", got, want[1:])

	got, err = s.EventsByAccount(ctx, "b", []string{store.EventSignOut}, 0, 100)
	must(t, "sign-outs of b", err)
	equal(t, "the sign-outs of b", got, eventsOf(all, "b", store.EventSignOut))

	got, err = s.EventsByAccount(ctx, "a", []string{}, 0, 100)
	must(t, "every kind", err)
	equal(t, "no kinds is every kind", got, eventsOf(all, "a"))

	got, err = s.EventsByAccount(ctx, "a", []string{"no_such_kind"}, 0, 100)
	must(t, "an unknown kind", err)
	if len(got) != 0 {
		t.Errorf("an unknown kind: %+v", got)
	}

	many := make([]string, store.MaxEventKinds)
	for i := range many {
		many[i] = name("kind", i)
	}
	many[len(many)-1] = store.EventSignOut
	got, err = s.EventsByAccount(ctx, "a", many, 0, 100)
	must(t, "as many kinds as allowed", err)
	equal(t, "the last of as many kinds as allowed", got, eventsOf(all, "a", store.EventSignOut))
	if _, err := s.EventsByAccount(ctx, "a", append(many, store.EventSignIn), 0, 100); err == nil {
		t.Errorf("%d kinds were not refused", store.MaxEventKinds+1)
	}
}
