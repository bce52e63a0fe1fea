package report

import (
	"fmt"
	"strings"
)

// SmallMultiples draws line charts as a grid of panels on shared axes with one legend: series
// that would overlap in one chart (a condition and its control in each of several groups)
// each get a panel, and a series keeps its name's colour and marker in every panel.
type SmallMultiples struct {
	Title, XLabel, YLabel string
	LegendTitle           string
	// Panels are drawn left to right, top to bottom; each one's Title names it and its Series
	// and Bands are drawn. The x axis is shared; so is the y axis, except for a panel that sets
	// its own Y0..Y1 (a group whose shares are an order of magnitude smaller than the others').
	Panels         []LineChart
	X0, X1, Y0, Y1 float64 // shared axis ranges; fitted to all panels' data when X0 == X1 (Y0 == Y1)
	XTicks, YTicks []float64
	YFormat        func(float64) string
	Columns        int     // panels per row; default 2 (1 for a single panel)
	Width          float64 // default MaxWidth
	PanelHeight    float64 // default 230
}

// SVG renders the panels.
func (c SmallMultiples) SVG() string {
	w := c.Width
	if w == 0 {
		w = MaxWidth
	}
	cols := c.Columns
	if cols == 0 {
		cols = min(2, max(len(c.Panels), 1))
	}
	rows := max((len(c.Panels)+cols-1)/cols, 1)
	ph := c.PanelHeight
	if ph == 0 {
		ph = 230
	}
	var names []string
	for _, p := range c.Panels {
		for _, s := range p.Series {
			names = append(names, s.Name)
		}
		for _, b := range p.Bands {
			names = append(names, b.Label)
		}
	}
	right := legendWidth(190, c.LegendTitle, names)
	const top, left, bottom = 36.0, 30.0, 36.0    // whole figure: title, y title, x title
	const pl, pr, pt, pb = 48.0, 14.0, 30.0, 24.0 // each panel: tick labels, its title
	h := top + ph*float64(rows) + bottom
	pw := (w - left - right) / float64(cols)

	all := LineChart{X0: c.X0, X1: c.X1, Y0: c.Y0, Y1: c.Y1}
	for _, p := range c.Panels {
		all.Series = append(all.Series, p.Series...)
	}
	x0, x1, y0, y1 := all.dataRange()
	xpad := (x1 - x0) * 0.04
	xt, yt := within(c.XTicks, x0-xpad, x1+xpad), c.YTicks
	if xt == nil {
		xt = niceTicks(x0, x1, min(8, max(3, int(pw/60))))
	}
	if yt == nil {
		yt = niceTicks(y0, y1, 5)
	}
	yf := c.YFormat
	if yf == nil {
		yf = num
	}

	var sb strings.Builder
	svgOpen(&sb, w, h, c.Title)
	full := frame{w: w, h: h, l: left + pl, r: right + pr, t: top + pt, b: bottom + pb}
	if !all.hasData() {
		noData(&sb, full)
		return sb.String()
	}
	// One colour and marker per series name, in order of first appearance.
	type style struct{ col, mk string }
	styles := map[string]style{}
	var leg []LegendEntry
	var bandLeg []LegendEntry
	seenBand := map[string]bool{}
	colorOf := func(_ int, s Series) (string, string) {
		st, ok := styles[s.Name]
		if !ok {
			n := len(styles)
			st = style{s.Color, s.Marker}
			if st.col == "" {
				st.col = Palette[n%len(Palette)]
			}
			if st.mk == "" {
				st.mk = markers[n%len(markers)]
			}
			styles[s.Name] = st
			leg = append(leg, LegendEntry{Name: s.Name, Color: st.col, Dashed: s.Dashed, Marker: st.mk})
		}
		return st.col, st.mk
	}
	for i, p := range c.Panels {
		r, k := i/cols, i%cols
		pleft := left + pw*float64(k)
		ptop := top + ph*float64(r)
		f := frame{w: w, h: h, l: pleft + pl, r: w - (pleft + pw - pr), t: ptop + pt, b: h - (ptop + ph - pb),
			x0: x0 - xpad, x1: x1 + xpad, y0: y0, y1: y1}
		pyt := within(yt, y0, y1)
		if p.Y0 != p.Y1 {
			f.y0, f.y1 = p.Y0, p.Y1
			pyt = niceTicks(p.Y0, p.Y1, 5)
		}
		fmt.Fprintf(&sb, `<g class="panel" data-name="%s">`, esc(p.Title))
		fmt.Fprintf(&sb, `<text class="panel-title" x="%.1f" y="%.1f" text-anchor="middle" font-size="12" font-weight="bold">%s</text>`, (f.l+f.w-f.r)/2, ptop+pt-10, esc(p.Title))
		axes(&sb, f, xt, num, pyt, yf, "", "")
		if !p.hasData() {
			fmt.Fprintf(&sb, `<text class="no-data" x="%.1f" y="%.1f" text-anchor="middle" dominant-baseline="middle" fill="#555">no data</text>`, (f.l+f.w-f.r)/2, (f.t+f.h-f.b)/2)
		}
		for _, e := range p.plot(&sb, f, colorOf) {
			if (e.Marker == "bar" || e == cutEntry) && !seenBand[e.Name] { // bands and cut whiskers: named once
				seenBand[e.Name] = true
				bandLeg = append(bandLeg, e)
			}
		}
		sb.WriteString(`</g>`)
	}
	fmt.Fprintf(&sb, `<text class="x-label" x="%.1f" y="%.1f" text-anchor="middle" font-size="13">%s</text>`, left+(w-left-right)/2, h-10, esc(c.XLabel))
	cy := top + ph*float64(rows)/2
	fmt.Fprintf(&sb, `<text class="y-label" x="16" y="%.1f" text-anchor="middle" font-size="13" transform="rotate(-90 16 %.1f)">%s</text>`, cy, cy, esc(c.YLabel))
	legend(&sb, w-right+18, top+pt+10, c.LegendTitle, append(bandLeg, leg...))
	sb.WriteString(`</svg>`)
	return sb.String()
}

// hasData reports whether any panel has a point to draw.
func (c SmallMultiples) hasData() bool {
	for _, p := range c.Panels {
		if p.hasData() {
			return true
		}
	}
	return false
}
