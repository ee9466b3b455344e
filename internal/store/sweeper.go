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

// Once runs one sweep in one transaction. Every instance runs a Sweeper;
// one that finds another sweeping leaves it to that one.
func (s *Sweeper) Once(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var n int64
	err := s.Store.InTx(ctx, func(tx Tx) error {
		ok, err := tx.TryLock(ctx, "sweep")
		if err != nil || !ok {
			return err
		}
		n, err = tx.Sweep(ctx, s.Now())
		return err
	})
	switch {
	case err != nil && ctx.Err() == nil:
		s.Logger.WarnContext(ctx, "sweep failed", "err", err)
	case n > 0:
		s.Logger.InfoContext(ctx, "swept expired rows", "rows", n)
	}
}
