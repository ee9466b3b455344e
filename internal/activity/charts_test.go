package activity

import (
	"math"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// add writes rows into st.
func add(t *testing.T, st store.Store, cs ...store.HourlyCounter) {
	t.Helper()
	err := st.InTx(t.Context(), store.Routine, func(tx store.Tx) error {
		for _, c := range cs {
			if err := tx.AddHourlyCounter(t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// chartByID finds a chart of Charts' answer.
func chartByID(t *testing.T, charts []Chart, id string) Chart {
	t.Helper()
	for _, c := range charts {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no chart %s", id)
	return Chart{}
}

// same reports whether two values are equal, NaN (no data) equal to NaN.
func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func wantValues(t *testing.T, what string, got []float64, want map[int]float64, gap float64) {
	t.Helper()
	for i, v := range got {
		w, ok := want[i]
		if !ok {
			w = gap
		}
		if !same(v, w) {
			t.Errorf("%s at point %d: %v, want %v", what, i, v, w)
		}
	}
}

// The spans have a point per hour of the last 24 hours or 7 days, or per
// day of the last 30, the last one the hour (or day) now is in.
func TestSpansEndWithTheCurrentHourOrDay(t *testing.T) {
	for _, c := range []struct {
		span Span
		n    int
		last time.Time
	}{
		{Day, 24, time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)},
		{Week, 168, time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)},
		{Month, 30, time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)},
	} {
		pts := c.span.points(t0.In(time.FixedZone("PDT", -7*3600)))
		if len(pts) != c.n || !pts[len(pts)-1].Equal(c.last) || pts[len(pts)-1].Location() != time.UTC {
			t.Errorf("%s: %d points ending %v, want %d ending %v", c.span, len(pts), pts[len(pts)-1], c.n, c.last)
		}
		if s, ok := ParseSpan(c.span.String()); !ok || s != c.span {
			t.Errorf("ParseSpan(%q) = %v, %v", c.span.String(), s, ok)
		}
	}
	if _, ok := ParseSpan("1y"); ok {
		t.Error("ParseSpan accepted 1y")
	}
}

// An hour without a row counted zero, but a gauge or a rate has no value
// there; means and rates come out of count and sum.
func TestChartsFillGapsByKind(t *testing.T) {
	st := newStore(t)
	h := t0.Truncate(time.Hour)
	add(t, st,
		store.HourlyCounter{Hour: h, Measure: string(SignInPassword), Count: 3},
		store.HourlyCounter{Hour: h.Add(-2 * time.Hour), Measure: string(SignInSSO), Count: 5},
		store.HourlyCounter{Hour: h.Add(-24 * time.Hour), Measure: string(SignInPassword), Count: 100}, // before the day
		store.HourlyCounter{Hour: h, Measure: string(ActiveSessions), Count: 2, Sum: 30},               // two instances: 10 and 20
		store.HourlyCounter{Hour: h.Add(-time.Hour), Measure: string(DeliveryDelivered), Count: 3},
		store.HourlyCounter{Hour: h.Add(-time.Hour), Measure: string(DeliveryRetry), Count: 1},
		store.HourlyCounter{Hour: h.Add(-time.Hour), Measure: string(DeliveryLatency), Count: 4, Sum: 6000},
		store.HourlyCounter{Hour: h, Measure: "sign_in.future_kind", Count: 9}, // a measure this version does not know
	)
	charts, err := Charts(t.Context(), st, t0, Day)
	if err != nil {
		t.Fatal(err)
	}
	signIns := chartByID(t, charts, "activity-sign-ins-24h")
	wantValues(t, "password sign-ins", signIns.Series[0].Values, map[int]float64{23: 3}, 0)
	wantValues(t, "SSO sign-ins", signIns.Series[1].Values, map[int]float64{21: 5}, 0)
	if want := "8 in all: Password 3, Single sign-on 5. Busiest hour: Mar 14 13:00 UTC, 5."; signIns.Summary != want {
		t.Errorf("summary %q, want %q", signIns.Summary, want)
	}
	nan := math.NaN()
	wantValues(t, "active sessions", chartByID(t, charts, "activity-sessions-24h").Series[0].Values, map[int]float64{23: 15}, nan)
	wantValues(t, "success rate", chartByID(t, charts, "activity-delivery-success-24h").Series[0].Values, map[int]float64{22: 75}, nan)
	wantValues(t, "latency in ms", chartByID(t, charts, "activity-delivery-latency-24h").Series[0].Values, map[int]float64{22: 1.5}, nan)
	deliveries := chartByID(t, charts, "activity-deliveries-24h")
	wantValues(t, "failed attempts", deliveries.Series[2].Values, nil, 0)
	for _, c := range charts {
		if len(c.Points) != 24 {
			t.Errorf("%s has %d points", c.ID, len(c.Points))
		}
		for _, s := range c.Series {
			if len(s.Values) != len(c.Points) {
				t.Errorf("%s %s has %d values for %d points", c.ID, s.Name, len(s.Values), len(c.Points))
			}
		}
	}
}

// Thirty days are drawn by the day: a day's counts add up, and its gauge
// and mean are over all of that day's samples and observations.
func TestMonthAddsUpDays(t *testing.T) {
	st := newStore(t)
	today := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	add(t, st,
		store.HourlyCounter{Hour: today.Add(1 * time.Hour), Measure: string(SignInPassword), Count: 2},
		store.HourlyCounter{Hour: today.Add(15 * time.Hour), Measure: string(SignInPassword), Count: 5},
		store.HourlyCounter{Hour: today.Add(-time.Hour), Measure: string(SignInPassword), Count: 1}, // yesterday
		store.HourlyCounter{Hour: today.Add(-30 * 24 * time.Hour), Measure: string(SignInPassword), Count: 50},
		store.HourlyCounter{Hour: today.Add(2 * time.Hour), Measure: string(ActiveSessions), Count: 1, Sum: 10},
		store.HourlyCounter{Hour: today.Add(3 * time.Hour), Measure: string(ActiveSessions), Count: 3, Sum: 90},
	)
	charts, err := Charts(t.Context(), st, t0, Month)
	if err != nil {
		t.Fatal(err)
	}
	signIns := chartByID(t, charts, "activity-sign-ins-30d")
	if !signIns.Daily || signIns.Title != "Sign-ins per day, last 30 days" {
		t.Errorf("chart %q, daily %v", signIns.Title, signIns.Daily)
	}
	wantValues(t, "password sign-ins per day", signIns.Series[0].Values, map[int]float64{29: 7, 28: 1}, 0)
	wantValues(t, "active sessions per day", chartByID(t, charts, "activity-sessions-30d").Series[0].Values, map[int]float64{29: 25}, math.NaN())
}

// niceMax rounds the top of the axis up to a round number, never zero,
// and for counts to one whose half is whole.
func TestNiceMax(t *testing.T) {
	for _, c := range []struct {
		v      float64
		counts bool
		want   float64
	}{
		{0, true, 2}, {0, false, 1}, {math.NaN(), false, 1}, {1, true, 2}, {3, true, 4}, {7, true, 8}, {9, true, 10},
		{11, true, 20}, {21, true, 30}, {45, true, 50}, {3000, true, 3000}, {5, true, 6}, {0.3, false, 0.5}, {1.5, false, 2}, {7, false, 10}, {120, false, 200},
	} {
		if got := niceMax(c.v, c.counts); got != c.want {
			t.Errorf("niceMax(%v, %v) = %v, want %v", c.v, c.counts, got, c.want)
		}
	}
}
