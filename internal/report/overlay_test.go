package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestOverlayNamesSeriesByRunAndDrawsReferencesOnce(t *testing.T) {
	human := Series{Name: "Humans", X: []float64{1, 2}, Y: []float64{5, 6}, Color: HumanColor, Dashed: true, Reference: true}
	a := LineChart{Title: "Rates", LegendTitle: "Condition", Series: []Series{{Name: "control", X: []float64{1, 2}, Y: []float64{1, 2}}, human}}
	b := LineChart{Title: "Rates", LegendTitle: "Condition", Series: []Series{{Name: "control", X: []float64{1, 2}, Y: []float64{3, 4}}, human}}
	c, ok := Overlay([]string{"gpt", "claude"}, []any{a, b})
	if !ok {
		t.Fatal("line charts do not overlay")
	}
	lc := c.(LineChart)
	var names []string
	for _, s := range lc.Series {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, "|"); got != "gpt: control|Humans|claude: control" {
		t.Errorf("series %q", got)
	}
	if lc.Series[0].Color == lc.Series[2].Color {
		t.Error("the runs' series have one colour")
	}
	if lc.LegendTitle != "Run: Condition" {
		t.Errorf("legend title %q", lc.LegendTitle)
	}
	if c, ok := Overlay([]string{"gpt", "claude"}, []any{&a, b}); !ok || len(c.(LineChart).Series) != 3 {
		t.Error("a chart embedded by pointer does not overlay")
	}
	if _, ok := Overlay([]string{"a", "b"}, []any{HeatMap{}, HeatMap{}}); ok {
		t.Error("heat maps overlaid")
	}

	ba := BarChart{Title: "Means", Categories: []string{"x", "y"}, Groups: []string{"g"}, Mean: [][]float64{{1, 2}}, Lo: [][]float64{{0, 1}}, Hi: [][]float64{{2, 3}}}
	bb := BarChart{Title: "Means", Categories: []string{"y"}, Groups: []string{"g"}, Mean: [][]float64{{5}}, Lo: [][]float64{{4}}, Hi: [][]float64{{6}}}
	c, _ = Overlay([]string{"a", "m", "b"}, []any{ba, nil, bb})
	bc := c.(BarChart)
	if strings.Join(bc.Groups, "|") != "a: g|b: g" || !math.IsNaN(bc.Mean[1][0]) || bc.Mean[1][1] != 5 {
		t.Errorf("bars: groups %v means %v", bc.Groups, bc.Mean)
	}

}

func TestCompareOverlaysSharedFiguresOnly(t *testing.T) {
	tmpl := template.Must(template.New("s").Funcs(Funcs).Parse(`<figure>{{svg .A}}<figcaption>Figure {{figure}}.</figcaption></figure><figure>{{svg .B}}<figcaption>Figure {{figure}}.</figcaption></figure>`))
	run := func(y float64) []Section {
		return []Section{{ID: "s", Title: "Study", Render: func(fig *Figures) (template.HTML, error) {
			return Exec(tmpl, map[string]any{
				"A": LineChart{Title: "Shared", Series: []Series{{Name: "c", X: []float64{1, 2}, Y: []float64{y, y + 1}}}},
				"B": HeatMap{Title: "Own " + string(rune('0'+int(y))), XCats: []string{"a"}, YCats: []string{"b"}, Z: [][]float64{{y}}, Z0: 0, Z1: 9},
			}, fig)
		}}}
	}
	var b strings.Builder
	figs, err := WritePageFigures(&b, "cmp", []string{"a", "b"}, nil, Compare([]RunSections{{"run1", run(1)}, {"run2", run(2)}}))
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, f := range figs {
		titles = append(titles, f.Title)
	}
	// The shared chart once (overlaid), each run's heat map in its own section.
	if got := strings.Join(titles, "|"); got != "Shared|Own 1|Own 2" {
		t.Errorf("figures %q", got)
	}
	if !strings.Contains(figs[0].SVG, "run1: c") || !strings.Contains(figs[0].SVG, "run2: c") {
		t.Error("the overlay does not name both runs' series")
	}
	if n := strings.Count(b.String(), "drawn with the other runs' in Figure 1"); n != 2 {
		t.Errorf("%d pointers to the overlay, want one per run", n)
	}
	if !strings.Contains(b.String(), "Study [run2]") {
		t.Error("run sections are not titled by run")
	}
	// No figure number without a picture: the figures (and --figures' files) are numbered
	// 1, 2, 3, each caption's own number is one of them, and an overlaid chart's caption in
	// a run's section takes the overlay's number.
	for i, f := range figs {
		if f.N != i+1 || f.File() != fmt.Sprintf("figure-%02d.svg", i+1) {
			t.Errorf("figure %d of the page is numbered %d (%s)", i+1, f.N, f.File())
		}
	}
	page := html.UnescapeString(b.String())
	var nums []string
	for _, m := range regexp.MustCompile(`<figcaption>(?:<b>)?Figure ([0-9]+)([^.]*)\.`).FindAllStringSubmatch(page, -1) {
		nums = append(nums, m[1]+m[2])
	}
	if got := strings.Join(nums, "|"); got != "1|1, this run's series|2|1, this run's series|3" {
		t.Errorf("captions %q", got)
	}
}

// Figures are matched by title alone, and the comparison says so: runs whose titles differ
// (a Study 3 run of several treated conditions ends each with ": poor_burden vs control")
// share no figure, and the page gives the rule (QA7 repro-13: "The runs share no figure" with
// no reason); same-titled charts that do not overlay are named, with why.
func TestCompareSaysWhyFiguresAreNotOverlaid(t *testing.T) {
	tmpl := template.Must(template.New("s").Funcs(Funcs).Parse(`{{range .}}<figure>{{svg .}}<figcaption>Figure {{figure}}.</figcaption></figure>{{end}}`))
	run := func(charts ...any) []Section {
		return []Section{{ID: "s", Title: "Study", Render: func(fig *Figures) (template.HTML, error) { return Exec(tmpl, charts, fig) }}}
	}
	line := func(title string) LineChart {
		return LineChart{Title: title, Series: []Series{{Name: "c", X: []float64{1, 2}, Y: []float64{1, 2}}}}
	}
	page := func(a, b []Section) string {
		var w strings.Builder
		if _, err := WritePageFigures(&w, "cmp", []string{"a", "b"}, nil, Compare([]RunSections{{"run1", a}, {"run2", b}})); err != nil {
			t.Fatal(err)
		}
		return html.UnescapeString(w.String())
	}
	got := page(run(line("Willingness by exposure group")), run(line("Willingness by exposure group: poor_burden vs control")))
	if !strings.Contains(got, "The runs share no figure: a figure is drawn once for several runs when they draw one of the same title") {
		t.Errorf("the page does not give the rule when nothing is overlaid:\n%s", got)
	}
	heat := HeatMap{Title: "Cells", XCats: []string{"a"}, YCats: []string{"b"}, Z: [][]float64{{1}}, Z0: 0, Z1: 9}
	bars := BarChart{Title: "Means", Categories: []string{"x"}, Groups: []string{"g"}, Mean: [][]float64{{1}}, Lo: [][]float64{{0}}, Hi: [][]float64{{2}}}
	got = page(run(line("Shared"), heat, bars), run(line("Shared"), heat, line("Means")))
	for _, want := range []string{
		"Each figure that more than one run draws (the same title above the chart) is drawn once",
		`Drawn by more than one run but not overlaid, each in its run's sections: "Cells" (a heat map is drawn per run); "Means" (drawn as a bar chart and a line chart, which do not overlay).`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "share no figure") {
		t.Error("says the runs share no figure though one is overlaid")
	}
}
