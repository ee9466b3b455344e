package sql

import (
	"errors"
	"strings"
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
				tx.EnqueueDeliveries(ctx, store.Delivery{ID: "d1"}),
				tx.CreateClient(ctx, store.Client{ID: "c1"}))
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
				"client with a taken id":        tx.CreateClient(ctx, store.Client{ID: "c1"}),
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

// TestPostgresTransactionOpensWithItsFirstStatement: a PostgreSQL
// transaction's BEGIN goes with its first statement (pgTx), and whatever
// that statement does, the transaction ends cleanly and its connection
// serves the next one. The pool holds one connection, so every
// transaction here runs on the one the previous left.
func TestPostgresTransactionOpensWithItsFirstStatement(t *testing.T) {
	s, err := Open(t.Context(), withParam(t, freshURL(t, postgresDialect), "pool_max_conns", "1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	raw := func(stx store.Tx) querier { return stx.(*tx).q }
	boom := errors.New("boom")

	if err := s.InTx(ctx, store.Routine, func(store.Tx) error { return nil }); err != nil {
		t.Errorf("a transaction that ran nothing: %v", err)
	}
	if err := s.InTx(ctx, store.Durable, func(store.Tx) error { return boom }); !errors.Is(err, boom) || strings.Contains(err.Error(), "rollback") {
		t.Errorf("a transaction that ran nothing and failed: %v, want boom alone", err)
	}
	// A first statement the server refuses: the transaction rolls back.
	err = s.InTx(ctx, store.Routine, func(tx store.Tx) error {
		_, err := raw(tx).exec(ctx, "SELECT 1 / 0")
		return err
	})
	if err == nil || strings.Contains(err.Error(), "rollback") {
		t.Errorf("a first statement the server refused: %v, want its error alone", err)
	}
	// The same, its error ignored: the commit reports what the server did.
	err = s.InTx(ctx, store.Routine, func(tx store.Tx) error {
		_, _ = raw(tx).exec(ctx, "SELECT 1 / 0")
		return nil
	})
	if err == nil {
		t.Error("a commit after a refused statement reported no error")
	}
	// A first statement that finds nothing, then a write: both in the
	// transaction, which commits with the durability it asked for.
	err = s.InTx(ctx, store.Routine, func(tx store.Tx) error {
		if _, err := tx.Account(ctx, "a1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("first statement, a missing account: %v, want ErrNotFound", err)
		}
		var setting string
		if err := raw(tx).queryRow(ctx, "SHOW synchronous_commit").Scan(&setting); err != nil || setting != "off" {
			t.Errorf("a routine transaction's synchronous_commit: %q, %v; want off", setting, err)
		}
		return tx.UpsertAccount(ctx, store.Account{ID: "a1", Username: "alice"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account(ctx, "a1"); err != nil {
		t.Errorf("the account the transaction wrote: %v", err)
	}
	// A first statement whose rows are read to the end, then another.
	err = s.InTx(ctx, store.Durable, func(tx store.Tx) error {
		if _, err := tx.SearchAccounts(ctx, store.AccountSearch{Limit: 10}); err != nil {
			return err
		}
		return tx.UpsertAccount(ctx, store.Account{ID: "a2", Username: "bob"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account(ctx, "a2"); err != nil {
		t.Errorf("the account written after a listing: %v", err)
	}
}
