package backchannel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/sesame-id/sesame/internal/store"
)

// Worker is the durable job behind every delivery (B3). It runs on every
// instance; the lease in the database keeps two from sending one delivery
// at once.
type Worker struct {
	river.WorkerDefaults[store.DeliveryJob]
	Deliverer *Deliverer
}

// Timeout bounds one job run: the attempt, and recording it.
func (w *Worker) Timeout(*river.Job[store.DeliveryJob]) time.Duration { return 3 * Timeout }

// busyRecheck is how soon a job looks again at a delivery another attempt
// holds: short, so the retry after a failed first attempt comes within 2 s
// (B2).
const busyRecheck = 500 * time.Millisecond

// Work makes one attempt and tells River when to come back. Retries are
// snoozes, which River does not count, so River's own attempt count and
// retry policy play no part: the delivery row is the record. A job that
// finds the first attempt under way (the lease) looks again shortly and
// retries once it failed: the first retry comes within 2 s (B2), the next
// ones after Backoff.
func (w *Worker) Work(ctx context.Context, job *river.Job[store.DeliveryJob]) error {
	id := job.Args.DeliveryID
	d := w.Deliverer
	del, err := d.Store.Delivery(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return river.JobCancel(fmt.Errorf("delivery %s no longer exists", id))
	case err != nil:
		return river.JobSnooze(time.Second) // the database hiccuped: try again soon
	case del.State != store.DeliveryPending:
		return nil
	}
	out, del, err := d.Attempt(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return river.JobCancel(fmt.Errorf("delivery %s no longer exists", id))
	case err != nil:
		return river.JobSnooze(time.Second)
	}
	switch out {
	case Retry:
		return river.JobSnooze(Backoff(del.Attempts))
	case Busy:
		if del.State == store.DeliveryPending {
			return river.JobSnooze(busyRecheck)
		}
	}
	return nil
}

// Start runs the delivery workers on the store's job queue until stopped.
func Start(ctx context.Context, jobs store.Jobs, d *Deliverer, workers int) (stop func(context.Context) error, err error) {
	ws := river.NewWorkers()
	if err := river.AddWorkerSafely(ws, &Worker{Deliverer: d}); err != nil {
		return nil, fmt.Errorf("register delivery worker: %w", err)
	}
	return jobs.StartJobs(ctx, &river.Config{
		// A job whose instance died mid-attempt is taken up again soon: an
		// attempt never takes more than a few seconds.
		RescueStuckJobsAfter: 20 * time.Second,
		JobTimeout:           3 * Timeout,
		Workers:              ws,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Logger:               d.Logger,
	})
}
