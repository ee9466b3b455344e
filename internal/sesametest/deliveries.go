package sesametest

import (
	"testing"

	"github.com/sesame-id/sesame/internal/store"
)

// LastDeliveries is the back-channel deliveries of the latest sign-out
// receipt of the user username, by client ID. It fails t unless the user
// has a receipt.
func (s *Sesame) LastDeliveries(t testing.TB, username string) map[string]store.Delivery {
	t.Helper()
	acct, err := s.Store.AccountByUsername(t.Context(), username)
	if err != nil {
		t.Fatalf("account %s: %v", username, err)
	}
	recs, err := s.Store.ReceiptsByAccount(t.Context(), acct.ID, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("receipts of %s: %v %v", username, recs, err)
	}
	dels, err := s.Store.DeliveriesByReceipt(t.Context(), recs[0].ID)
	if err != nil {
		t.Fatalf("deliveries of receipt %s: %v", recs[0].ID, err)
	}
	byClient := make(map[string]store.Delivery, len(dels))
	for _, d := range dels {
		byClient[d.ClientID] = d
	}
	return byClient
}
