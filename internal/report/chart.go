package report

// Inline SVG charts for the HTML report. Every chart is a self-contained <svg> element
// (no scripts, no external fonts or images), so the report opens offline and prints as is.
// Text is escaped and the markup is well-formed XML, which the tests check.

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/plural"
)

// Palette is the Okabe-Ito colour-blind-safe palette (yellow left out: too pale on white).
var Palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#44AA99"}

// HumanColor is the colour of human reference series: black, dashed, open markers.
const HumanColor = "#000000"

func esc(s string) string { return html.EscapeString(s) }

// f2 formats a number for labels; "n/a" for NaN.
func f2(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func num(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// frame maps data coordinates to pixels inside the plotting area.
type frame struct {
	w, h           float64 // whole SVG
	l, r, t, b     float64 // margins
	x0, x1, y0, y1 float64 // data ranges
}

func (f frame) px(x float64) float64 { return f.l + (x-f.x0)/(f.x1-f.x0)*(f.w-f.l-f.r) }
func (f frame) py(y float64) float64 { return f.h - f.b - (y-f.y0)/(f.y1-f.y0)*(f.h-f.t-f.b) }

func svgOpen(sb *strings.Builder, w, h float64, title string) {
	fmt.Fprintf(sb, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="%s" font-family="Helvetica, Arial, sans-serif" font-size="12">`, w, h, w, h, esc(title))
	fmt.Fprintf(sb, `<title>%s</title><rect width="%g" height="%g" fill="#fff"/>`, esc(title), w, h)
	fmt.Fprintf(sb, `<text class="chart-title" x="%g" y="20" text-anchor="middle" font-size="14" font-weight="bold">%s</text>`, w/2, esc(title))
}

// niceTicks returns round tick values covering [lo, hi], about n of them.
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo || n < 2 {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n-1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step+0) // +0: no "-0" tick label
	}
	return out
}

// axes draws grid lines, ticks, tick labels and axis titles.
func axes(sb *strings.Builder, f frame, xt []float64, xlab func(float64) string, yt []float64, ylab func(float64) string, xTitle, yTitle string) {
	for _, y := range yt {
		p := f.py(y)
		fmt.Fprintf(sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, f.l, f.w-f.r, p, p)
		fmt.Fprintf(sb, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#333">%s</text>`, f.l-6, p, esc(ylab(y)))
	}
	for _, x := range xt {
		p := f.px(x)
		fmt.Fprintf(sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`, p, p, f.h-f.b, f.h-f.b+4)
		fmt.Fprintf(sb, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#333">%s</text>`, p, f.h-f.b+17, esc(xlab(x)))
	}
	fmt.Fprintf(sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`, f.l, f.w-f.r, f.h-f.b, f.h-f.b)
	fmt.Fprintf(sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`, f.l, f.l, f.t, f.h-f.b)
	if xTitle != "" { // bar charts draw theirs below their wrapped labels
		fmt.Fprintf(sb, `<text class="x-label" x="%.1f" y="%.1f" text-anchor="middle" font-size="13">%s</text>`, (f.l+f.w-f.r)/2, f.h-f.b+38, esc(xTitle))
	}
	if yTitle != "" { // small multiples draw one for all their panels
		cy := (f.t + f.h - f.b) / 2
		fmt.Fprintf(sb, `<text class="y-label" x="16" y="%.1f" text-anchor="middle" font-size="13" transform="rotate(-90 16 %.1f)">%s</text>`, cy, cy, esc(yTitle))
	}
}

// LegendEntry is one line of a legend.
type LegendEntry struct {
	Name   string
	Color  string
	Dashed bool
	Marker string // "circle", "square", "diamond", "open" (open circle), "bar", "arrow" (a cut whisker)
}

// legendWidth is the room right of a plot for a legend of these names (11 px text, about
// 6.2 px a character after the 42 px of its marker), at least min: a long name (two runs'
// names in a comparison) is not cut at the chart's edge.
func legendWidth(min float64, title string, names []string) float64 {
	n := len([]rune(title)) - 4 // the bold title starts left of the entries
	for _, s := range names {
		n = max(n, len([]rune(s)))
	}
	return math.Max(min, 42+6.2*float64(n))
}

// legend draws entries under an optional title (what the entries distinguish).
func legend(sb *strings.Builder, x, y float64, title string, entries []LegendEntry) {
	fmt.Fprintf(sb, `<g class="legend">`)
	if title != "" {
		fmt.Fprintf(sb, `<text class="legend-title" x="%.1f" y="%.1f" dominant-baseline="middle" font-size="11" font-weight="bold">%s</text>`, x-2, y, esc(title))
		y += 18
	}
	for i, e := range entries {
		yy := y + float64(i)*18
		if e.Marker == "bar" {
			fmt.Fprintf(sb, `<rect x="%.1f" y="%.1f" width="16" height="11" fill="%s"/>`, x, yy-6, e.Color)
		} else {
			dash := ""
			if e.Dashed {
				dash = ` stroke-dasharray="5 3"`
			}
			fmt.Fprintf(sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, x-2, x+18, yy, yy, e.Color, dash)
			marker(sb, e.Marker, x+8, yy, e.Color)
		}
		fmt.Fprintf(sb, `<text x="%.1f" y="%.1f" dominant-baseline="middle" font-size="11">%s</text>`, x+24, yy, esc(e.Name))
	}
	fmt.Fprintf(sb, `</g>`)
}

func marker(sb *strings.Builder, kind string, x, y float64, color string) {
	switch kind {
	case "square":
		fmt.Fprintf(sb, `<rect x="%.1f" y="%.1f" width="7" height="7" fill="%s"/>`, x-3.5, y-3.5, color)
	case "diamond":
		fmt.Fprintf(sb, `<path d="M%.1f %.1fl4.5 4.5l-4.5 4.5l-4.5 -4.5z" fill="%s"/>`, x, y-4.5, color)
	case "open":
		fmt.Fprintf(sb, `<circle cx="%.1f" cy="%.1f" r="3.8" fill="#fff" stroke="%s" stroke-width="1.6"/>`, x, y, color)
	case "arrow": // a whisker's end cut at the axis
		fmt.Fprintf(sb, `<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1fM%.1f %.1fV%.1f" stroke="%s" stroke-width="1.2" fill="none"/>`, x-3.5, y+1, x, y-4, x+3.5, y+1, x, y-4, y+5, color)
	case "none":
	default:
		fmt.Fprintf(sb, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x, y, color)
	}
}

var markers = []string{"circle", "square", "diamond"}

// Series is one line of a LineChart. Lo and Hi, when set, are CI bounds drawn as whiskers;
// NaN points are skipped.
type Series struct {
	Name   string
	X, Y   []float64
	Lo, Hi []float64
	Color  string // default: the palette in order
	Dashed bool
	Marker string
	// Reference marks a series that is not a run's data (published human figures, a zero
	// line): a comparison of runs draws it once, not once per run.
	Reference bool
}

// LineChart is an x-y chart of one or more series with optional CI whiskers and a legend.
type LineChart struct {
	Title, XLabel, YLabel string
	X0, X1, Y0, Y1        float64 // axis ranges; computed from the data when X0 == X1 (Y0 == Y1)
	XTicks                []float64
	YTicks                []float64
	YFormat               func(float64) string
	Series                []Series
	Width, Height         float64
	LegendTitle           string // what the series are, e.g. "Condition"
	// Bands are reference ranges (e.g. a published human range), drawn as labelled grey bands
	// behind the series: not data, not confidence intervals.
	Bands []Band
}

// Band is a reference range of y over [X0, X1] of a LineChart.
type Band struct {
	X0, X1, Lo, Hi float64
	Label          string // printed above the band and named in the legend
}

// dataRange is the chart's axis ranges: X0..X1 and Y0..Y1 where set, else fitted to the
// data (with CIs), the y range padded by 8%.
func (c LineChart) dataRange() (x0, x1, y0, y1 float64) {
	x0, x1, y0, y1 = c.X0, c.X1, c.Y0, c.Y1
	if x0 != x1 && y0 != y1 {
		return
	}
	xs, ys := []float64{}, []float64{}
	for _, s := range c.Series {
		for i := range s.X {
			if !math.IsNaN(s.Y[i]) {
				xs = append(xs, s.X[i])
				ys = append(ys, s.Y[i])
				if s.Lo != nil && !math.IsNaN(s.Lo[i]) {
					ys = append(ys, s.Lo[i], s.Hi[i])
				}
			}
		}
	}
	if x0 == x1 {
		x0, x1 = minMax(xs)
		if x0 == x1 {
			x0, x1 = x0-1, x1+1
		}
	}
	if y0 == y1 {
		y0, y1 = minMax(ys)
		pad := (y1 - y0) * 0.08
		if pad == 0 {
			pad = 1
		}
		y0, y1 = y0-pad, y1+pad
	}
	return
}

// SVG renders the chart.
func (c LineChart) SVG() string {
	w, h := c.Width, c.Height
	if w == 0 {
		w = 660
	}
	if h == 0 {
		h = 360
	}
	var names []string
	for _, s := range c.Series {
		names = append(names, s.Name)
	}
	for _, b := range c.Bands {
		names = append(names, b.Label)
	}
	f := frame{w: w, h: h, l: 64, r: legendWidth(200, c.LegendTitle, names), t: 36, b: 52}
	f.x0, f.x1, f.y0, f.y1 = c.dataRange()
	xpad := (f.x1 - f.x0) * 0.04
	f.x0, f.x1 = f.x0-xpad, f.x1+xpad
	var sb strings.Builder
	svgOpen(&sb, w, h, c.Title)
	if !c.hasData() {
		noData(&sb, f)
		return sb.String()
	}
	xt, yt := within(c.XTicks, f.x0, f.x1), within(c.YTicks, f.y0, f.y1)
	if xt == nil {
		xt = niceTicks(f.x0+xpad, f.x1-xpad, 8)
	}
	if yt == nil {
		yt = niceTicks(f.y0, f.y1, 6)
	}
	yf := c.YFormat
	if yf == nil {
		yf = num
	}
	axes(&sb, f, xt, num, yt, yf, c.XLabel, c.YLabel)
	leg := c.plot(&sb, f, nil)
	legend(&sb, w-f.r+18, f.t+10, c.LegendTitle, leg)
	sb.WriteString(`</svg>`)
	return sb.String()
}

// plot draws the chart's bands and series in frame f and returns their legend entries.
// colorOf, when set, gives a series' colour by name (the same series in every panel of a
// SmallMultiples); else series take the palette in order.
func (c LineChart) plot(sb *strings.Builder, f frame, colorOf func(i int, s Series) (string, string)) []LegendEntry {
	var leg []LegendEntry
	cut := false // a whisker runs past the axis
	for _, b := range c.Bands {
		x0, x1 := f.px(math.Max(b.X0, f.x0)), f.px(math.Min(b.X1, f.x1))
		top, bot := f.py(clamp(b.Hi, f.y0, f.y1)), f.py(clamp(b.Lo, f.y0, f.y1))
		fmt.Fprintf(sb, `<g class="ref-band"><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#000" fill-opacity="0.12"/>`, esc(b.Label), x0, top, x1-x0, bot-top)
		fmt.Fprintf(sb, `<text x="%.1f" y="%.1f" font-size="11" fill="#222">%s</text></g>`, x0, top-4, esc(b.Label))
		leg = append(leg, LegendEntry{Name: b.Label, Color: "#d9d9d9", Marker: "bar"})
	}
	for i, s := range c.Series {
		col, mk := s.Color, s.Marker
		if colorOf != nil {
			col, mk = colorOf(i, s)
		}
		if col == "" {
			col = Palette[i%len(Palette)]
		}
		if mk == "" {
			mk = markers[i%len(markers)]
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(sb, `<g class="series" data-name="%s">`, esc(s.Name))
		var pts []string
		for j := range s.X {
			if math.IsNaN(s.Y[j]) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", f.px(s.X[j]), f.py(s.Y[j])))
		}
		if len(pts) > 1 {
			fmt.Fprintf(sb, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.Join(pts, " "), col, dash)
		}
		for j := range s.X {
			if math.IsNaN(s.Y[j]) {
				continue
			}
			x := f.px(s.X[j])
			if s.Lo != nil && !math.IsNaN(s.Lo[j]) && !math.IsNaN(s.Hi[j]) {
				cut = whisker(sb, f, x, s.Lo[j], s.Hi[j], 4, fmt.Sprintf(`stroke="%s" stroke-width="1.2" fill="none"`, col)) || cut
			}
			marker(sb, mk, x, f.py(s.Y[j]), col)
		}
		sb.WriteString(`</g>`)
		leg = append(leg, LegendEntry{Name: s.Name, Color: col, Dashed: s.Dashed, Marker: mk})
	}
	if cut {
		leg = append(leg, cutEntry)
	}
	return leg
}

// cutEntry is the legend line of a whisker cut at the axis.
var cutEntry = LegendEntry{Name: "CI runs past the axis (see table)", Color: "#222", Marker: "arrow"}

// whisker draws a CI from lo to hi at x, capped at both ends with caps 2*half wide. An end
// beyond the plot's y range is cut at its edge and drawn as an arrowhead pointing out instead
// of a cap, so a cut interval is never read as a short one; it reports whether it cut one (the
// legend then says so).
func whisker(sb *strings.Builder, f frame, x, lo, hi, half float64, attrs string) bool {
	cutLo, cutHi := lo < f.y0, hi > f.y1
	ylo, yhi := f.py(clamp(lo, f.y0, f.y1)), f.py(clamp(hi, f.y0, f.y1))
	end := func(y float64, cut bool, dir float64) string { // dir +1: the arrow points down
		if cut {
			return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1f", x-half, y-5*dir, x, y, x+half, y-5*dir)
		}
		return fmt.Sprintf("M%.1f %.1fh%g", x-half, y, 2*half)
	}
	fmt.Fprintf(sb, `<path d="M%.1f %.1fV%.1f%s%s" %s/>`, x, ylo, yhi, end(ylo, cutLo, 1), end(yhi, cutHi, -1), attrs)
	return cutLo || cutHi
}

func (c LineChart) hasData() bool {
	for _, s := range c.Series {
		for _, y := range s.Y {
			if !math.IsNaN(y) {
				return true
			}
		}
	}
	return false
}

// noData closes a chart that has nothing to draw with a note saying so, where the plot would be.
func noData(sb *strings.Builder, f frame) {
	fmt.Fprintf(sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fafafa" stroke="#ccc"/>`, f.l, f.t, f.w-f.l-f.r, f.h-f.t-f.b)
	fmt.Fprintf(sb, `<text class="no-data" x="%.1f" y="%.1f" text-anchor="middle" dominant-baseline="middle" font-size="14" fill="#555">No data: no valid decision to draw</text>`, (f.l+f.w-f.r)/2, (f.t+f.h-f.b)/2)
	sb.WriteString(`</svg>`)
}

// Percent formats a tick of a 0-100 scale: "40%".
func Percent(v float64) string { return num(v) + "%" }

// within are the ticks inside [lo, hi] (given ticks may cover rounds the data do not: no
// tick is drawn outside the axis); nil for none given.
func within(ticks []float64, lo, hi float64) []float64 {
	if ticks == nil {
		return nil
	}
	out := []float64{}
	for _, t := range ticks {
		if t >= lo-1e-9 && t <= hi+1e-9 {
			out = append(out, t)
		}
	}
	return out
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func minMax(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return 0, 1
	}
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// BarChart is a grouped bar chart with CI whiskers: one cluster per category, one bar per group.
type BarChart struct {
	Title, XLabel, YLabel string
	Categories            []string
	Groups                []string
	// Mean, Lo, Hi are [group][category]; NaN leaves the bar out.
	Mean, Lo, Hi [][]float64
	Y0, Y1       float64 // bars rise from Y0
	Width        float64 // default: fitted to the categories, at most MaxWidth
	YFormat      func(float64) string
	LegendTitle  string // what the groups are, e.g. "Backend, condition"
	// Refs are reference values per category (e.g. published human figures), drawn across the
	// cluster: a dashed line for a single value, a labelled band for a range. Not bars, not CIs.
	Refs     []Ref
	RefLabel string // legend name of the references, e.g. "Humans"
}

// Ref is one category's reference: a value, a range [Lo, Hi], or both; NaN for none.
type Ref struct {
	Value, Lo, Hi float64
	Label         string // printed on a band, e.g. "humans 40-60%"
}

// MaxWidth is the widest a chart is drawn by default: the report's text column, so no chart
// is scaled down (and its text shrunk) to fit the page.
const MaxWidth = 1000.0

// wrapWords splits a label into lines of about n characters at spaces.
func wrapWords(s string, n int) []string {
	var lines []string
	cur := ""
	var words []string
	for _, w := range strings.Fields(s) {
		// A word longer than a line (an id such as public_goods_punish) is cut into pieces.
		for r := []rune(w); len(r) > 0; {
			k := min(len(r), n)
			words = append(words, string(r[:k]))
			r = r[k:]
		}
	}
	for _, w := range words {
		if cur != "" && len([]rune(cur))+1+len([]rune(w)) > n {
			lines = append(lines, cur)
			cur = w
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	return append(lines, cur)
}

func (c BarChart) hasData() bool {
	for _, row := range c.Mean {
		for _, m := range row {
			if !math.IsNaN(m) {
				return true
			}
		}
	}
	return false
}

// SVG renders the chart.
func (c BarChart) SVG() string {
	w, h := c.Width, 380.0
	right := legendWidth(170, c.LegendTitle, append([]string{c.RefLabel, "range (not a CI)"}, c.Groups...))
	if w == 0 {
		w = math.Min(MaxWidth, math.Max(560, 90*float64(len(c.Categories))+40+right))
	}
	f := frame{w: w, h: h, l: 64, r: right, t: 36, b: 56, x0: 0, x1: float64(len(c.Categories)), y0: c.Y0, y1: c.Y1}
	cw := (w - f.l - f.r) / math.Max(float64(len(c.Categories)), 1)
	// Category labels wrap to the cluster's width (about 6.5 px a character at 12 px).
	perLine := max(int(cw/6.8), 6)
	lines := 1
	for _, cat := range c.Categories {
		lines = max(lines, len(wrapWords(cat, perLine)))
	}
	f.b += 15 * float64(lines-1)
	f.h += 15 * float64(lines-1)
	h = f.h
	var sb strings.Builder
	svgOpen(&sb, w, h, c.Title)
	if !c.hasData() {
		noData(&sb, f)
		return sb.String()
	}
	yf := c.YFormat
	if yf == nil {
		yf = num
	}
	axes(&sb, f, nil, num, niceTicks(c.Y0, c.Y1, 7), yf, "", c.YLabel)
	fmt.Fprintf(&sb, `<text class="x-label" x="%.1f" y="%.1f" text-anchor="middle" font-size="13">%s</text>`, (f.l+f.w-f.r)/2, f.h-f.b+38+15*float64(lines-1), esc(c.XLabel))
	ng := float64(len(c.Groups))
	bw := cw * 0.8 / math.Max(ng, 1)
	for ci, cat := range c.Categories {
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#333">`, f.px(float64(ci)+0.5), f.h-f.b+17)
		for li, l := range wrapWords(cat, perLine) {
			dy := "0"
			if li > 0 {
				dy = "15"
			}
			fmt.Fprintf(&sb, `<tspan x="%.1f" dy="%s">%s</tspan>`, f.px(float64(ci)+0.5), dy, esc(l))
		}
		sb.WriteString(`</text>`)
	}
	// Reference bands go under the bars, reference lines over them.
	hasBand, hasLine := false, false
	for ci, r := range c.Refs {
		if ci >= len(c.Categories) || math.IsNaN(r.Lo) || math.IsNaN(r.Hi) {
			continue
		}
		hasBand = true
		x0 := f.px(float64(ci)) + cw*0.04
		top, bot := f.py(clamp(r.Hi, c.Y0, c.Y1)), f.py(clamp(r.Lo, c.Y0, c.Y1))
		fmt.Fprintf(&sb, `<g class="ref-band"><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#000" fill-opacity="0.12"/>`, esc(r.Label), x0, top, cw*0.92, bot-top)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="#222">%s</text></g>`, x0+cw*0.46, top-4, esc(r.Label))
	}
	cut := false // a whisker runs past the axis
	for gi, g := range c.Groups {
		col := Palette[gi%len(Palette)]
		fmt.Fprintf(&sb, `<g class="series" data-name="%s">`, esc(g))
		for ci := range c.Categories {
			m := c.Mean[gi][ci]
			if math.IsNaN(m) {
				continue
			}
			x := f.px(float64(ci)) + cw*0.1 + float64(gi)*bw
			top, base := f.py(m), f.py(c.Y0)
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s [%s, %s]</title></rect>`,
				x+1, math.Min(top, base), math.Max(bw-2, 1), math.Abs(base-top), col, esc(c.Categories[ci]), esc(g), f2(m), f2(c.Lo[gi][ci]), f2(c.Hi[gi][ci]))
			if lo, hi := c.Lo[gi][ci], c.Hi[gi][ci]; !math.IsNaN(lo) && !math.IsNaN(hi) {
				cut = whisker(&sb, f, x+bw/2, lo, hi, 3, `stroke="#222" stroke-width="1.2"`) || cut
			}
		}
		sb.WriteString(`</g>`)
	}
	for ci, r := range c.Refs {
		if ci >= len(c.Categories) || math.IsNaN(r.Value) || !(math.IsNaN(r.Lo) || math.IsNaN(r.Hi)) {
			continue
		}
		hasLine = true
		y := f.py(clamp(r.Value, c.Y0, c.Y1))
		x0 := f.px(float64(ci)) + cw*0.04
		fmt.Fprintf(&sb, `<line class="ref" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="6 3"><title>%s: %s</title></line>`, x0, x0+cw*0.92, y, y, HumanColor, esc(c.RefLabel), esc(yf(r.Value)))
	}
	var leg []LegendEntry
	for gi, g := range c.Groups {
		leg = append(leg, LegendEntry{Name: g, Color: Palette[gi%len(Palette)], Marker: "bar"})
	}
	if hasLine {
		leg = append(leg, LegendEntry{Name: c.RefLabel, Color: HumanColor, Dashed: true, Marker: "none"})
	}
	if hasBand {
		leg = append(leg, LegendEntry{Name: "range (not a CI)", Color: "#d9d9d9", Marker: "bar"})
	}
	if cut {
		leg = append(leg, cutEntry)
	}
	legend(&sb, w-f.r+18, f.t+10, c.LegendTitle, leg)
	sb.WriteString(`</svg>`)
	return sb.String()
}

// HeatMap is a grid of values with a colour scale and the value printed in each cell.
type HeatMap struct {
	Title, XLabel, YLabel, ZLabel string
	XCats, YCats                  []string    // column and row labels; row 0 is drawn at the bottom
	Z                             [][]float64 // [row][column]; NaN is drawn grey
	Z0, Z1                        float64
	ZFormat                       func(float64) string // cell values and colour-bar ticks; default two decimals
}

// heat maps t in [0,1] to a sequential white-to-dark-red scale.
func heat(t float64) string {
	stops := [][3]float64{{255, 255, 229}, {254, 227, 145}, {254, 153, 41}, {217, 72, 1}, {127, 39, 4}}
	t = math.Max(0, math.Min(1, t))
	p := t * float64(len(stops)-1)
	i := int(math.Min(p, float64(len(stops)-2)))
	u := p - float64(i)
	var c [3]int
	for k := range c {
		c[k] = int(math.Round(stops[i][k] + u*(stops[i+1][k]-stops[i][k])))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// SVG renders the heat map.
func (c HeatMap) SVG() string {
	cell := 46.0
	w := 80 + cell*float64(len(c.XCats)) + 110
	h := 40 + cell*float64(len(c.YCats)) + 56
	var sb strings.Builder
	svgOpen(&sb, w, h, c.Title)
	l, t := 80.0, 36.0
	for r := range c.YCats {
		y := t + cell*float64(len(c.YCats)-1-r)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#333">%s</text>`, l-6, y+cell/2, esc(c.YCats[r]))
		for k := range c.XCats {
			x := l + cell*float64(k)
			v := c.Z[r][k]
			fill, txt, tc := "#bbbbbb", "", "#000"
			if !math.IsNaN(v) {
				u := (v - c.Z0) / (c.Z1 - c.Z0)
				fill, txt = heat(u), f2(v)
				if c.ZFormat != nil {
					txt = c.ZFormat(v)
				}
				if u > 0.6 {
					tc = "#fff"
				}
			}
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="#fff"/>`, x, y, cell, cell, fill)
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" dominant-baseline="middle" font-size="11" fill="%s">%s</text>`, x+cell/2, y+cell/2, tc, txt)
		}
	}
	bottom := t + cell*float64(len(c.YCats))
	for k, xc := range c.XCats {
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#333">%s</text>`, l+cell*(float64(k)+0.5), bottom+16, esc(xc))
	}
	right := l + cell*float64(len(c.XCats))
	fmt.Fprintf(&sb, `<text class="x-label" x="%.1f" y="%.1f" text-anchor="middle" font-size="13">%s</text>`, (l+right)/2, bottom+38, esc(c.XLabel))
	cy := (t + bottom) / 2
	fmt.Fprintf(&sb, `<text class="y-label" x="16" y="%.1f" text-anchor="middle" font-size="13" transform="rotate(-90 16 %.1f)">%s</text>`, cy, cy, esc(c.YLabel))
	// colour bar
	bx, bh := right+24, bottom-t
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.2f" width="14" height="%.2f" fill="%s"/>`, bx, t+bh*(1-float64(i+1)/50), bh/50+0.3, heat(float64(i)/49))
	}
	zf := c.ZFormat
	if zf == nil {
		zf = num
	}
	for _, v := range niceTicks(c.Z0, c.Z1, 5) {
		y := t + bh*(1-(v-c.Z0)/(c.Z1-c.Z0))
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" dominant-baseline="middle" font-size="11">%s</text>`, bx+18, y, esc(zf(v)))
	}
	fmt.Fprintf(&sb, `<text class="legend" x="%.1f" y="%.1f" text-anchor="middle" font-size="11" transform="rotate(-90 %.1f %.1f)">%s</text>`, bx+62, cy, bx+62, cy, esc(c.ZLabel))
	sb.WriteString(`</svg>`)
	return sb.String()
}

// NetworkChart draws a graph with nodes coloured by state. Without positions it lays the graph
// out with a deterministic force-directed layout.
type NetworkChart struct {
	Title  string
	N      int
	Edges  [][2]int
	Pos    [][2]float64 // optional, any scale
	State  []string     // per node
	IDs    []int        // optional agent id per node, for the tooltips (default: the node index)
	States []string     // legend order; states not listed are appended in sorted order
	Colors map[string]string
}

// SVG renders the drawing.
func (c NetworkChart) SVG() string {
	w, h := 660.0, 520.0
	pos := c.Pos
	if len(pos) != c.N {
		pos = layout(c.N, c.Edges)
	}
	xs, ys := make([]float64, c.N), make([]float64, c.N)
	for i, p := range pos {
		xs[i], ys[i] = p[0], p[1]
	}
	f := frame{w: w, h: h, l: 20, r: 180, t: 36, b: 20}
	f.x0, f.x1 = minMax(xs)
	f.y0, f.y1 = minMax(ys)
	if f.x0 == f.x1 {
		f.x0, f.x1 = f.x0-1, f.x1+1
	}
	if f.y0 == f.y1 {
		f.y0, f.y1 = f.y0-1, f.y1+1
	}
	var sb strings.Builder
	svgOpen(&sb, w, h, c.Title)
	sb.WriteString(`<g class="edges" stroke="#999" stroke-opacity="0.5" stroke-width="0.8">`)
	for _, e := range c.Edges {
		a, b := e[0], e[1]
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, f.px(pos[a][0]), f.py(pos[a][1]), f.px(pos[b][0]), f.py(pos[b][1]))
	}
	sb.WriteString(`</g>`)
	states := append([]string(nil), c.States...)
	seen := map[string]bool{}
	for _, s := range states {
		seen[s] = true
	}
	var extra []string
	for _, s := range c.State {
		if !seen[s] {
			seen[s] = true
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	states = append(states, extra...)
	color := func(s string) string {
		if col, ok := c.Colors[s]; ok {
			return col
		}
		for i, x := range states {
			if x == s {
				return Palette[i%len(Palette)]
			}
		}
		return "#777"
	}
	sb.WriteString(`<g class="nodes" stroke="#fff" stroke-width="0.8">`)
	for i := 0; i < c.N; i++ {
		s := ""
		if i < len(c.State) {
			s = c.State[i]
		}
		id := i
		if i < len(c.IDs) {
			id = c.IDs[i]
		}
		fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s"><title>agent %d: %s</title></circle>`, f.px(pos[i][0]), f.py(pos[i][1]), color(s), id, esc(s))
	}
	sb.WriteString(`</g>`)
	var leg []LegendEntry
	count := map[string]int{}
	for _, s := range c.State {
		count[s]++
	}
	for _, s := range states {
		leg = append(leg, LegendEntry{Name: fmt.Sprintf("%s (%d)", s, count[s]), Color: color(s), Marker: "bar"})
	}
	legend(&sb, w-f.r+18, f.t+10, "", leg)
	sb.WriteString(`</svg>`)
	return sb.String()
}

// layout is a deterministic Fruchterman-Reingold layout started from a circle.
func layout(n int, edges [][2]int) [][2]float64 {
	pos := make([][2]float64, n)
	for i := range pos {
		a := 2 * math.Pi * float64(i) / float64(max(n, 1))
		pos[i] = [2]float64{math.Cos(a), math.Sin(a)}
	}
	if n < 2 {
		return pos
	}
	k := math.Sqrt(4.0 / float64(n))
	temp := 0.2
	disp := make([][2]float64, n)
	for it := 0; it < 300; it++ {
		for i := range disp {
			disp[i] = [2]float64{}
		}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				dx, dy := pos[i][0]-pos[j][0], pos[i][1]-pos[j][1]
				d := math.Max(math.Hypot(dx, dy), 1e-3)
				fr := k * k / d
				disp[i][0] += dx / d * fr
				disp[i][1] += dy / d * fr
				disp[j][0] -= dx / d * fr
				disp[j][1] -= dy / d * fr
			}
		}
		for _, e := range edges {
			a, b := e[0], e[1]
			dx, dy := pos[a][0]-pos[b][0], pos[a][1]-pos[b][1]
			d := math.Max(math.Hypot(dx, dy), 1e-3)
			fa := d * d / k
			disp[a][0] -= dx / d * fa
			disp[a][1] -= dy / d * fa
			disp[b][0] += dx / d * fa
			disp[b][1] += dy / d * fa
		}
		for i := range pos {
			d := math.Max(math.Hypot(disp[i][0], disp[i][1]), 1e-9)
			step := math.Min(d, temp)
			pos[i][0] += disp[i][0] / d * step
			pos[i][1] += disp[i][1] / d * step
		}
		temp *= 0.985
	}
	return pos
}

// MediationDiagram draws X -> M -> Y with the path estimates and the indirect effect.
type MediationDiagram struct {
	Title      string
	X, M, Y    string // variable names
	A, SEA     float64
	B, SEB     float64
	C, CPrime  float64
	Indirect   float64
	Lo, Hi     float64 // CI of the indirect effect
	CILabel    string  // e.g. "95% cluster bootstrap CI (5000 resamples, clustered by agent)"
	N, Cluster int
}

// SVG renders the diagram.
func (c MediationDiagram) SVG() string {
	w, h := 660.0, 330.0
	var sb strings.Builder
	svgOpen(&sb, w, h, c.Title)
	box := func(cx, cy float64, label string) {
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="150" height="44" rx="6" fill="#f4f6fa" stroke="#333"/>`, cx-75, cy-22)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" dominant-baseline="middle" font-size="13">%s</text>`, cx, cy, esc(label))
	}
	sb.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#333"/></marker></defs>`)
	xx, xy := 110.0, 200.0
	mx, my := 330.0, 80.0
	yx, yy := 550.0, 200.0
	arrow := func(x1, y1, x2, y2 float64) {
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333" stroke-width="1.6" marker-end="url(#arrow)"/>`, x1, y1, x2, y2)
	}
	arrow(xx+30, xy-22, mx-60, my+22)
	arrow(mx+60, my+22, yx-30, yy-22)
	arrow(xx+75, xy, yx-77, yy)
	box(xx, xy, c.X)
	box(mx, my, c.M)
	box(yx, yy, c.Y)
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="12">a = %s (SE %s)</text>`, (xx+mx)/2-12, (xy+my)/2-6, f2(c.A), f2(c.SEA))
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="start" font-size="12">b = %s (SE %s)</text>`, (mx+yx)/2+12, (my+yy)/2-6, f2(c.B), f2(c.SEB))
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12">direct c&#8242; = %s; total c = %s</text>`, (xx+yx)/2, xy+20, f2(c.CPrime), f2(c.C))
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="13" font-weight="bold">indirect a&#183;b = %s, CI [%s, %s]</text>`, w/2, 268.0, f2(c.Indirect), f2(c.Lo), f2(c.Hi))
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="#444">%s; n = %s, %s</text>`, w/2, 290.0, esc(c.CILabel), plural.Count(c.N, "observation"), plural.Count(c.Cluster, "agent"))
	sb.WriteString(`</svg>`)
	return sb.String()
}

// ForestRow is one estimate of a ForestPlot: a point and its CI.
type ForestRow struct {
	Label        string
	Mean, Lo, Hi float64 // NaN Lo/Hi draws the point alone; NaN Mean leaves the row empty
	Color        string  // default: the palette's first colour
}

// ForestPlot draws one row per estimate: a point with its CI whisker, against a vertical
// line at zero (no difference).
type ForestPlot struct {
	Title, XLabel, YLabel string
	Rows                  []ForestRow
	Legend                []LegendEntry // optional, drawn right of the plot
	Width                 float64
}

// SVG renders the plot.
func (c ForestPlot) SVG() string {
	w := c.Width
	if w == 0 {
		w = 660
	}
	longest := 0
	for _, r := range c.Rows {
		longest = max(longest, len([]rune(r.Label)))
	}
	rowH := 22.0
	// The plot is at least as tall as its rotated y title, so a chart of two rows does not cut it.
	plotH := math.Max(rowH*float64(max(len(c.Rows), 1)), 6.5*float64(len([]rune(c.YLabel)))+16)
	rowH = plotH / float64(max(len(c.Rows), 1))
	f := frame{w: w, h: 36 + 56 + plotH, l: math.Min(40+6.5*float64(longest), w/2), r: 24, t: 36, b: 56}
	if len(c.Legend) > 0 {
		f.r = 150
	}
	xs := []float64{0}
	for _, r := range c.Rows {
		for _, v := range []float64{r.Mean, r.Lo, r.Hi} {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				xs = append(xs, v)
			}
		}
	}
	f.x0, f.x1 = minMax(xs)
	if f.x0 == f.x1 {
		f.x0, f.x1 = f.x0-1, f.x1+1
	}
	pad := (f.x1 - f.x0) * 0.06
	f.x0, f.x1 = f.x0-pad, f.x1+pad
	var sb strings.Builder
	svgOpen(&sb, w, f.h, c.Title)
	xt := niceTicks(f.x0, f.x1, 7)
	for _, x := range xt {
		p := f.px(x)
		fmt.Fprintf(&sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, p, p, f.t, f.h-f.b)
		fmt.Fprintf(&sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`, p, p, f.h-f.b, f.h-f.b+4)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#333">%s</text>`, p, f.h-f.b+17, esc(num(x)))
	}
	fmt.Fprintf(&sb, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`, f.l, f.w-f.r, f.h-f.b, f.h-f.b)
	z := f.px(0)
	fmt.Fprintf(&sb, `<line class="zero" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333" stroke-dasharray="4 3"/>`, z, z, f.t, f.h-f.b)
	fmt.Fprintf(&sb, `<text class="x-label" x="%.1f" y="%.1f" text-anchor="middle" font-size="13">%s</text>`, (f.l+f.w-f.r)/2, f.h-f.b+38, esc(c.XLabel))
	if c.YLabel != "" {
		cy := (f.t + f.h - f.b) / 2
		fmt.Fprintf(&sb, `<text class="y-label" x="16" y="%.1f" text-anchor="middle" font-size="13" transform="rotate(-90 16 %.1f)">%s</text>`, cy, cy, esc(c.YLabel))
	}
	for i, r := range c.Rows {
		y := f.t + rowH*(float64(i)+0.5)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#333">%s</text>`, f.l-8, y, esc(r.Label))
		if math.IsNaN(r.Mean) {
			continue
		}
		col := r.Color
		if col == "" {
			col = Palette[0]
		}
		fmt.Fprintf(&sb, `<g class="estimate"><title>%s: %s [%s, %s]</title>`, esc(r.Label), f2(r.Mean), f2(r.Lo), f2(r.Hi))
		if !math.IsNaN(r.Lo) && !math.IsNaN(r.Hi) {
			lo, hi := f.px(r.Lo), f.px(r.Hi)
			fmt.Fprintf(&sb, `<path d="M%.1f %.1fH%.1fM%.1f %.1fv8M%.1f %.1fv8" stroke="%s" stroke-width="1.4" fill="none"/>`, lo, y, hi, lo, y-4, hi, y-4, col)
		}
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="8" height="8" fill="%s"/></g>`, f.px(r.Mean)-4, y-4, col)
	}
	if len(c.Legend) > 0 {
		legend(&sb, w-f.r+18, f.t+10, "", c.Legend)
	}
	sb.WriteString(`</svg>`)
	return sb.String()
}
