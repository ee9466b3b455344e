package backchannel

import (
	"context"
	"sync"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// LeaseFor is how long an attempt holds its delivery: the attempt timeout
// plus as much again for signing, recording and a slow database. If the
// instance dies mid-attempt, the delivery is claimed again when the lease
// ends, so every delivery pending at a crash is attempted again within
// LeaseFor plus one PollEvery of a restart (B3).
const LeaseFor = 2 * Timeout

// PollEvery is how often a Worker looks for due deliveries when nothing
// woke it. It bounds how late a retry comes, and how soon after a crash
// another instance takes up the deliveries whose lease ended.
const PollEvery = time.Second

// Worker runs the queue (B3): it claims due deliveries from the store
// with a lease and attempts them, at most Concurrency at once. Every
// instance runs one; leases keep two from sending one delivery at once,
// and on PostgreSQL SKIP LOCKED keeps their claims apart.
type Worker struct {
	Deliverer   *Deliverer
	Concurrency int
	wake        chan struct{}
	// poll replaces PollEvery in tests (export_test.go); zero is
	// PollEvery, which B2's first retry and B3's recovery bounds count on.
	poll time.Duration
}

// NewWorker returns a Worker for d running up to concurrency attempts.
func NewWorker(d *Deliverer, concurrency int) *Worker {
	return &Worker{Deliverer: d, Concurrency: max(1, concurrency), wake: make(chan struct{}, 1)}
}

// Wake makes the worker look for due deliveries now rather than at its
// next poll: an admin's retry, or a NOTIFY from another instance.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run claims and attempts due deliveries until ctx ends, then waits for
// the attempts under way (each bounded by Timeout) so their outcomes are
// recorded.
func (w *Worker) Run(ctx context.Context) {
	d := w.Deliverer
	slots := make(chan struct{}, w.Concurrency)
	var attempts sync.WaitGroup
	defer attempts.Wait()
	// An attempt under way finishes and records its outcome even when
	// the worker is stopping.
	bg := context.WithoutCancel(ctx)
	every := PollEvery
	if w.poll > 0 {
		every = w.poll
	}
	poll := time.NewTicker(every)
	defer poll.Stop()
	for {
		if free := cap(slots) - len(slots); free > 0 && ctx.Err() == nil {
			dels, err := w.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				d.Logger.WarnContext(ctx, "claim due back-channel logouts", "err", err)
			}
			for _, del := range dels {
				slots <- struct{}{}
				attempts.Go(func() {
					defer func() {
						// A worker that found more due than it had room for
						// looks again as soon as there is room.
						full := len(slots) == cap(slots)
						<-slots
						if full {
							w.Wake()
						}
					}()
					if err := d.attempt(bg, del, nil); err != nil {
						d.Logger.WarnContext(bg, "back-channel logout attempt", "jti", del.ID, "err", err)
					}
				})
			}
			if len(dels) == free {
				continue // more may be due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-poll.C:
		}
	}
}

// claim leases up to n due deliveries. Routine: a claim lost to a power
// cut is claimed again.
func (w *Worker) claim(ctx context.Context, n int) ([]store.Delivery, error) {
	d := w.Deliverer
	now := d.queueNow()
	var dels []store.Delivery
	err := d.Store.InTx(ctx, store.Routine, func(tx store.Tx) error {
		var err error
		dels, err = tx.ClaimDeliveries(ctx, now, now.Add(LeaseFor), n)
		return err
	})
	return dels, err
}
