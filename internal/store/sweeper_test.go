package store_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

// The sweeper keeps audit entries for AuditRetention, 90 days unless told
// otherwise (design §2, retention), and deletes the older ones however
// many there are, a batch at a time.
func TestSweeperKeepsTheAuditLogForItsRetention(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		name      string
		retention time.Duration
		kept      int
	}{
		{"default of 90 days", 0, 2}, // the entries of 89 and 30 days ago
		{"30 days", 30 * day, 1},     // exactly 30 days old: not older
		{"a year", 365 * day, 2 + 3*store.SweepBatch + 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sqltest.Open(t)
			ages := []time.Duration{30 * day, 89 * day, 91 * day, 200 * day}
			for i := range 3 * store.SweepBatch { // several batches' worth
				ages = append(ages, 100*day+time.Duration(i)*time.Minute)
			}
			err := s.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
				for _, age := range ages {
					if err := tx.AddAuditEntry(t.Context(), store.AuditEntry{At: now.Add(-age), ActorKind: "system", Action: "account.update"}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sw := &store.Sweeper{Store: s, AuditRetention: c.retention, Now: func() time.Time { return now },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			sw.Once(t.Context())
			left, err := s.AuditEntries(t.Context(), store.AuditFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != c.kept {
				t.Errorf("%d entries kept, want %d", len(left), c.kept)
			}
			retention := c.retention
			if retention == 0 {
				retention = store.DefaultAuditRetention
			}
			for _, e := range left {
				if e.At.Before(now.Add(-retention)) {
					t.Errorf("an entry of %v survived", e.At)
				}
			}
		})
	}
}
