package store

import (
	"context"
	"log/slog"
	"time"
)

// Sweeper deletes expired rows in the background, so the database does not
// grow without bound (docs/architecture.md, "Lifetimes").
type Sweeper struct {
	Store    Store
	Interval time.Duration
	// AuditRetention is how long the audit log, events, sign-out receipts
	// and finished deliveries are kept (the audit_retention key); zero or
	// less is DefaultAuditRetention, so a Sweeper that is not told never
	// empties the log.
	AuditRetention time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
}

// DefaultAuditRetention is how long the audit log, events and receipts
// are kept unless the Sweeper is told otherwise: 90 days.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Run sweeps once at start and then every Interval, until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		s.Once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepBatch is how many rows one sweep transaction deletes at most: small
// enough that a batch holds SQLite's one writer for a few milliseconds
// (at most 10 ms), so requests go on between batches. Rows are found by
// random keys (ids, hashes), so each deleted row writes pages of its own
// in every index: 200 expired sessions wrote some 430 pages and held the
// writer 20-40 ms (BenchmarkSweepBatch: p50 24-40 ms; 64 rows, p99 13 ms
// among 200,000 live sessions); 32 rows keep a batch of the costliest
// kind within the bound and still sweep thousands of rows a second.
const SweepBatch = 32

// Once sweeps everything due, in batches of SweepBatch rows, each in a
// transaction of its own: first the rows that expired, the events,
// receipts and finished deliveries older than AuditRetention and the
// hourly counters older than CounterRetention (Tx.Sweep), then audit
// entries older than AuditRetention. Every instance runs a Sweeper;
// one that finds another sweeping leaves the batch to that one.
func (s *Sweeper) Once(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	now := s.Now()
	retention := s.AuditRetention
	if retention <= 0 {
		retention = DefaultAuditRetention
	}
	total, err := s.batches(ctx, func(tx Tx) (int64, error) { return tx.Sweep(ctx, now, retention, SweepBatch) })
	if err == nil {
		var n int64
		n, err = s.batches(ctx, func(tx Tx) (int64, error) {
			return tx.SweepAuditLog(ctx, now.Add(-retention), SweepBatch)
		})
		total += n
	}
	if err != nil && ctx.Err() == nil {
		s.Logger.WarnContext(ctx, "sweep failed", "err", err)
	}
	if total > 0 {
		s.Logger.InfoContext(ctx, "swept expired rows", "rows", total)
	}
}

// batches runs sweep, one batch per transaction under the sweep lock,
// until a batch deletes fewer than SweepBatch rows, and returns how many
// rows went.
func (s *Sweeper) batches(ctx context.Context, sweep func(tx Tx) (int64, error)) (int64, error) {
	var total int64
	for {
		var n int64
		// Routine: a lost batch only leaves rows that can no longer be
		// used for the next sweep.
		err := s.Store.InTx(ctx, Routine, func(tx Tx) error {
			ok, err := tx.TryLock(ctx, "sweep")
			if err != nil || !ok {
				return err
			}
			n, err = sweep(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < SweepBatch {
			return total, nil
		}
	}
}
