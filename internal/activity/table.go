package activity

import (
	"html/template"
	"math"
	"strings"
)

// Columns are the headings of the chart's table: the point, each series,
// and for stacked bars their total.
func (c Chart) Columns() []string {
	cols := []string{"Hour (UTC)"}
	if c.Daily {
		cols[0] = "Day (UTC)"
	}
	for _, s := range c.Series {
		cols = append(cols, s.Name)
	}
	if c.total() {
		cols = append(cols, "Total")
	}
	return cols
}

// total reports whether the table ends with a total column.
func (c Chart) total() bool { return c.Kind == Bars && len(c.Series) > 1 }

// Rows are the chart's figures as text, one row per point, oldest first,
// under Columns: what the SVG shows, for a table.
func (c Chart) Rows() [][]string {
	rows := make([][]string, 0, len(c.Points))
	for i, at := range c.Points {
		row := []string{c.pointLabel(at)}
		sum := 0.0
		for _, s := range c.Series {
			row = append(row, formatValue(s.Values[i], c.Unit))
			sum += s.Values[i]
		}
		if c.total() {
			row = append(row, formatValue(sum, c.Unit))
		}
		rows = append(rows, row)
	}
	return rows
}

// Table is the chart's figures as an HTML table, captioned with its
// title, for screen readers and for anyone who wants the numbers; the
// console may put it in a <details> under the chart.
func (c Chart) Table() template.HTML {
	var b strings.Builder
	b.WriteString(`<table class="activity-table" id="` + esc(c.ID) + `-table"><caption>` + esc(c.Title) + `</caption><thead><tr>`)
	for _, col := range c.Columns() {
		b.WriteString(`<th scope="col">` + esc(col) + `</th>`)
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, row := range c.Rows() {
		b.WriteString(`<tr><th scope="row">` + esc(row[0]) + `</th>`)
		for _, cell := range row[1:] {
			b.WriteString(`<td>` + esc(cell) + `</td>`)
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table>`)
	return template.HTML(b.String()) // every text went through esc
}

// summary says in a sentence or two what the chart shows: for counts,
// the total, each series' share and the busiest point; for lines, each
// series' latest value and its range. Times are UTC.
func (c Chart) summary() string {
	if len(c.Points) == 0 || !c.hasData() {
		return "No data for this period."
	}
	if c.Kind == Bars {
		return c.barSummary()
	}
	var parts []string
	for _, s := range c.Series {
		latest, lo, hi := -1, math.Inf(1), math.Inf(-1)
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			latest, lo, hi = i, math.Min(lo, v), math.Max(hi, v)
		}
		if latest < 0 {
			parts = append(parts, s.Name+": no data.")
			continue
		}
		parts = append(parts, s.Name+": latest "+formatValue(s.Values[latest], c.Unit)+" ("+c.pointLabel(c.Points[latest])+
			"), lowest "+formatValue(lo, c.Unit)+", highest "+formatValue(hi, c.Unit)+".")
	}
	return strings.Join(parts, " ")
}

func (c Chart) barSummary() string {
	var total float64
	shares := make([]string, 0, len(c.Series))
	for _, s := range c.Series {
		var sum float64
		for _, v := range s.Values {
			sum += v
		}
		total += sum
		shares = append(shares, s.Name+" "+formatValue(sum, c.Unit))
	}
	if total == 0 {
		return "None in this period."
	}
	busiest, most := 0, -1.0
	for i := range c.Points {
		var stack float64
		for _, s := range c.Series {
			stack += s.Values[i]
		}
		if stack > most {
			busiest, most = i, stack
		}
	}
	what := "hour"
	if c.Daily {
		what = "day"
	}
	return formatValue(total, c.Unit) + " in all: " + strings.Join(shares, ", ") + ". Busiest " + what + ": " +
		c.pointLabel(c.Points[busiest]) + ", " + formatValue(most, c.Unit) + "."
}
