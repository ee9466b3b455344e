package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sesame-id/sesame/internal/store"
)

// The durable job queue (design B3) is River on its pgx driver, in this
// database, over the Store's pool. River's tables come from River's own
// migrations, which Migrate runs after Sesame's.

// jobs inserts the store's jobs.
type jobs struct {
	pool *pgxpool.Pool
	// inserter inserts jobs inside store transactions; it works none.
	inserter *river.Client[pgx.Tx]
}

// newJobs builds the insert-only client on the pool.
func newJobs(pool *pgxpool.Pool) (*jobs, error) {
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("postgres: job queue client: %w", err)
	}
	return &jobs{pool: pool, inserter: c}, nil
}

// insert adds the jobs to tx in one statement (River's batch insert).
func (j *jobs) insert(ctx context.Context, tx pgx.Tx, pending []store.PendingJob) error {
	if _, err := j.inserter.InsertManyTx(ctx, tx, store.JobInserts(pending, time.Now())); err != nil {
		return fmt.Errorf("insert %d delivery jobs: %w", len(pending), err)
	}
	return nil
}

// pollInterval is how often job clients look for due jobs when cfg does
// not say. LISTEN/NOTIFY announces new jobs due now, but not a job
// snoozed for a short while: River makes it available at once with a
// future time, announces nothing, and only a fetch finds it. A delivery's
// first retry is such a snooze (one second), due "within 2 s" (B2), which
// River's default poll of one second would miss; a quarter second keeps it
// on time for four small indexed queries a second per instance.
const pollInterval = 250 * time.Millisecond

// StartJobs starts a River client with cfg (its workers, queues, retry
// policy) on this database and returns its graceful Stop. Cancelling ctx
// stops it too, cancelling the jobs under way. cfg is not modified; a
// FetchPollInterval left zero is pollInterval.
//
// Stop every client before closing the Store: Close waits for the
// connections a running client holds.
func (s *Store) StartJobs(ctx context.Context, cfg *river.Config) (func(context.Context) error, error) {
	c := *cfg
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = pollInterval
	}
	client, err := river.NewClient(riverpgxv5.New(s.jobs.pool), &c)
	if err != nil {
		return nil, fmt.Errorf("postgres: job workers: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("postgres: start job workers: %w", err)
	}
	return client.Stop, nil
}
