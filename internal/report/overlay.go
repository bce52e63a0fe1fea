package report

import (
	"fmt"
	"math"
	"slices"
)

// Overlay draws the same chart of several runs as one chart: every run's series (bars,
// panels' series, forest rows) in one plot, coloured by run, named "run: series", with the
// legend titled by run. charts[i] is run i's chart, nil where that run has none; all must be
// of one kind. ok is false for kinds that do not overlay (heat maps, network drawings,
// mediation diagrams: each run keeps its own).
func Overlay(runs []string, charts []any) (c interface{ SVG() string }, ok bool) {
	var kind string
	charts = slices.Clone(charts)
	for i, ch := range charts {
		switch p := ch.(type) { // sections may embed a chart by pointer
		case *LineChart:
			charts[i] = deref(p)
		case *SmallMultiples:
			charts[i] = deref(p)
		case *BarChart:
			charts[i] = deref(p)
		case *ForestPlot:
			charts[i] = deref(p)
		}
		ch = charts[i]
		if ch == nil {
			continue
		}
		k := fmt.Sprintf("%T", ch)
		if kind != "" && k != kind {
			return nil, false
		}
		kind = k
	}
	switch kind {
	case "report.LineChart":
		var out LineChart
		for i, ch := range charts {
			if lc, isLC := ch.(LineChart); isLC {
				if out.Title == "" {
					out = lc
					out.Series = nil
					out.LegendTitle = legendByRun(lc.LegendTitle)
					out.Width = math.Max(lc.Width, 900) // the longer legend names ("run: series") need room
				}
				out.Series = append(out.Series, byRun(runs[i], i, lc.Series, out.Series)...)
			}
		}
		return out, true
	case "report.SmallMultiples":
		var out SmallMultiples
		for i, ch := range charts {
			sm, isSM := ch.(SmallMultiples)
			if !isSM {
				continue
			}
			if out.Title == "" {
				out = sm
				out.Panels = nil
				out.LegendTitle = legendByRun(sm.LegendTitle)
			}
			for _, p := range sm.Panels {
				j := slices.IndexFunc(out.Panels, func(q LineChart) bool { return q.Title == p.Title })
				if j < 0 {
					out.Panels = append(out.Panels, LineChart{Title: p.Title, Bands: p.Bands})
					j = len(out.Panels) - 1
				}
				out.Panels[j].Series = append(out.Panels[j].Series, byRun(runs[i], i, p.Series, out.Panels[j].Series)...)
			}
		}
		return out, true
	case "report.BarChart":
		var out BarChart
		for i, ch := range charts {
			bc, isBC := ch.(BarChart)
			if !isBC {
				continue
			}
			if out.Title == "" {
				out = bc
				out.Groups, out.Mean, out.Lo, out.Hi, out.Width = nil, nil, nil, nil, 0
				out.LegendTitle = legendByRun(bc.LegendTitle)
			}
			for g, name := range bc.Groups {
				m, lo, hi := nanRow(len(out.Categories)), nanRow(len(out.Categories)), nanRow(len(out.Categories))
				for k, cat := range bc.Categories {
					j := slices.Index(out.Categories, cat)
					if j < 0 {
						continue // a category the first run lacks is left out
					}
					m[j], lo[j], hi[j] = bc.Mean[g][k], bc.Lo[g][k], bc.Hi[g][k]
				}
				out.Groups = append(out.Groups, runs[i]+": "+name)
				out.Mean, out.Lo, out.Hi = append(out.Mean, m), append(out.Lo, lo), append(out.Hi, hi)
			}
		}
		return out, true
	case "report.ForestPlot":
		var out ForestPlot
		for i, ch := range charts {
			fp, isFP := ch.(ForestPlot)
			if !isFP {
				continue
			}
			if out.Title == "" {
				out = fp
				out.Rows, out.Legend = nil, nil
			}
			for _, r := range fp.Rows {
				r.Label = runs[i] + ": " + r.Label
				r.Color = Palette[i%len(Palette)]
				out.Rows = append(out.Rows, r)
			}
			out.Legend = append(out.Legend, LegendEntry{Name: runs[i], Color: Palette[i%len(Palette)], Marker: "square"})
		}
		return out, true
	}
	return nil, false
}

// byRun renames run i's series "run: name" and colours them by run; a run's series keep
// their dash and get a marker each, so they stay apart within the run's colour. Reference
// series are kept as they are, once (have: the series drawn so far).
func byRun(run string, i int, ss, have []Series) []Series {
	var out []Series
	for k, s := range ss {
		if s.Reference {
			if !slices.ContainsFunc(have, func(h Series) bool { return h.Reference && h.Name == s.Name }) {
				out = append(out, s)
			}
			continue
		}
		s.Name = run + ": " + s.Name
		s.Color = Palette[i%len(Palette)]
		if s.Marker != "none" {
			s.Marker = markers[k%len(markers)]
			if s.Dashed {
				s.Marker = "open"
			}
		}
		out = append(out, s)
	}
	return out
}

func legendByRun(t string) string {
	if t == "" {
		return "Run: series"
	}
	return "Run: " + t
}

func nanRow(n int) []float64 {
	r := make([]float64, n)
	for i := range r {
		r[i] = math.NaN()
	}
	return r
}

// deref is *p, or nil (no chart) for a nil pointer.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
