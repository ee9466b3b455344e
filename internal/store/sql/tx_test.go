package sql

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// TestExpectedErrorsLeaveTheTransactionUsable: a conflict or a missing
// session inside a transaction is an error the caller may handle and go
// on. PostgreSQL aborts the whole transaction on a raised constraint
// violation, so the store must not raise one (insertNew, the EXISTS of
// PutAuthorization); SQLite must agree.
func TestExpectedErrorsLeaveTheTransactionUsable(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openTest(t, d, Options{})
		ctx := t.Context()
		err := s.InTx(ctx, store.Durable, func(tx store.Tx) error {
			return errors.Join(
				tx.UpsertAccount(ctx, store.Account{ID: "a1", Username: "alice"}),
				tx.CreateGrant(ctx, store.Grant{ID: "g1", AccountID: "a1", ClientID: "app"}),
				tx.CreateSession(ctx, store.Session{ID: "s1", CookieHash: []byte("cookie"), AccountID: "a1"}),
				tx.CreateLogoutRequest(ctx, store.LogoutRequest{XSRFHash: []byte("x1")}),
				tx.CreateReceipt(ctx, store.Receipt{ID: "r1"}),
				tx.EnqueueDeliveries(ctx, store.Delivery{ID: "d1"}))
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, store.Durable, func(tx store.Tx) error {
			for what, err := range map[string]error{
				"account with a taken username": tx.UpsertAccount(ctx, store.Account{ID: "a2", Username: "alice"}),
				"grant with a taken id":         tx.CreateGrant(ctx, store.Grant{ID: "g1", AccountID: "a1", ClientID: "app"}),
				"session with a taken cookie":   tx.CreateSession(ctx, store.Session{ID: "s2", CookieHash: []byte("cookie")}),
				"logout request, taken hash":    tx.CreateLogoutRequest(ctx, store.LogoutRequest{XSRFHash: []byte("x1")}),
				"receipt with a taken id":       tx.CreateReceipt(ctx, store.Receipt{ID: "r1"}),
				"delivery with a taken id":      tx.EnqueueDeliveries(ctx, store.Delivery{ID: "d1"}),
			} {
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("%s: %v, want ErrConflict", what, err)
				}
			}
			if err := tx.PutAuthorization(ctx, store.Authorization{SessionID: "none", ClientID: "app"}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("authorization in a missing session: %v, want ErrNotFound", err)
			}
			// The transaction goes on and commits.
			return tx.UpsertAccount(ctx, store.Account{ID: "a2", Username: "bob"})
		})
		if err != nil {
			t.Fatalf("transaction after handled errors: %v", err)
		}
		if _, err := s.Account(ctx, "a2"); err != nil {
			t.Errorf("account written after handled errors: %v", err)
		}
	})
}

// TestConcurrentLogoutRequestsLeaveOneConfirmable: confirm pages of one
// session opened at the same moment (two tabs) leave exactly one request
// that can be confirmed (O3): PostgreSQL's transactions run side by side,
// SQLite's one writer orders them.
func TestConcurrentLogoutRequestsLeaveOneConfirmable(t *testing.T) {
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openTest(t, d, Options{})
		ctx := t.Context()
		const pages = 16
		var wg sync.WaitGroup
		for i := range pages {
			wg.Go(func() {
				err := s.InTx(ctx, store.Routine, func(tx store.Tx) error {
					return tx.CreateLogoutRequest(ctx, store.LogoutRequest{
						XSRFHash: []byte{byte(i)}, SessionID: "s1", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
				})
				if err != nil {
					t.Errorf("page %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var n int
		if err := s.q.queryRow(ctx, `SELECT count(*) FROM logout_requests WHERE session_id = 's1'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d confirmable requests for one session, want 1", n)
		}
	})
}
