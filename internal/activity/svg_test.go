package activity

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// element is a parsed XML element, enough to count and read them.
type element struct {
	name  string
	attrs map[string]string
	text  string // the text directly inside it
}

// parse reads doc as XML, strictly, failing the test if it is not
// well-formed, and returns its elements in document order.
func parse(t *testing.T, doc string) []*element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var all, open []*element
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			all, open = append(all, e), append(open, e)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				open[len(open)-1].text += string(tok)
			}
		}
	}
	if len(all) == 0 {
		t.Fatal("no element")
	}
	return all
}

// withClass lists the elements whose class is class.
func withClass(els []*element, class string) []*element {
	var out []*element
	for _, e := range els {
		if e.attrs["class"] == class {
			out = append(out, e)
		}
	}
	return out
}

// hourly is n hours ending at t0's hour.
func hourly(n int) []time.Time {
	pts := make([]time.Time, n)
	for i := range pts {
		pts[i] = t0.Truncate(time.Hour).Add(-time.Duration(n-1-i) * time.Hour)
	}
	return pts
}

// checkDrawing asserts what every drawing has: a well-formed <svg> with
// role="img", named by the title, described by its <desc>, with a
// viewBox to scale by and no NaN or infinity among its numbers.
func checkDrawing(t *testing.T, c Chart) []*element {
	t.Helper()
	doc := string(c.SVG())
	els := parse(t, doc)
	root := els[0]
	if root.name != "svg" || root.attrs["role"] != "img" || root.attrs["aria-label"] != c.Title || root.attrs["viewBox"] == "" {
		t.Errorf("root %s %v", root.name, root.attrs)
	}
	if els[1].name != "title" || els[1].text != c.Title {
		t.Errorf("first child %s %q, want the title", els[1].name, els[1].text)
	}
	var desc *element
	for _, e := range els {
		if e.name == "desc" {
			desc = e
		}
	}
	if desc == nil || desc.attrs["id"] != root.attrs["aria-describedby"] || desc.text != c.Summary {
		t.Errorf("no <desc> the svg points to holding the summary: %+v", desc)
	}
	for _, bad := range []string{"NaN", "Inf", "style=", "<script"} {
		if strings.Contains(doc, bad) {
			t.Errorf("the drawing contains %q:\n%s", bad, doc)
		}
	}
	return els
}

// A bar chart draws one rectangle per non-zero value, stacked, and labels
// every sixth hour back from the latest.
func TestBarsDrawOneRectanglePerValue(t *testing.T) {
	a, b := make([]float64, 24), make([]float64, 24)
	a[0], a[5], a[23] = 1, 2, 3
	b[5], b[10] = 4, 1
	c := Chart{ID: "c", Title: "Sign-ins per hour", Kind: Bars, Points: hourly(24),
		Series: []Series{{Name: "Password", Values: a, Color: blue}, {Name: "SSO", Values: b, Color: orange}}}
	c.Summary = c.summary()
	els := checkDrawing(t, c)
	bars := withClass(els, "activity-bar")
	if len(bars) != 5 {
		t.Errorf("%d bars, want 5", len(bars))
	}
	var ticks []string
	for _, e := range els {
		if e.name == "text" && e.attrs["class"] == "activity-axis" && strings.Contains(e.text, ":") {
			ticks = append(ticks, e.text)
		}
	}
	if got := strings.Join(ticks, " "); got != "21:00 03:00 09:00 15:00" {
		t.Errorf("time labels %q", got)
	}
	if want := "11 in all: Password 6, SSO 5. Busiest hour: Mar 13 21:00 UTC, 6."; c.Summary != want {
		t.Errorf("summary %q, want %q", c.Summary, want)
	}
}

// A line breaks where a point has no value and marks each point with a
// dot; past markAll points only the points that stand alone get one.
func TestLinesBreakAtGapsAndMarkPoints(t *testing.T) {
	nan := math.NaN()
	v := make([]float64, 24)
	for i := range v {
		v[i] = float64(i)
	}
	v[3], v[4], v[10] = nan, nan, nan // runs: 0-2, 5-9, 11-23
	c := Chart{ID: "c", Title: "Active sessions", Kind: Lines, Points: hourly(24), Series: []Series{{Name: "Sessions", Values: v, Color: blue}}}
	c.Summary = c.summary()
	els := checkDrawing(t, c)
	if n := len(withClass(els, "activity-point")); n != 21 {
		t.Errorf("%d dots, want 21", n)
	}
	paths := withClass(els, "activity-line")
	if len(paths) != 1 || strings.Count(paths[0].attrs["d"], "M") != 3 || strings.Count(paths[0].attrs["d"], "L") != 18 {
		t.Errorf("paths %+v, want one of 3 runs and 18 joins", paths)
	}

	long := make([]float64, 168)
	for i := range long {
		long[i] = nan
	}
	long[7] = 5                               // alone
	long[100], long[101], long[102] = 1, 2, 3 // a run
	long[167] = 4                             // alone, the latest
	week := Chart{ID: "w", Title: "Active sessions", Kind: Lines, Points: hourly(168), Series: []Series{{Name: "Sessions", Values: long, Color: blue}}}
	week.Summary = week.summary()
	els = checkDrawing(t, week)
	if n := len(withClass(els, "activity-point")); n != 2 {
		t.Errorf("%d dots on a week, want the 2 lone points", n)
	}
	if want := "Sessions: latest 4 (Mar 14 15:00 UTC), lowest 1, highest 5."; week.Summary != want {
		t.Errorf("summary %q, want %q", week.Summary, want)
	}
}

// Labels are text, never markup: whatever a name holds, the drawing and
// the table stay well-formed and show it as written.
func TestLabelsAreEscaped(t *testing.T) {
	evil := `<script>alert("x")</script> & 'friends'`
	c := Chart{ID: `x" onload="alert(1)`, Title: evil, Summary: evil, Kind: Bars, Points: hourly(2),
		Series: []Series{{Name: evil, Values: []float64{1, 2}, Color: `red" onclick="alert(1)`}}}
	els := checkDrawing(t, c)
	for _, e := range els {
		if _, ok := e.attrs["onload"]; ok {
			t.Errorf("an attribute escaped its quotes: %s %v", e.name, e.attrs)
		}
		if _, ok := e.attrs["onclick"]; ok {
			t.Errorf("an attribute escaped its quotes: %s %v", e.name, e.attrs)
		}
	}
	var legend *element
	for _, e := range withClass(els, "activity-legend") {
		legend = e
	}
	if legend == nil || legend.text != evil {
		t.Errorf("legend %+v, want the name as written", legend)
	}
	table := string(c.Table())
	tels := parse(t, table)
	if strings.Contains(table, "<script") || tels[1].name != "caption" || tels[1].text != evil {
		t.Errorf("table not escaped:\n%s", table)
	}
}

// With no points, no data, or a single point, the drawing is whole:
// nothing is divided by zero, and "No data" says so where it applies.
func TestEmptyAndSinglePointDrawings(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name        string
		chart       Chart
		bars, dots  int
		saysNoData  bool
		wantSummary string
	}{
		{"no points", Chart{Kind: Lines, Series: []Series{{Name: "s"}}}, 0, 0, true, "No data for this period."},
		{"no points, bars", Chart{Kind: Bars, Series: []Series{{Name: "s"}}}, 0, 0, true, "No data for this period."},
		{"never sampled", Chart{Kind: Lines, Points: hourly(24), Series: []Series{{Name: "s", Values: make24(nan)}}}, 0, 0, true, "No data for this period."},
		{"all zero", Chart{Kind: Bars, Points: hourly(24), Series: []Series{{Name: "s", Values: make24(0)}}}, 0, 0, false, "None in this period."},
		{"one bar", Chart{Kind: Bars, Points: hourly(1), Series: []Series{{Name: "s", Values: []float64{3}}}}, 1, 0, false,
			"3 in all: s 3. Busiest hour: Mar 14 15:00 UTC, 3."},
		{"one dot", Chart{Kind: Lines, Unit: " ms", Points: hourly(1), Series: []Series{{Name: "s", Values: []float64{0}}}}, 0, 1, false,
			"s: latest 0 ms (Mar 14 15:00 UTC), lowest 0 ms, highest 0 ms."},
		{"one percentage", Chart{Kind: Lines, Unit: "%", Points: hourly(1), Series: []Series{{Name: "s", Values: []float64{100}}}}, 0, 1, false,
			"s: latest 100% (Mar 14 15:00 UTC), lowest 100%, highest 100%."},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := c.chart
			ch.ID, ch.Title = "c", "A chart"
			ch.Summary = ch.summary()
			if ch.Summary != c.wantSummary {
				t.Errorf("summary %q, want %q", ch.Summary, c.wantSummary)
			}
			els := checkDrawing(t, ch)
			if n := len(withClass(els, "activity-bar")); n != c.bars {
				t.Errorf("%d bars, want %d", n, c.bars)
			}
			if n := len(withClass(els, "activity-point")); n != c.dots {
				t.Errorf("%d dots, want %d", n, c.dots)
			}
			if n := len(withClass(els, "activity-empty")); (n == 1) != c.saysNoData {
				t.Errorf("%d \"No data\" texts", n)
			}
			rows := parse(t, string(ch.Table()))
			if n := countNamed(rows, "tr"); n != len(ch.Points)+1 {
				t.Errorf("table of %d rows for %d points", n, len(ch.Points))
			}
		})
	}
}

func make24(v float64) []float64 {
	out := make([]float64, 24)
	for i := range out {
		out[i] = v
	}
	return out
}

func countNamed(els []*element, name string) int {
	n := 0
	for _, e := range els {
		if e.name == name {
			n++
		}
	}
	return n
}

// The table holds the chart's figures: a header row, a row per point
// with its time as a row header, a total for stacked series, and "no
// data" where a line has no value.
func TestTableHoldsTheFigures(t *testing.T) {
	c := Chart{ID: "c", Title: "Sign-outs per hour", Kind: Bars, Points: hourly(2), Series: []Series{
		{Name: "One app", Values: []float64{1, 0}}, {Name: "One browser", Values: []float64{2, 5}},
	}}
	els := parse(t, string(c.Table()))
	var headers, cells []string
	for _, e := range els {
		switch e.name {
		case "th":
			headers = append(headers, e.text)
		case "td":
			cells = append(cells, e.text)
		}
	}
	if got := strings.Join(headers, "|"); got != "Hour (UTC)|One app|One browser|Total|Mar 14 14:00 UTC|Mar 14 15:00 UTC" {
		t.Errorf("headers %q", got)
	}
	if got := strings.Join(cells, "|"); got != "1|2|3|0|5|5" {
		t.Errorf("cells %q", got)
	}
	line := Chart{Kind: Lines, Unit: "%", Daily: true, Points: []time.Time{t0.Truncate(24 * time.Hour)},
		Series: []Series{{Name: "Delivered", Values: []float64{math.NaN()}}}}
	if got := line.Rows(); len(got) != 1 || strings.Join(got[0], "|") != "Mar 14|no data" {
		t.Errorf("rows %q", got)
	}
	if got := strings.Join(line.Columns(), "|"); got != "Day (UTC)|Delivered" {
		t.Errorf("columns %q", got)
	}
}

// Every chart Charts returns draws and tabulates cleanly on an empty
// database, for each span.
func TestEveryChartDrawsOnAnEmptyStore(t *testing.T) {
	st := newStore(t)
	for _, span := range Spans {
		charts, err := Charts(t.Context(), st, t0, span)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, c := range charts {
			if ids[c.ID] {
				t.Errorf("two charts have the id %s", c.ID)
			}
			ids[c.ID] = true
			checkDrawing(t, c)
			parse(t, string(c.Table()))
		}
	}
}

// A title too long for the drawing is squeezed into its width instead of
// running off its edge; a short one is left as it is.
func TestLongTitlesAreSqueezedToFit(t *testing.T) {
	for _, c := range []struct {
		title   string
		squeeze bool
	}{
		{"Back-channel latency (mean), last 24 hours", false},
		{strings.Repeat("A very long title ", 4), true},
	} {
		ch := Chart{ID: "c", Title: c.title, Kind: Bars, Points: hourly(1), Series: []Series{{Name: "s", Values: []float64{1}}}}
		title := withClass(checkDrawing(t, ch), "activity-title")
		if len(title) != 1 || (title[0].attrs["textLength"] != "") != c.squeeze {
			t.Errorf("%q: title %+v, squeezed want %v", c.title, title, c.squeeze)
		}
	}
}
