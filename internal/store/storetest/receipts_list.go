package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// receiptListTests cover the list of every account's sign-out receipts
// (O9): the console's recent sign-outs.
var receiptListTests = []test{
	{"RecentReceiptsAreListedNewestFirstInPages", testRecentReceiptsAreListedNewestFirstInPages},
}

// receiptIDs lists the IDs of receipts, for comparing orders.
func receiptIDs(list []store.Receipt) []string {
	return ids(list, func(r store.Receipt) string { return r.ID })
}

// Every account's receipts come whole, newest first; receipts of the same
// instant come by id, descending, so a page ending among them and the
// next one neither repeat nor skip any; paging from the last receipt of
// each page reaches the oldest and then nothing; a limit below 1 is
// refused; inside a transaction the list sees its own writes.
func testRecentReceiptsAreListedNewestFirstInPages(t *testing.T, s store.Store) {
	full := store.Receipt{ID: "r-full", Scope: "browser", Cause: "end_session", SessionID: "s1", AccountID: "acct", ClientID: "app",
		CreatedAt: at(-time.Hour), Outcomes: []store.ReceiptOutcome{
			{ClientID: "app", SID: "sid1", GrantID: "g1", Revoked: true, DeliveryID: "d1"},
			{ClientID: "b", SID: "sid2", GrantID: "g2", Kept: "offline_access"},
		}}
	// Three of one instant, written in no order of their ids, and
	// receipts of other accounts around them.
	receipts := []store.Receipt{
		full,
		{ID: "r-b", AccountID: "other", CreatedAt: t0},
		{ID: "r-c", AccountID: "acct", CreatedAt: t0},
		{ID: "r-a", AccountID: "third", CreatedAt: t0},
		{ID: "r-new", AccountID: "other", CreatedAt: at(time.Minute)},
		{ID: "r-old", AccountID: "acct", CreatedAt: at(-48 * time.Hour)},
	}
	for _, r := range receipts {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateReceipt(ctx, r) })
	}
	ctx := t.Context()
	all, err := s.RecentReceipts(ctx, store.ReceiptCursor{}, 10)
	must(t, "all", err)
	equal(t, "every receipt, newest first", receiptIDs(all), []string{"r-new", "r-c", "r-b", "r-a", "r-full", "r-old"})
	if len(all) == 6 {
		equal(t, "a receipt read whole", all[4], full)
	}

	// Pages of two: the first ends inside the instant t0.
	var pages [][]string
	var after store.ReceiptCursor
	for range 5 {
		page, err := s.RecentReceipts(ctx, after, 2)
		must(t, "page", err)
		if len(page) == 0 {
			break
		}
		pages = append(pages, receiptIDs(page))
		last := page[len(page)-1]
		after = store.ReceiptCursor{At: last.CreatedAt, ID: last.ID}
	}
	equal(t, "pages of two", pages, [][]string{{"r-new", "r-c"}, {"r-b", "r-a"}, {"r-full", "r-old"}})

	// A cursor between two instants starts at the next older one.
	page, err := s.RecentReceipts(ctx, store.ReceiptCursor{At: at(-time.Minute)}, 10)
	must(t, "from a time", err)
	equal(t, "older than a minute ago", receiptIDs(page), []string{"r-full", "r-old"})

	if _, err := s.RecentReceipts(ctx, store.ReceiptCursor{}, 0); err == nil {
		t.Error("a limit of 0 was accepted")
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "create", tx.CreateReceipt(ctx, store.Receipt{ID: "r-tx", AccountID: "acct", CreatedAt: at(time.Hour)}))
		got, err := tx.RecentReceipts(ctx, store.ReceiptCursor{}, 1)
		must(t, "in the transaction", err)
		equal(t, "the newest in the transaction", receiptIDs(got), []string{"r-tx"})
		return nil
	})
}
