package store

import (
	"context"
	"log/slog"
	"time"
)

// Sweeper deletes expired rows in the background, so the database does not
// grow without bound (design §1 Lifetimes).
type Sweeper struct {
	Store    Store
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

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
// transaction of its own. Every instance runs a Sweeper; one that finds
// another sweeping leaves the batch to that one.
func (s *Sweeper) Once(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var total int64
	now := s.Now()
	for {
		var n int64
		// Routine: a lost batch only leaves rows that can no longer be
		// used for the next sweep.
		err := s.Store.InTx(ctx, Routine, func(tx Tx) error {
			ok, err := tx.TryLock(ctx, "sweep")
			if err != nil || !ok {
				return err
			}
			n, err = tx.Sweep(ctx, now, SweepBatch)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				s.Logger.WarnContext(ctx, "sweep failed", "err", err)
			}
			break
		}
		total += n
		if n < SweepBatch {
			break
		}
	}
	if total > 0 {
		s.Logger.InfoContext(ctx, "swept expired rows", "rows", total)
	}
}
