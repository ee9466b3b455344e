package sql

import (
	"context"
	"fmt"

	"github.com/sesame-id/sesame/internal/store"
)

// qRecentReceipts reads a page of every account's receipts, newest first,
// on the index by time (receipts_created), from the cursor down: the
// receipts made before its instant, and those of the same instant with a
// lower id. The cursor's instant bounds the index range, so a page reads
// its rows and the few of one instant, never the table.
const qRecentReceipts = `SELECT ` + receiptCols + ` FROM receipts
	WHERE created_at <= $1 AND (created_at < $1 OR id < $2)
	ORDER BY created_at DESC, id DESC LIMIT $3`

// RecentReceipts lists a page of receipts, newest first, after the
// cursor; the zero cursor starts at the newest.
func (r reader) RecentReceipts(ctx context.Context, after store.ReceiptCursor, limit int) ([]store.Receipt, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list recent receipts: limit %d", limit)
	}
	at := after.At
	if at.IsZero() {
		// Later than any receipt, so the first page starts at the newest.
		at = maxTime
	}
	list, err := queryList(ctx, r.q, scanReceipt, qRecentReceipts, timeArg(at), after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list recent receipts: %w", dbErr(err))
	}
	return list, nil
}
