package activity

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// Span is how far back the charts look.
type Span int

// The spans the console offers: a day and a week by the hour, a month
// (as long as the counters are kept) by the day.
const (
	Day Span = iota
	Week
	Month
)

// Spans lists every span, shortest first.
var Spans = []Span{Day, Week, Month}

// String is the span's short name, the value of the console's span
// parameter: 24h, 7d, 30d.
func (s Span) String() string {
	switch s {
	case Week:
		return "7d"
	case Month:
		return "30d"
	}
	return "24h"
}

// ParseSpan reads a span's short name (String); anything else is false.
func ParseSpan(name string) (Span, bool) {
	for _, s := range Spans {
		if s.String() == name {
			return s, true
		}
	}
	return Day, false
}

// Phrase names the span in words, as titles end: "last 24 hours".
func (s Span) Phrase() string {
	switch s {
	case Week:
		return "last 7 days"
	case Month:
		return "last 30 days"
	}
	return "last 24 hours"
}

// daily reports whether a point is a day rather than an hour.
func (s Span) daily() bool { return s == Month }

// points are the starts of the span's hours (or days) ending with the
// one now is in, oldest first, in UTC.
func (s Span) points(now time.Time) []time.Time {
	now = now.UTC()
	step, n := time.Hour, 24
	last := now.Truncate(time.Hour)
	switch s {
	case Week:
		n = 7 * 24
	case Month:
		step, n = 24*time.Hour, 30
		last = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
	pts := make([]time.Time, n)
	for i := range pts {
		pts[i] = last.Add(-time.Duration(n-1-i) * step)
	}
	return pts
}

// Kind is how a chart draws its series.
type Kind int

const (
	// Bars stacks the series of each point into one bar: counts, where
	// the bar's height is the total.
	Bars Kind = iota
	// Lines draws each series as a line through its points, broken
	// where a point has no value: means and rates.
	Lines
)

// Chart is one chart's figures: a value per point for each series.
type Chart struct {
	// ID is unique among the charts of a page (it names the elements
	// the SVG's description and the table refer to).
	ID string
	// Title names the chart; Summary says in words what it shows (the
	// SVG's description, with totals or the latest value).
	Title, Summary string
	Kind           Kind
	// Unit follows each value: "", "%" or " ms".
	Unit string
	// Daily says each point is a day (else an hour).
	Daily bool
	// Points are the starts of the hours (or days), oldest first, UTC.
	Points []time.Time
	Series []Series
}

// Series is one line, or one layer of the bars.
type Series struct {
	Name string
	// Values holds one value per point; NaN is a point without data (a
	// gauge never sampled, a rate of no attempts). Counts have none: an
	// hour without a row counted zero.
	Values []float64
	// Color is the SVG fill or stroke.
	Color string
}

// Colours distinguishable by most people with a colour-vision deficiency
// (Okabe and Ito's palette, darkened to keep 3:1 against white); the
// legend and the table say the same in words.
const (
	blue      = "#0065b3"
	orange    = "#c25e00"
	green     = "#00775a"
	vermilion = "#c0392b"
	purple    = "#8a4f8a"
)

// sum is one measure's count and sum over a point.
type sum struct{ count, sum int64 }

// Charts reads the counters of span ending with the hour (or day) now is
// in and returns the console's charts, in the order to show them.
func Charts(ctx context.Context, r store.Reader, now time.Time, span Span) ([]Chart, error) {
	pts := span.points(now)
	step := time.Hour
	if span.daily() {
		step = 24 * time.Hour
	}
	rows, err := r.HourlyCounters(ctx, pts[0], pts[len(pts)-1].Add(step))
	if err != nil {
		return nil, fmt.Errorf("activity charts: %w", err)
	}
	return build(rows, pts, step, span), nil
}

// build turns the rows of the span's points into charts.
func build(rows []store.HourlyCounter, pts []time.Time, step time.Duration, span Span) []Chart {
	sums := map[Measure][]sum{}
	for _, row := range rows {
		i := int(row.Hour.Sub(pts[0]) / step)
		if row.Hour.Before(pts[0]) || i >= len(pts) {
			continue
		}
		m := Measure(row.Measure)
		if sums[m] == nil {
			sums[m] = make([]sum, len(pts))
		}
		sums[m][i].count += row.Count
		sums[m][i].sum += row.Sum
	}
	at := func(m Measure, i int) sum {
		if s := sums[m]; s != nil {
			return s[i]
		}
		return sum{}
	}
	series := func(name, color string, value func(i int) float64) Series {
		v := make([]float64, len(pts))
		for i := range v {
			v[i] = value(i)
		}
		return Series{Name: name, Color: color, Values: v}
	}
	count := func(m Measure) func(int) float64 {
		return func(i int) float64 { return float64(at(m, i).count) }
	}
	mean := func(m Measure, scale float64) func(int) float64 {
		return func(i int) float64 {
			s := at(m, i)
			if s.count == 0 {
				return math.NaN()
			}
			return float64(s.sum) / float64(s.count) * scale
		}
	}
	successRate := func(i int) float64 {
		ok := at(DeliveryDelivered, i).count
		all := ok + at(DeliveryRetry, i).count + at(DeliveryFailed, i).count
		if all == 0 {
			return math.NaN()
		}
		return 100 * float64(ok) / float64(all)
	}
	per := "per hour"
	if span.daily() {
		per = "per day"
	}
	chart := func(id, title string, kind Kind, unit string, ss ...Series) Chart {
		c := Chart{ID: "activity-" + id + "-" + span.String(), Title: title + ", " + span.Phrase(), Kind: kind, Unit: unit,
			Daily: span.daily(), Points: pts, Series: ss}
		c.Summary = c.summary()
		return c
	}
	return []Chart{
		chart("sign-ins", "Sign-ins "+per, Bars, "",
			series("Password", blue, count(SignInPassword)),
			series("Single sign-on", orange, count(SignInSSO))),
		chart("sign-outs", "Sign-outs "+per, Bars, "",
			series("One app", blue, count(SignOutApp)),
			series("One browser", orange, count(SignOutBrowser)),
			series("Every device", purple, count(SignOutAllDevices))),
		chart("sessions", "Active sessions", Lines, "",
			series("Active sessions", blue, mean(ActiveSessions, 1))),
		chart("deliveries", "Back-channel attempts "+per, Bars, "",
			series("Delivered", green, count(DeliveryDelivered)),
			series("To retry", orange, count(DeliveryRetry)),
			series("Failed", vermilion, count(DeliveryFailed))),
		chart("delivery-success", "Back-channel success rate", Lines, "%",
			series("Attempts delivered", green, successRate)),
		// Microseconds stored, milliseconds shown.
		chart("delivery-latency", "Back-channel latency (mean)", Lines, " ms",
			series("Mean latency", blue, mean(DeliveryLatency, 1e-3))),
	}
}
