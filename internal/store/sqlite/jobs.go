package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/sesame-id/sesame/internal/store"
)

// jobs is the durable job queue in this database: River on its SQLite
// driver, over the writer pool. River's writes wait their turn on the one
// writer connection like everyone else's, so they never meet "database is
// locked".
type jobs struct {
	db *sql.DB
	// inserter inserts jobs inside store transactions; it works none.
	inserter *river.Client[*sql.Tx]
}

// newJobs migrates River's tables and builds the insert-only client.
func newJobs(ctx context.Context, db *sql.DB) (*jobs, error) {
	driver := riversqlite.New(db)
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("sqlite: migrate job queue: %w", err)
	}
	c, err := river.NewClient(driver, &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("sqlite: job queue client: %w", err)
	}
	return &jobs{db: db, inserter: c}, nil
}

// insert adds the jobs to tx in one statement (River's batch insert).
func (j *jobs) insert(ctx context.Context, tx *sql.Tx, pending []store.PendingJob) error {
	if _, err := j.inserter.InsertManyTx(ctx, tx, store.JobInserts(pending, time.Now())); err != nil {
		return fmt.Errorf("insert %d delivery jobs: %w", len(pending), err)
	}
	return nil
}

// pollInterval is how often workers look for due jobs. SQLite has no
// LISTEN/NOTIFY, so River polls; a quarter second keeps a retry due "within
// 2 s" (B2) on time at the cost of four tiny queries a second.
const pollInterval = 250 * time.Millisecond

// StartJobs starts a River client with cfg's workers on this database.
// Stop it before closing the Store.
func (s *Store) StartJobs(ctx context.Context, cfg *river.Config) (func(context.Context) error, error) {
	c := *cfg
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = pollInterval
	}
	if c.FetchCooldown == 0 {
		c.FetchCooldown = 50 * time.Millisecond
	}
	client, err := river.NewClient(riversqlite.New(s.jobs.db), &c)
	if err != nil {
		return nil, fmt.Errorf("sqlite: job workers: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: start job workers: %w", err)
	}
	return client.Stop, nil
}
