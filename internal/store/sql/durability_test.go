package sql

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sesame-id/sesame/internal/store"
)

// TestConnectionsAreConfigured: the SQLite writer is in WAL mode with
// foreign keys on, a new database has 2 KiB pages, there is one writer
// connection, and the readers refuse to write.
func TestConnectionsAreConfigured(t *testing.T) {
	s := openTest(t, sqliteDialect, Options{})
	e := s.e.(*liteEngine)
	ctx := t.Context()
	for _, c := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"page_size", "2048"},
	} {
		var got string
		if err := e.onWriter(ctx, func(c2 *liteConn, ctx context.Context) error {
			return c2.queryText(ctx, "PRAGMA "+c.pragma, &got)
		}); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("writer PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	if n := len(e.writer.all); n != 1 {
		t.Errorf("writer pool has %d connections, want 1", n)
	}
	if _, err := e.reads().exec(ctx, `DELETE FROM accounts`); err == nil {
		t.Error("a reader connection wrote")
	}
}

// TestDatabaseCreatedWithOtherPagesKeepsThem: a database made before new
// ones had 2 KiB pages (SQLite's 4 KiB) opens, migrates and serves with its
// own page size: the pragma that sets it for new files is ignored there,
// not an error.
func TestDatabaseCreatedWithOtherPagesKeepsThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := openPool(t.Context(), path, "_pragma=page_size(4096)&_journal_mode=WAL", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(t.Context(), "CREATE TABLE made_before (a INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), "sqlite://"+path, Options{})
	if err != nil {
		t.Fatalf("open a database with 4 KiB pages: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
		return tx.UpsertAccount(t.Context(), store.Account{ID: "a", Username: "a"})
	}); err != nil {
		t.Fatalf("write: %v", err)
	}
	var size string
	if err := s.e.(*liteEngine).onWriter(t.Context(), func(c *liteConn, ctx context.Context) error {
		return c.queryText(ctx, "PRAGMA page_size", &size)
	}); err != nil {
		t.Fatal(err)
	}
	if size != "4096" {
		t.Errorf("page_size = %s after opening, want the file's 4096", size)
	}
}

// durabilitySetting reads, inside a transaction of durability d, the
// setting that makes its commit wait for the disk: SQLite's synchronous
// (1 NORMAL, 2 FULL) or PostgreSQL's synchronous_commit (on, off). It is
// read through the transaction's own querier, so on its connection. On
// SQLite through the pragma's table-valued function: a prepared "PRAGMA
// synchronous" holds the value of when it was prepared, and the querier
// caches its statements.
func durabilitySetting(t *testing.T, s *Store, d store.Durability) string {
	t.Helper()
	ctx := t.Context()
	query := "SELECT synchronous FROM pragma_synchronous"
	if s.d == postgresDialect {
		query = "SHOW synchronous_commit"
	}
	var got string
	err := s.InTx(ctx, d, func(stx store.Tx) error {
		// Something to commit, so the setting has a commit to act on.
		if err := stx.UpsertAccount(ctx, store.Account{ID: "a", Username: "a"}); err != nil {
			return err
		}
		return stx.(*tx).q.queryRow(ctx, query).Scan(&got)
	})
	if err != nil {
		t.Fatalf("transaction: %v", err)
	}
	return got
}

// TestDurabilityOfEachTransaction: a transaction commits as durably as it
// says (design §2): a routine one with SQLite's synchronous=NORMAL or
// PostgreSQL's synchronous_commit=off, a durable one with FULL or on, in
// whatever order they come on one store; the strict durability key makes
// routine ones durable too.
func TestDurabilityOfEachTransaction(t *testing.T) {
	want := map[dialect]map[store.Durability]string{
		sqliteDialect:   {store.Routine: "1", store.Durable: "2"},
		postgresDialect: {store.Routine: "off", store.Durable: "on"},
	}
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openTest(t, d, Options{})
		// Durable, routine, routine, durable, routine: each change of
		// setting, and each repetition, on the one store.
		for i, dur := range []store.Durability{store.Durable, store.Routine, store.Routine, store.Durable, store.Routine} {
			if got := durabilitySetting(t, s, dur); got != want[d][dur] {
				t.Errorf("transaction %d (%s): setting %s, want %s", i, name(dur), got, want[d][dur])
			}
		}
		// A read outside any transaction after a routine one still sees
		// its commit.
		if _, err := s.Account(t.Context(), "a"); err != nil {
			t.Errorf("account after the transactions: %v", err)
		}

		strict := openTest(t, d, Options{Strict: true})
		for _, dur := range []store.Durability{store.Routine, store.Durable, store.Routine} {
			if got := durabilitySetting(t, strict, dur); got != want[d][store.Durable] {
				t.Errorf("strict store, %s transaction: setting %s, want %s (durable)", name(dur), got, want[d][store.Durable])
			}
		}
	})
}

// TestRoutineSettingStaysInItsTransaction: on PostgreSQL the routine
// setting is SET LOCAL: the pooled connection goes back with
// synchronous_commit on, so whatever else runs on it next commits
// durably.
func TestRoutineSettingStaysInItsTransaction(t *testing.T) {
	s := openTest(t, postgresDialect, Options{})
	ctx := t.Context()
	for range 3 {
		if got := durabilitySetting(t, s, store.Routine); got != "off" {
			t.Fatalf("routine transaction: synchronous_commit %s", got)
		}
	}
	// Every idle connection of the pool, those the routine transactions
	// ran on among them, says on outside a transaction.
	conns := s.e.(*pgEngine).pool.AcquireAllIdle(ctx)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	if len(conns) == 0 {
		t.Fatal("no idle connection to ask")
	}
	for _, c := range conns {
		var got string
		if err := c.QueryRow(ctx, "SHOW synchronous_commit").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != "on" {
			t.Errorf("a connection after routine transactions: synchronous_commit %s, want on", got)
		}
	}
}

func name(d store.Durability) string {
	if d == store.Routine {
		return "routine"
	}
	return "durable"
}
