package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var counterTests = []test{
	{"HourlyCountersAddUpPerHourAndMeasure", testHourlyCountersAddUpPerHourAndMeasure},
	{"ConcurrentCounterAddersLoseNothing", testConcurrentCounterAddersLoseNothing},
	{"AddHourlyCounterRefusesZeroHourOrMeasure", testAddHourlyCounterRefusesZeroHourOrMeasure},
	{"LiveSessionsCountsTheUnexpired", testLiveSessionsCountsTheUnexpired},
	{"SweepKeepsHourlyCountersThirtyDays", testSweepKeepsHourlyCountersThirtyDays},
}

// hourOf is the start of t's UTC hour.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// addCounters adds each of cs in a transaction of its own, as flushes do.
func addCounters(t *testing.T, s store.Store, cs ...store.HourlyCounter) {
	t.Helper()
	for _, c := range cs {
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AddHourlyCounter(ctx, c) })
	}
}

// testHourlyCountersAddUpPerHourAndMeasure: what is added to one measure
// within one UTC hour, whenever in the hour and in whatever time zone it
// is given, is one row holding the sums; other hours and measures are rows
// of their own; a range lists [from, to) by hour then measure.
func testHourlyCountersAddUpPerHourAndMeasure(t *testing.T, s store.Store) {
	h := hourOf(t0)
	paris := time.FixedZone("CET", 3600)
	addCounters(t, s,
		store.HourlyCounter{Hour: h, Measure: "sign_in.password", Count: 1},
		store.HourlyCounter{Hour: h.Add(59*time.Minute + 59*time.Second).In(paris), Measure: "sign_in.password", Count: 2},
		store.HourlyCounter{Hour: h.Add(time.Minute), Measure: "delivery.latency", Count: 1, Sum: 1500},
		store.HourlyCounter{Hour: h.Add(2 * time.Minute), Measure: "delivery.latency", Count: 1, Sum: 500},
		store.HourlyCounter{Hour: h.Add(time.Hour), Measure: "sign_in.password", Count: 5},
		store.HourlyCounter{Hour: h.Add(-time.Hour), Measure: "sign_in.sso", Count: 7},
		store.HourlyCounter{Hour: h.Add(2 * time.Hour), Measure: "sign_in.sso", Count: 9},
	)
	got, err := s.HourlyCounters(t.Context(), h.Add(-time.Hour), h.Add(2*time.Hour))
	must(t, "list", err)
	equal(t, "the hours [h-1, h+2)", got, []store.HourlyCounter{
		{Hour: h.Add(-time.Hour), Measure: "sign_in.sso", Count: 7},
		{Hour: h, Measure: "delivery.latency", Count: 2, Sum: 2000},
		{Hour: h, Measure: "sign_in.password", Count: 3},
		{Hour: h.Add(time.Hour), Measure: "sign_in.password", Count: 5},
	})
	// A from inside an hour starts after that hour's row.
	got, err = s.HourlyCounters(t.Context(), h.Add(time.Minute), h.Add(24*time.Hour))
	must(t, "list", err)
	equal(t, "the hours after h", got, []store.HourlyCounter{
		{Hour: h.Add(time.Hour), Measure: "sign_in.password", Count: 5},
		{Hour: h.Add(2 * time.Hour), Measure: "sign_in.sso", Count: 9},
	})
	got, err = s.HourlyCounters(t.Context(), h.Add(10*time.Hour), h.Add(20*time.Hour))
	must(t, "list", err)
	equal(t, "hours with nothing", len(got), 0)
	_, err = s.HourlyCounters(t.Context(), time.Time{}, h)
	if err == nil {
		t.Error("a zero from was accepted")
	}
}

// testConcurrentCounterAddersLoseNothing: many transactions adding to the
// same rows at once, the first of them racing to create the rows, add up
// exactly (one upsert statement each): instances flushing together lose
// no count.
func testConcurrentCounterAddersLoseNothing(t *testing.T, s store.Store) {
	const each = 5
	h := hourOf(t0)
	ctx := t.Context()
	errs := race(racers, func(i int) error {
		for range each {
			err := s.InTx(ctx, store.Routine, func(tx store.Tx) error {
				if err := tx.AddHourlyCounter(ctx, store.HourlyCounter{Hour: h, Measure: "sign_in.sso", Count: 1}); err != nil {
					return err
				}
				return tx.AddHourlyCounter(ctx, store.HourlyCounter{Hour: h, Measure: "delivery.latency", Count: 1, Sum: int64(i)})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("adder %d: %v", i, err)
		}
	}
	got, err := s.HourlyCounters(ctx, h, h.Add(time.Hour))
	must(t, "list", err)
	var sum int64
	for i := range racers {
		sum += int64(i) * each
	}
	equal(t, "the sums", got, []store.HourlyCounter{
		{Hour: h, Measure: "delivery.latency", Count: racers * each, Sum: sum},
		{Hour: h, Measure: "sign_in.sso", Count: racers * each},
	})
}

// testAddHourlyCounterRefusesZeroHourOrMeasure: a row without its hour or
// its measure would be found by no chart.
func testAddHourlyCounterRefusesZeroHourOrMeasure(t *testing.T, s store.Store) {
	for _, c := range []store.HourlyCounter{
		{Measure: "sign_in.sso", Count: 1},
		{Hour: t0, Count: 1},
	} {
		if err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AddHourlyCounter(ctx, c) }); err == nil {
			t.Errorf("%+v was accepted", c)
		}
	}
}

// testLiveSessionsCountsTheUnexpired: the active-sessions gauge counts the
// sessions the sweeper would keep at now: expiring at now or later.
func testLiveSessionsCountsTheUnexpired(t *testing.T, s store.Store) {
	n, err := s.LiveSessions(t.Context(), t0)
	must(t, "count an empty store", err)
	equal(t, "live sessions of an empty store", n, int64(0))
	expiries := map[string]time.Duration{"s-live": time.Hour, "s-edge": 0, "s-old": -time.Second, "s-live-2": 24 * time.Hour}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for id, d := range expiries {
			sess := fullSession(id, "acct")
			sess.ExpiresAt = at(d)
			must(t, id, tx.CreateSession(ctx, sess))
		}
		return nil
	})
	n, err = s.LiveSessions(t.Context(), t0)
	must(t, "count", err)
	equal(t, "live sessions", n, int64(3))
	n, err = s.LiveSessions(t.Context(), at(2*time.Hour))
	must(t, "count", err)
	equal(t, "live sessions two hours later", n, int64(1))
	if _, err := s.LiveSessions(t.Context(), time.Time{}); err == nil {
		t.Error("a zero time was accepted")
	}
}

// testSweepKeepsHourlyCountersThirtyDays: the sweeper deletes the counters
// of hours that began more than store.CounterRetention ago (design §2,
// retention), at most limit rows per call, and keeps the rest.
func testSweepKeepsHourlyCountersThirtyDays(t *testing.T, s store.Store) {
	now := hourOf(t0)
	cutoff := now.Add(-store.CounterRetention)
	var old, kept []store.HourlyCounter
	for i := range 10 { // 30 rows older than the cutoff: several batches
		for _, m := range []string{"a", "b", "c"} {
			old = append(old, store.HourlyCounter{Hour: cutoff.Add(-time.Duration(i+1) * time.Hour), Measure: m, Count: 1})
		}
	}
	for _, h := range []time.Time{cutoff, cutoff.Add(time.Hour), now} { // exactly 30 days old: not older
		kept = append(kept, store.HourlyCounter{Hour: h, Measure: "a", Count: 1})
	}
	addCounters(t, s, append(old, kept...)...)

	const limit = 7
	var total int64
	for range len(old) {
		n := sweep(t, s, now, limit)
		if n > limit {
			t.Fatalf("one sweep deleted %d rows, limit %d", n, limit)
		}
		total += n
		if n < limit {
			break
		}
	}
	equal(t, "rows swept", total, int64(len(old)))
	got, err := s.HourlyCounters(t.Context(), cutoff.Add(-48*time.Hour), now.Add(time.Hour))
	must(t, "list", err)
	equal(t, fmt.Sprintf("rows kept at %s", now.Format(time.RFC3339)), got, kept)
}
