package admin

import (
	"context"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// auditing is the signout.Record of a sign-out someone asked for, by the
// admin API or on the account page: it writes e, its Detail said by
// detail from what the sign-out did, in the sign-out's own transaction.
func auditing(ctx context.Context, rec audit.Recorder, e audit.Entry, detail func(done []signout.Done) string) signout.Record {
	return func(tx store.Tx, done []signout.Done) error {
		if detail != nil {
			e.Detail = detail(done)
		}
		return rec.InTx(ctx, tx, e)
	}
}

// receiptDetail names the receipt of a sign-out of one session.
func receiptDetail(done []signout.Done) string {
	if len(done) == 0 {
		return ""
	}
	return "receipt " + done[0].Receipt.ID
}

// grantDetail names the client and the receipt of a revoked grant.
func grantDetail(done []signout.Done) string {
	if len(done) == 0 {
		return ""
	}
	return "client " + done[0].Receipt.ClientID + ", receipt " + done[0].Receipt.ID
}
