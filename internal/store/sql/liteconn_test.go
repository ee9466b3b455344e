package sql

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// openLiteTest opens a bare engine with a scratch table: what the store's
// operations stand on, below them.
func openLiteTest(t *testing.T) *liteEngine {
	t.Helper()
	e, err := openSQLite(t.Context(), filepath.Join(t.TempDir(), "lite.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.close() })
	tx, err := e.begin(t.Context(), store.Routine)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.exec(t.Context(), `CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT, n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := tx.exec(t.Context(), `INSERT INTO kv (k, v, n) VALUES ($1, $2, $3)`, i, nil, i*10); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

// A statement run again while rows of it are still open gets a statement
// of its own, and the open rows go on undisturbed.
func TestLiteStatementReusedWhileItsRowsAreOpen(t *testing.T) {
	e := openLiteTest(t)
	ctx := t.Context()
	tx, err := e.begin(ctx, store.Routine)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.rollback(ctx)
	const q = `SELECT k, n FROM kv WHERE k >= $1 ORDER BY k`
	outer, err := tx.query(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for outer.Next() {
		var k, n int64
		if err := outer.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		var inner int64
		if err := tx.queryRow(ctx, q, 2).Scan(&inner, new(int64)); err != nil {
			t.Fatal(err)
		}
		got = append(got, k, inner)
	}
	outer.Close()
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{0, 2, 1, 2, 2, 2}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// Scan stores into what database/sql would: a pointer for a nullable
// column, a type of the store's own by its kind; a row that is not there
// is store.ErrNotFound.
func TestLiteScanDestinations(t *testing.T) {
	e := openLiteTest(t)
	ctx := t.Context()
	type state string
	var (
		v  *string
		n  *int64
		st state
		i  int
		b  bool
	)
	if err := e.reads().queryRow(ctx, `SELECT v, n, 'held', n, n FROM kv WHERE k = 1`).Scan(&v, &n, &st, &i, &b); err != nil {
		t.Fatal(err)
	}
	if v != nil || n == nil || *n != 10 || st != "held" || i != 10 || !b {
		t.Errorf("scanned %v %v %q %d %v", v, n, st, i, b)
	}
	var s string
	if err := e.reads().queryRow(ctx, `SELECT v FROM kv WHERE k = 1`).Scan(&s); err == nil {
		t.Error("NULL scanned into a string")
	}
	if err := e.reads().queryRow(ctx, `SELECT v FROM kv WHERE k = 9`).Scan(&v); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing row: %v, want ErrNotFound", err)
	}
	if err := e.reads().queryRow(ctx, `SELECT k, n FROM kv WHERE k = 1`).Scan(&i); err == nil {
		t.Error("two columns scanned into one destination")
	}
}

// The writer is one connection: a second transaction waits for the
// first, and gives up when its context ends; a closed engine answers
// every caller, even one that was waiting.
func TestLiteWriterIsOneConnection(t *testing.T) {
	e := openLiteTest(t)
	ctx := t.Context()
	tx, err := e.begin(ctx, store.Routine)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := e.begin(short, store.Routine); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second writer: %v, want it to wait and time out", err)
	}
	if err := tx.rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// A failed transaction left nothing open: the next one begins.
	tx, err = e.begin(ctx, store.Durable)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO kv (k) VALUES (1)`); err == nil {
		t.Error("a duplicate key was inserted")
	}
	if err := tx.commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.readers.close(); err != nil {
		t.Fatal(err)
	}
	if err := e.reads().queryRow(ctx, `SELECT 1`).Scan(new(int64)); !errors.Is(err, errClosed) {
		t.Errorf("read after close: %v, want errClosed", err)
	}
}
