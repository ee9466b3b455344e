package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/postgres/pgtest"
	"github.com/sesame-id/sesame/internal/store/storetest"
)

// openTest opens a Store on a fresh database and closes it when t ends
// (before the database is dropped: cleanups run last registered first).
func openTest(t testing.TB) *Store {
	t.Helper()
	dbURL := pgtest.FreshDB(t)
	s, err := Open(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the store suite on PostgreSQL, each sub-test on a
// database of its own.
func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	var opened atomic.Int64
	start := time.Now()
	storetest.Run(t, func(t *testing.T) store.Store {
		opened.Add(1)
		return openTest(t)
	})
	t.Logf("%d conformance sub-tests ran on PostgreSQL in %v", opened.Load(), time.Since(start).Round(time.Millisecond))
}

// TestOpenRefusesOtherURLs: only postgres:// and postgresql:// URLs are
// PostgreSQL's; anything else is refused before a connection is tried.
func TestOpenRefusesOtherURLs(t *testing.T) {
	for _, u := range []string{"sqlite://sesame.db", "mysql://localhost/sesame", "", "host=localhost dbname=sesame"} {
		if _, err := Open(t.Context(), u); err == nil || !strings.Contains(err.Error(), "postgres://") {
			t.Errorf("Open(%q) = %v, want it refused", u, err)
		}
	}
}

// TestOpenFailsOnUnreachableServer: a server that does not answer is an
// error from Open, not from the first request.
func TestOpenFailsOnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens, the connection is refused.
	_, err := Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("Open of an unreachable server = %v, want a connect error", err)
	}
}

// TestPoolSize: the pool is sized for a server unless the URL says
// otherwise.
func TestPoolSize(t *testing.T) {
	dbURL := pgtest.FreshDB(t)
	s, err := Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.pool.Config().MaxConns, defaultMaxConns(); got != want {
		t.Errorf("default pool: %d connections, want %d", got, want)
	}
	s2, err := Open(t.Context(), dbURL+"&pool_max_conns=3")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := s2.pool.Config().MaxConns; got != 3 {
		t.Errorf("pool_max_conns=3: %d connections", got)
	}
}

// TestInstancesStartingAtOnceMigrateOnce: several instances opening one
// new database at the same moment all succeed, and each migration is
// applied once (the advisory lock), River's included.
func TestInstancesStartingAtOnceMigrateOnce(t *testing.T) {
	dbURL := pgtest.FreshDB(t)
	const instances = 4
	stores := make([]*Store, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dbURL) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	var applied, distinct int
	err := stores[0].pool.QueryRow(t.Context(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if applied != distinct || applied == 0 {
		t.Errorf("goose recorded %d migrations, %d distinct: want each once", applied, distinct)
	}
	var riverTables int
	err = stores[0].pool.QueryRow(t.Context(),
		`SELECT count(*) FROM information_schema.tables WHERE table_name = 'river_job'`).Scan(&riverTables)
	if err != nil || riverTables != 1 {
		t.Errorf("river_job tables: %d, %v; want 1", riverTables, err)
	}
}

// TestReopenMigratesIdempotently: opening a database that is already up to
// date (a restart, `sesame migrate` then `sesame serve`) changes nothing
// and loses nothing.
func TestReopenMigratesIdempotently(t *testing.T) {
	ctx := t.Context()
	dbURL := pgtest.FreshDB(t)
	s, err := Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.UpsertAccount(ctx, store.Account{ID: "a1", Username: "alice"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate an up-to-date database: %v", err)
	}
	s.Close()
	for range 2 {
		s, err = Open(ctx, dbURL)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if _, err := s.Account(ctx, "a1"); err != nil {
			t.Errorf("account after reopen: %v", err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("ping: %v", err)
		}
		s.Close()
	}
}

// TestExpectedErrorsLeaveTheTransactionUsable: a conflict or a missing
// session inside a transaction is an error the caller may handle and go
// on, as on SQLite; PostgreSQL would abort the transaction on a raised
// constraint violation, so the backend must not raise one.
func TestExpectedErrorsLeaveTheTransactionUsable(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	err := s.InTx(ctx, func(tx store.Tx) error {
		return errors.Join(
			tx.UpsertAccount(ctx, store.Account{ID: "a1", Username: "alice"}),
			tx.CreateGrant(ctx, store.Grant{ID: "g1", AccountID: "a1", ClientID: "app"}),
			tx.CreateSession(ctx, store.Session{ID: "s1", CookieHash: []byte("cookie"), AccountID: "a1"}),
			tx.CreateLogoutRequest(ctx, store.LogoutRequest{XSRFHash: []byte("x1")}),
			tx.CreateReceipt(ctx, store.Receipt{ID: "r1"}))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		for what, err := range map[string]error{
			"account with a taken username": tx.UpsertAccount(ctx, store.Account{ID: "a2", Username: "alice"}),
			"grant with a taken id":         tx.CreateGrant(ctx, store.Grant{ID: "g1", AccountID: "a1", ClientID: "app"}),
			"session with a taken cookie":   tx.CreateSession(ctx, store.Session{ID: "s2", CookieHash: []byte("cookie")}),
			"logout request, taken hash":    tx.CreateLogoutRequest(ctx, store.LogoutRequest{XSRFHash: []byte("x1")}),
			"receipt with a taken id":       tx.CreateReceipt(ctx, store.Receipt{ID: "r1"}),
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
}

// TestConcurrentLogoutRequestsLeaveOneConfirmable: confirm pages of one
// session opened at the same moment (two tabs) leave exactly one request
// that can be confirmed (O3), where on SQLite the one writer orders them.
func TestConcurrentLogoutRequestsLeaveOneConfirmable(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	const pages = 16
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() {
			err := s.InTx(ctx, func(tx store.Tx) error {
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
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM logout_requests WHERE session_id = 's1'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d confirmable requests for one session, want 1", n)
	}
}

// TestTimesKeepMicroseconds: PostgreSQL keeps microseconds, so a time
// comes back truncated to the microsecond (the shared suite asks for no
// more), in UTC whatever zone it went in with; the Unix epoch is a time
// like any other, not the zero time.
func TestTimesKeepMicroseconds(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	in := time.Date(2026, 3, 14, 20, 39, 26, 535_897_932, zone)
	old := time.Date(1901, 2, 3, 4, 5, 6, 999_999_999, time.UTC) // before the epoch: truncation still rounds down
	epoch := time.Unix(0, 0)
	err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.UpsertAccount(ctx, store.Account{ID: "a", Username: "a", CreatedAt: in, UpdatedAt: epoch})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.UpsertAccount(ctx, store.Account{ID: "b", Username: "b", CreatedAt: old})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if want := in.Truncate(time.Microsecond).UTC(); got.CreatedAt != want {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
	}
	if !got.UpdatedAt.Equal(epoch) || got.UpdatedAt.IsZero() {
		t.Errorf("UpdatedAt = %v, want the epoch", got.UpdatedAt)
	}
	got, err = s.Account(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if want := old.Truncate(time.Microsecond); got.CreatedAt != want || !got.UpdatedAt.IsZero() {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v and the zero time", got.CreatedAt, got.UpdatedAt, want)
	}
}

// TestJobsDueNowAreAvailable: a delivery's job due now is inserted
// available, so a NOTIFY on commit sends it to a worker at once; given a
// ScheduledAt, River would insert it scheduled and leave it for the
// leader's scheduler, seconds later. A job due later is scheduled.
func TestJobsDueNowAreAvailable(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	now := time.Now()
	err := s.InTx(ctx, func(tx store.Tx) error {
		return errors.Join(
			tx.EnqueueDelivery(ctx, store.Delivery{ID: "now", CreatedAt: now}, now),
			tx.EnqueueDelivery(ctx, store.Delivery{ID: "past", CreatedAt: now}, now.Add(-time.Minute)),
			tx.EnqueueDelivery(ctx, store.Delivery{ID: "later", CreatedAt: now}, now.Add(time.Hour)))
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT args->>'delivery_id', state::text, max_attempts FROM river_job`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var id, state string
		var attempts int
		if err := rows.Scan(&id, &state, &attempts); err != nil {
			t.Fatal(err)
		}
		got[id] = state
		if attempts != store.MaxJobAttempts {
			t.Errorf("job %s: max_attempts %d, want %d", id, attempts, store.MaxJobAttempts)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"now": "available", "past": "available", "later": "scheduled"}
	if len(got) != len(want) {
		t.Errorf("jobs %v, want %v", got, want)
	}
	for id, state := range want {
		if got[id] != state {
			t.Errorf("job of %s is %q, want %q", id, got[id], state)
		}
	}
}

// An idle watch pings and keeps its connection: it does not reconnect
// (which would flush every instance's caches with a ChangeAll) each time
// it has heard nothing for a while, and it still hears changes after.
func TestIdleWatchKeepsItsConnection(t *testing.T) {
	s := openTest(t)
	old := watchIdle
	watchIdle = 100 * time.Millisecond
	t.Cleanup(func() { watchIdle = old })
	ctx, cancel := context.WithCancel(t.Context())
	var all, clients atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, func(c store.Change) {
			switch c.Kind {
			case store.ChangeAll:
				all.Add(1)
			case store.ChangeClient:
				clients.Add(1)
			}
		})
	}()
	time.Sleep(1500 * time.Millisecond) // many idle periods
	if err := s.InTx(t.Context(), func(tx store.Tx) error {
		return tx.UpsertClient(t.Context(), store.Client{ID: "c", Type: "m2m", CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for clients.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := all.Load(); n != 1 {
		t.Errorf("%d ChangeAll over idle periods, want 1 (only when it started listening)", n)
	}
	if clients.Load() != 1 {
		t.Errorf("the change after the idle periods was heard %d times, want 1", clients.Load())
	}
}
