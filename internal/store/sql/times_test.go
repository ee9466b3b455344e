package sql

import (
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// putAccount stores an account with the given times.
func putAccount(t *testing.T, s *Store, id string, created, updated time.Time) error {
	t.Helper()
	ctx := t.Context()
	return s.InTx(ctx, store.Durable, func(tx store.Tx) error {
		return tx.UpsertAccount(ctx, store.Account{ID: id, Username: id, CreatedAt: created, UpdatedAt: updated})
	})
}

// TestTimesComeBackInUTC: a time comes back in UTC whatever zone it went
// in with, to the nanosecond on SQLite (unix nanoseconds) and truncated to
// the microsecond on PostgreSQL (timestamptz; the shared suite asks for no
// more); the Unix epoch is a time like any other, not the zero time, and
// a time before it truncates downwards too.
func TestTimesComeBackInUTC(t *testing.T) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	in := time.Date(2026, 3, 14, 20, 39, 26, 535_897_932, zone)
	old := time.Date(1901, 2, 3, 4, 5, 6, 999_999_999, time.UTC)
	epoch := time.Unix(0, 0)
	precision := map[dialect]time.Duration{sqliteDialect: time.Nanosecond, postgresDialect: time.Microsecond}
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openTest(t, d, Options{})
		ctx := t.Context()
		if err := putAccount(t, s, "a", in, epoch); err != nil {
			t.Fatal(err)
		}
		if err := putAccount(t, s, "b", old, time.Time{}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Account(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if want := in.Truncate(precision[d]).UTC(); got.CreatedAt != want {
			t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
		}
		if !got.UpdatedAt.Equal(epoch) || got.UpdatedAt.IsZero() || got.UpdatedAt.Location() != time.UTC {
			t.Errorf("UpdatedAt = %v, want the epoch in UTC", got.UpdatedAt)
		}
		got, err = s.Account(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		if want := old.Truncate(precision[d]); got.CreatedAt != want || !got.UpdatedAt.IsZero() {
			t.Errorf("CreatedAt, UpdatedAt = %v, %v; want %v and the zero time", got.CreatedAt, got.UpdatedAt, want)
		}
	})
}

// TestTimesOutOfRangeAreRefused: on SQLite a time int64 nanoseconds
// cannot hold is an error, not a silently wrapped date.
func TestTimesOutOfRangeAreRefused(t *testing.T) {
	s := openTest(t, sqliteDialect, Options{})
	for _, tm := range []time.Time{
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if err := putAccount(t, s, "a", tm, time.Time{}); err == nil {
			t.Errorf("storing %v succeeded", tm)
		}
	}
}
