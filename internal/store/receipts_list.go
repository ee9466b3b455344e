package store

import (
	"context"
	"time"
)

// ReceiptCursor is where a page of RecentReceipts starts: just after the
// receipt made at At with ID, the last of the page before, in the order
// newest first. The zero cursor starts at the newest receipt.
type ReceiptCursor struct {
	At time.Time
	ID string
}

// receiptListReader lists the sign-out receipts of every account, for the
// console's recent sign-outs (O9); Reader embeds it.
type receiptListReader interface {
	// RecentReceipts lists receipts newest first (by CreatedAt, then by
	// ID, both descending, so receipts made in the same instant keep one
	// order), those after the cursor, at most limit of them; limit must
	// be positive. It reads the index by time, never the whole table.
	RecentReceipts(ctx context.Context, after ReceiptCursor, limit int) ([]Receipt, error)
}
