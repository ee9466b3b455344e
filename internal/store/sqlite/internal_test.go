package sqlite

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConnectionsAreConfigured: the writer is in WAL mode with foreign
// keys on, and the readers refuse to write.
func TestConnectionsAreConfigured(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	for _, c := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := s.write.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("writer PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	if s.write.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", s.write.Stats().MaxOpenConnections)
	}
	if _, err := s.read.ExecContext(ctx, `DELETE FROM accounts`); err == nil {
		t.Error("a reader connection wrote")
	}
}

// TestTimesKeepNanoseconds: SQLite stores unix nanoseconds, so a time
// comes back to the nanosecond (the shared suite asks only for
// microseconds), in UTC, whatever zone it went in with.
func TestTimesKeepNanoseconds(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	in := time.Date(2026, 3, 14, 20, 39, 26, 535_897_932, zone)
	epoch := time.Unix(0, 0)
	err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.UpsertAccount(ctx, store.Account{ID: "a", Username: "a", CreatedAt: in, UpdatedAt: epoch})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != in.UTC() {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, in.UTC())
	}
	// The Unix epoch is a time like any other, not the zero time.
	if !got.UpdatedAt.Equal(epoch) || got.UpdatedAt.IsZero() {
		t.Errorf("UpdatedAt = %v, want the epoch", got.UpdatedAt)
	}
}

// TestTimesOutOfRangeAreRefused: a time int64 nanoseconds cannot hold is
// an error, not a silently wrapped date.
func TestTimesOutOfRangeAreRefused(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	for _, tm := range []time.Time{
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		err := s.InTx(ctx, func(tx store.Tx) error {
			return tx.UpsertAccount(ctx, store.Account{ID: "a", Username: "a", CreatedAt: tm})
		})
		if err == nil {
			t.Errorf("storing %v succeeded", tm)
		}
	}
}

// TestStatementsUseIndexes: every statement of the package finds its rows
// through an index, so none holds the write lock (or a reader) for a scan
// of a table that grows with use. The two small tables listed whole are
// the exception.
func TestStatementsUseIndexes(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	mayScan := map[string]bool{qClients: true, qSigningKeys: true}
	for _, q := range statements {
		if mayScan[q] {
			continue
		}
		// EXPLAIN needs no values, but the driver wants one per
		// parameter; NULL will do.
		rows, err := s.write.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, make([]any, paramCount(q))...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(detail, "SCAN") {
				t.Errorf("%s\n  plan: %s", q, detail)
			}
		}
		rows.Close()
	}
}

// paramCount is how many values q takes: one per bare ?, or the highest
// ?N.
func paramCount(q string) int {
	n := 0
	for _, m := range regexp.MustCompile(`\?(\d*)`).FindAllStringSubmatch(q, -1) {
		if m[1] == "" {
			n++
		} else if k, _ := strconv.Atoi(m[1]); k > n {
			n = k
		}
	}
	return n
}
