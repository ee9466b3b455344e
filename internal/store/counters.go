package store

import (
	"context"
	"time"
)

// CounterRetention is how long hourly counters are kept (design §2,
// retention): the console's longest chart shows 30 days. The sweeper
// deletes older rows.
const CounterRetention = 30 * 24 * time.Hour

// HourlyCounter is one measure's figures for one UTC hour, the data of
// the console's activity charts (package activity owns the measures and
// what they mean). One row serves every kind of measure: a counter adds to
// Count and leaves Sum at zero (sign-ins); an observation adds one to
// Count and its value to Sum, so Sum/Count is the hour's mean (a
// delivery's latency, or a gauge such as the live sessions, sampled by
// each instance and averaged).
type HourlyCounter struct {
	// Hour is the start of the UTC hour. The store truncates what it is
	// given, so a caller may pass the time of the event.
	Hour    time.Time
	Measure string
	Count   int64
	Sum     int64
}

// counterReader reads hourly counters and the live sessions they sample;
// Reader embeds it.
type counterReader interface {
	// HourlyCounters lists the rows whose hour is in [from, to), by hour
	// then measure. An hour with no row had nothing recorded.
	HourlyCounters(ctx context.Context, from, to time.Time) ([]HourlyCounter, error)
	// LiveSessions counts the sessions that have not expired at now:
	// the active-sessions gauge, sampled hourly. It costs a read of the
	// live sessions (of their index by expiry where it can), too much
	// for a request, little once an hour.
	LiveSessions(ctx context.Context, now time.Time) (int64, error)
}

// counterWriter adds to hourly counters; Writer embeds it.
type counterWriter interface {
	// AddHourlyCounter adds c.Count and c.Sum to the row of (c.Measure,
	// the hour of c.Hour), creating it at zero first: one statement, so
	// concurrent adders, on any number of instances, never lose a count.
	// A zero hour or an empty measure is refused.
	AddHourlyCounter(ctx context.Context, c HourlyCounter) error
}
