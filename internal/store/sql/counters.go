package sql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const (
	qHourlyCounters = `SELECT hour, measure, count, sum FROM hourly_counters
		WHERE hour >= $1 AND hour < $2 ORDER BY hour, measure`
	// One statement whatever came before: the row is created or added to
	// atomically on both databases (PostgreSQL's ON CONFLICT takes the
	// row's lock and adds to the committed value; SQLite has one writer),
	// so concurrent flushes of many instances lose no count.
	qAddHourlyCounter = `INSERT INTO hourly_counters (hour, measure, count, sum) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hour, measure) DO UPDATE SET
			count = hourly_counters.count + excluded.count,
			sum = hourly_counters.sum + excluded.sum`
	// SQLite counts on the index by expiry (sessions_by_expiry) alone.
	// PostgreSQL reads that index too when the visibility map lets it,
	// and otherwise, nearly every session being live, the table, in
	// parallel: some 100 ms for a million sessions, once an hour per
	// instance, on a reader, holding up no writer. A session expiring
	// exactly at now is still live, as the sweeper sees it.
	qLiveSessions = `SELECT count(*) FROM sessions WHERE expires_at >= $1`
)

func scanHourlyCounter(row scanner) (store.HourlyCounter, error) {
	var c store.HourlyCounter
	err := row.Scan(timeDest{&c.Hour}, &c.Measure, &c.Count, &c.Sum)
	return c, err
}

// HourlyCounters lists the rows of the hours in [from, to), by hour then
// measure: one range of the primary key.
func (r reader) HourlyCounters(ctx context.Context, from, to time.Time) ([]store.HourlyCounter, error) {
	if from.IsZero() || to.IsZero() {
		return nil, errors.New("list hourly counters: zero time")
	}
	list, err := queryList(ctx, r.q, scanHourlyCounter, qHourlyCounters, timeArg(from), timeArg(to))
	if err != nil {
		return nil, fmt.Errorf("list hourly counters: %w", dbErr(err))
	}
	return list, nil
}

// LiveSessions counts the sessions not expired at now.
func (r reader) LiveSessions(ctx context.Context, now time.Time) (int64, error) {
	if now.IsZero() {
		return 0, errors.New("count live sessions: zero time")
	}
	var n int64
	if err := r.q.queryRow(ctx, qLiveSessions, timeArg(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count live sessions: %w", dbErr(err))
	}
	return n, nil
}

// AddHourlyCounter adds c to its hour's row, creating the row.
func (t *tx) AddHourlyCounter(ctx context.Context, c store.HourlyCounter) error {
	if c.Hour.IsZero() || c.Measure == "" {
		return fmt.Errorf("add hourly counter %q: hour and measure are required", c.Measure)
	}
	hour := c.Hour.UTC().Truncate(time.Hour)
	if _, err := t.q.exec(ctx, qAddHourlyCounter, timeArg(hour), c.Measure, c.Count, c.Sum); err != nil {
		return fmt.Errorf("add hourly counter %s at %s: %w", c.Measure, hour.Format(time.RFC3339), dbErr(err))
	}
	return nil
}
