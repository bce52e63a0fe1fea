package report

import (
	"fmt"
	"html/template"
	"slices"

	"strings"
)

// RunSections are one run's own sections of a comparison report, under the run's name.
type RunSections struct {
	Name     string
	Sections []Section
}

// Compare makes the sections of a report comparing runs: first "Figures compared", one chart
// per figure the runs share (same title) with every run's series overlaid and named by run
// (Overlay), then each run's own sections, titled by run, which draw only the charts that
// were not overlaid (heat maps, network drawings, a figure only one run has) and point to
// the overlay for the others.
func Compare(runs []RunSections) []Section {
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name
	}
	compared := Section{ID: "compared", Title: "Figures compared across runs", Render: func(fig *Figures) (template.HTML, error) {
		// First pass: the charts each run's sections draw, by title, in page order.
		var order []string
		byRun := make([]map[string]any, len(runs))
		for i, r := range runs {
			pass := &Figures{collect: map[string]any{}}
			for _, s := range r.Sections {
				if _, err := s.Render(pass); err != nil {
					return "", fmt.Errorf("report section %q of %s: %w", s.Title, r.Name, err)
				}
			}
			byRun[i] = pass.collect
			for _, f := range pass.saved {
				if !slices.Contains(order, f.Title) {
					order = append(order, f.Title)
				}
			}
		}
		var b strings.Builder
		var apart []string // titles more than one run draws that are not overlaid, with why
		fig.overlaid = map[string]int{}
		for _, title := range order {
			charts := make([]any, len(runs))
			have := 0
			for i := range runs {
				if c, ok := byRun[i][title]; ok {
					charts[i] = c
					have++
				}
			}
			if have < 2 {
				continue
			}
			c, ok := Overlay(names, charts)
			if !ok {
				apart = append(apart, fmt.Sprintf(`"%s" (%s)`, title, apartWhy(charts)))
				continue
			}
			svg := fig.embed(c)
			n := fig.Next()
			fig.overlaid[title] = n
			var in []string
			for i, ch := range charts {
				if ch != nil {
					in = append(in, names[i])
				}
			}
			fmt.Fprintf(&b, "<figure>%s<figcaption><b>Figure %d.</b> %s: the series of %s in one chart, coloured by run (each run's section gives the caption, the tables and the intervals).</figcaption></figure>\n",
				svg, n, template.HTMLEscapeString(title), template.HTMLEscapeString(strings.Join(in, " and ")))
		}
		// Figures are matched by their title alone (the one above the chart), which names what
		// differs between a run's figures of one kind (a Study 3 run with several treated
		// conditions ends each with ": poor_burden vs control"): say so when none matched.
		var notes strings.Builder
		switch {
		case b.Len() == 0 && len(apart) == 0:
			notes.WriteString(`<p class="note">The runs share no figure: a figure is drawn once for several runs when they draw one of the same title (the title above the chart), and no title is drawn by two runs (a title that names a condition or a contrast, as a Study 3 run of several treated conditions does with ": poor_burden vs control", matches only the same one). Each run's figures follow in its own sections.</p>` + "\n")
		case b.Len() > 0:
			notes.WriteString(`<p class="note">Each figure that more than one run draws (the same title above the chart) is drawn once with every run's series, named "run: series"; references (human figures, zero lines) are drawn once.</p>` + "\n")
		}
		if len(apart) > 0 {
			fmt.Fprintf(&notes, `<p class="note">Drawn by more than one run but not overlaid, each in its run's sections: %s.</p>`+"\n", template.HTMLEscapeString(strings.Join(apart, "; ")))
		}
		return template.HTML(notes.String() + b.String()), nil
	}}
	out := []Section{compared}
	for i, r := range runs {
		for _, s := range r.Sections {
			s.ID = fmt.Sprintf("%s-%d", s.ID, i+1)
			s.Title = fmt.Sprintf("%s [%s]", s.Title, r.Name)
			out = append(out, s)
		}
	}
	return out
}

// apartWhy says why same-titled charts of several runs were not overlaid (Overlay's !ok).
func apartWhy(charts []any) string {
	var kinds []string
	for _, c := range charts {
		if c != nil && !slices.Contains(kinds, chartKind(c)) {
			kinds = append(kinds, chartKind(c))
		}
	}
	if len(kinds) > 1 {
		return "drawn as a " + strings.Join(kinds, " and a ") + ", which do not overlay"
	}
	return "a " + kinds[0] + " is drawn per run"
}

// chartKind names a chart's kind for a reader.
func chartKind(c any) string {
	switch c.(type) {
	case LineChart, *LineChart:
		return "line chart"
	case SmallMultiples, *SmallMultiples:
		return "set of small multiples"
	case BarChart, *BarChart:
		return "bar chart"
	case ForestPlot, *ForestPlot:
		return "forest plot"
	case HeatMap, *HeatMap:
		return "heat map"
	case NetworkChart, *NetworkChart:
		return "network drawing"
	case MediationDiagram, *MediationDiagram:
		return "mediation diagram"
	}
	return "chart"
}
