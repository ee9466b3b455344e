package activity

import (
	"encoding/xml"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// The drawing's geometry, in the units of its viewBox. The SVG scales to
// the width of its container; at 360 px wide (a phone) the labels stay
// about 10 px high.
const (
	width      = 340.0
	height     = 212.0
	plotLeft   = 36.0
	plotRight  = width - 8
	plotTop    = 46.0
	plotBottom = 180.0
	plotWidth  = plotRight - plotLeft
	plotHeight = plotBottom - plotTop
	// markAll is the most points a line marks each of with a dot; beyond
	// it only points that stand alone (no neighbour to join) get one.
	markAll = 31
)

// SVG draws the chart, to be placed in an HTML page as it is: an <svg>
// with role="img", its title as the accessible name and Summary as its
// description; no script, no style attribute (a strict CSP allows it),
// colours for text and axes from the page (currentColor). Every text is
// escaped.
func (c Chart) SVG() template.HTML {
	var b svgWriter
	b.open(c)
	top := c.scaleMax()
	b.grid(c, top)
	switch {
	case len(c.Points) == 0 || !c.hasData():
		b.text(plotLeft+plotWidth/2, plotTop+plotHeight/2, "middle", "activity-empty", "No data for this period")
	case c.Kind == Bars:
		b.bars(c, top)
	default:
		b.lines(c, top)
	}
	b.xAxis(c)
	b.WriteString("</svg>")
	return template.HTML(b.String()) // every text went through esc
}

// svgWriter writes an SVG document; its methods draw parts of a chart.
type svgWriter struct{ strings.Builder }

// esc escapes s for XML text or a quoted attribute value, and so for
// HTML too.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// num writes a coordinate with one decimal.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (b *svgWriter) open(c Chart) {
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + num(width) + ` ` + num(height) +
		`" width="100%" role="img" class="activity-chart" id="` + esc(c.ID) + `" aria-label="` + esc(c.Title) +
		`" aria-describedby="` + esc(c.ID) + `-desc" font-family="system-ui, sans-serif" font-size="10" fill="currentColor">`)
	b.WriteString(`<title>` + esc(c.Title) + `</title>`)
	b.WriteString(`<desc id="` + esc(c.ID) + `-desc">` + esc(c.Summary) + `</desc>`)
	// A title longer than the drawing is squeezed to fit rather than cut.
	fit := ""
	if 6.9*float64(len([]rune(c.Title))) > width {
		fit = ` textLength="` + num(width) + `" lengthAdjust="spacingAndGlyphs"`
	}
	b.WriteString(`<text x="0" y="13" font-size="12" font-weight="bold" class="activity-title"` + fit + `>` + esc(c.Title) + `</text>`)
	b.legend(c)
}

// legend names each series next to a square of its colour, in rows.
func (b *svgWriter) legend(c Chart) {
	x, y := 0.0, 28.0
	for _, s := range c.Series {
		w := 14 + textWidth(s.Name) + 12
		if x > 0 && x+w > width {
			// A second row would cross the plot's top: the charts of
			// this package have short names that fit one.
			x, y = 0, y+13
		}
		b.WriteString(`<rect x="` + num(x) + `" y="` + num(y-8) + `" width="9" height="9" fill="` + esc(s.Color) + `"/>`)
		b.text(x+13, y, "start", "activity-legend", s.Name)
		x += w
	}
}

// textWidth estimates the width of s at font-size 10.
func textWidth(s string) float64 { return 5.6 * float64(len([]rune(s))) }

func (b *svgWriter) text(x, y float64, anchor, class, s string) {
	b.WriteString(`<text x="` + num(x) + `" y="` + num(y) + `" text-anchor="` + anchor + `" class="` + class + `">` + esc(s) + `</text>`)
}

// grid draws the value axis: lines at zero, half and max, labelled.
func (b *svgWriter) grid(c Chart, top float64) {
	for _, v := range []float64{0, top / 2, top} {
		y := yOf(v, top)
		opacity := "0.15"
		if v == 0 {
			opacity = "0.6"
		}
		b.WriteString(`<line x1="` + num(plotLeft) + `" y1="` + num(y) + `" x2="` + num(plotRight) + `" y2="` + num(y) +
			`" stroke="currentColor" stroke-opacity="` + opacity + `"/>`)
		b.text(plotLeft-4, y+3.5, "end", "activity-axis", axisNumber(v))
	}
	if u := strings.TrimSpace(c.Unit); u != "" {
		b.text(plotLeft-4, plotTop-5, "end", "activity-axis", u)
	}
}

// pointWidth is the width of one point's share of the plot.
func pointWidth(c Chart) float64 { return plotWidth / float64(len(c.Points)) }

// yOf is where v falls on a value axis up to top.
func yOf(v, top float64) float64 { return plotBottom - v/top*plotHeight }

// bars stacks each point's series into one bar; a zero draws nothing.
func (b *svgWriter) bars(c Chart, top float64) {
	w := pointWidth(c)
	bw := math.Max(w*0.8, 0.5)
	for i, at := range c.Points {
		x := plotLeft + float64(i)*w + (w-bw)/2
		base := 0.0
		for _, s := range c.Series {
			v := s.Values[i]
			if !(v > 0) {
				continue
			}
			upper, lower := yOf(base+v, top), yOf(base, top)
			b.WriteString(`<rect class="activity-bar" x="` + num(x) + `" y="` + num(upper) + `" width="` + num(bw) +
				`" height="` + num(lower-upper) + `" fill="` + esc(s.Color) + `"><title>` +
				esc(c.pointLabel(at)+": "+s.Name+" "+formatValue(v, c.Unit)) + `</title></rect>`)
			base += v
		}
	}
}

// lines draws each series through its points, breaking the line where a
// point has no value, with a dot at each point (or, past markAll points,
// at each point that has no neighbour to join).
func (b *svgWriter) lines(c Chart, top float64) {
	w := pointWidth(c)
	n := len(c.Points)
	for _, s := range c.Series {
		has := func(i int) bool { return i >= 0 && i < n && !math.IsNaN(s.Values[i]) }
		var d strings.Builder
		var dots []int
		for i := range n {
			if !has(i) {
				continue
			}
			x, yv := plotLeft+(float64(i)+0.5)*w, yOf(s.Values[i], top)
			if has(i - 1) {
				d.WriteString("L" + num(x) + " " + num(yv))
			} else {
				d.WriteString("M" + num(x) + " " + num(yv))
			}
			if n <= markAll || (!has(i-1) && !has(i+1)) {
				dots = append(dots, i)
			}
		}
		if d.Len() > 0 {
			b.WriteString(`<path class="activity-line" d="` + d.String() + `" fill="none" stroke="` + esc(s.Color) +
				`" stroke-width="2" stroke-linejoin="round"/>`)
		}
		for _, i := range dots {
			b.WriteString(`<circle class="activity-point" cx="` + num(plotLeft+(float64(i)+0.5)*w) + `" cy="` + num(yOf(s.Values[i], top)) +
				`" r="2.5" fill="` + esc(s.Color) + `"><title>` +
				esc(c.pointLabel(c.Points[i])+": "+s.Name+" "+formatValue(s.Values[i], c.Unit)) + `</title></circle>`)
		}
	}
}

// xAxis labels some of the points (every sixth hour of a day, each
// midnight of a week, every seventh day of a month, counted back from the
// latest, which is always labelled) and names the axis.
func (b *svgWriter) xAxis(c Chart) {
	n := len(c.Points)
	if n > 0 {
		w := pointWidth(c)
		for i, at := range c.Points {
			label, ok := c.tick(i, at)
			if !ok {
				continue
			}
			x := plotLeft + (float64(i)+0.5)*w
			anchor := "middle"
			if half := textWidth(label) / 2; x-half < 0 {
				anchor = "start"
			} else if x+half > width {
				anchor = "end"
			}
			b.WriteString(`<line x1="` + num(x) + `" y1="` + num(plotBottom) + `" x2="` + num(x) + `" y2="` + num(plotBottom+3) +
				`" stroke="currentColor" stroke-opacity="0.6"/>`)
			b.text(x, plotBottom+13, anchor, "activity-axis", label)
		}
	}
	name := "Hour (UTC)"
	if c.Daily {
		name = "Day (UTC)"
	}
	b.text(plotLeft+plotWidth/2, height-4, "middle", "activity-axis", name)
}

// tick says whether point i gets a label on the time axis, and which.
func (c Chart) tick(i int, at time.Time) (string, bool) {
	back := len(c.Points) - 1 - i
	switch {
	case c.Daily:
		return at.Format("Jan 2"), back%7 == 0
	case len(c.Points) <= 48:
		return at.Format("15:04"), back%6 == 0
	}
	return at.Format("Jan 2"), at.Hour() == 0
}

// pointLabel names a point in full: "Mar 14 15:00 UTC", or "Mar 14" for a
// day.
func (c Chart) pointLabel(at time.Time) string {
	if c.Daily {
		return at.Format("Jan 2")
	}
	return at.Format("Jan 2 15:04") + " UTC"
}

// hasData reports whether any series has a value at any point; a bar
// chart of zeros has data (nothing happened), a line of NaN has none.
func (c Chart) hasData() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				return true
			}
		}
	}
	return false
}

// scaleMax is the top of the value axis: a round number at or above the
// highest bar or point (100 for a percentage), never zero.
func (c Chart) scaleMax() float64 {
	if c.Unit == "%" {
		return 100
	}
	top := 0.0
	for i := range c.Points {
		stack := 0.0
		for _, s := range c.Series {
			v := s.Values[i]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if c.Kind == Bars {
				stack += math.Max(v, 0)
			} else {
				top = math.Max(top, v)
			}
		}
		top = math.Max(top, stack)
	}
	return niceMax(top, c.Kind == Bars)
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten; for counts, to
// a few more steps (3, 4, 6, 8 times), at least 2 and even, so that half
// of it, the middle line, is a whole number too.
func niceMax(v float64, counts bool) float64 {
	if !(v > 0) {
		if counts {
			return 2
		}
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	steps := []float64{1, 2, 5, 10}
	if counts {
		mag = math.Max(mag, 1)
		steps = []float64{2, 3, 4, 5, 6, 8, 10}
	}
	for _, m := range steps {
		if top := m * mag; top >= v && (!counts || math.Mod(top, 2) == 0) {
			return top
		}
	}
	return 10 * mag
}

// axisNumber writes an axis value short: 2.5, 40, 12k, 1.5M.
func axisNumber(v float64) string {
	switch {
	case v >= 1e6:
		return trim(v/1e6) + "M"
	case v >= 1e4:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

// trim writes v with at most one decimal, none when it is whole.
func trim(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// formatValue writes a value in the table and the summary: "no data" for
// a point without one.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "no data"
	}
	return trim(v) + unit
}
