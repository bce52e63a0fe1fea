package vignettes

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// Estimand of every cell mean: each agent's replicates are averaged first, and the CI is over
// agents, since replicates of one agent are not independent observations.
const estimand = "mean of agent means"

// The interval of a cell mean. A mean of agent means lies on its measure's range (1-7, 0-120, a
// share's 0-1), and so must its interval; a t interval does not (QA: with 2 agents one ran to
// [-292.3, 373.3]%, and choice shares' lower bounds fell to -0.06). When every agent of the
// cell gave one valid answer of a choice, the mean is the share of agents choosing the option,
// and its interval is Wilson's with agents as the unit (it stays informative at 0 and 1, where a bootstrap
// collapses to a point); otherwise it is an expanded percentile bootstrap resampling agents
// (each with its replicates' mean), seeded, which lies within the agents' own values and, unlike
// the plain percentile interval, is not too narrow with few agents
// (analysis.ExpandedBootstrapMeanCI). With fewer than two agents there is no interval.
const (
	ciWilson    = "Wilson over agents"
	ciBootstrap = "expanded percentile bootstrap over agents"
	// bootMeanReps is the bootstrap resamples of agents behind a cell's or a contrast's CI.
	bootMeanReps = 2000
)

// expandedLevels gives two examples of the expanded level, computed (the docs once said 98.9%
// for 12 agents, which is the level for 8).
var expandedLevels = fmt.Sprintf("%.1f%% for 12 agents, %.1f%% for 104", 100*analysis.ExpandedLevel(0.95, 12), 100*analysis.ExpandedLevel(0.95, 104))

// Cell is the mean of one measure in one backend x scenario x condition.
type Cell struct {
	Backend, Scenario, Field, Condition string
	Mean, Lo, Hi                        float64
	Method                              string // how Lo and Hi are computed: ciWilson or ciBootstrap; "" without an interval
	Agents                              int    // agents with at least one valid decision
	Valid, Invalid                      int    // decisions
}

// CellsSchema declares results/vignette_means.csv.
var CellsSchema = table.Schema{Name: "vignette_means", Doc: "Study 1: mean of every response field by backend x scenario x condition", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "scenario", Type: table.String, Doc: "scenario id"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "field", Type: table.String, Doc: "response field (likert or amount), or NAME=OPTION for an option of a choice field: the 0/1 indicator of choosing it, whose mean is a share"},
	{Name: "estimand", Type: table.String, Doc: "what mean is: " + estimand + " (replicates averaged within agent first)"},
	{Name: "mean", Type: table.Float, Doc: "the mean; empty when no agent answered validly"},
	{Name: "ci_low", Type: table.Float, Doc: "95% confidence interval over agents (ci_method), lower bound; within the measure's range; empty with fewer than 2 agents"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "ci_method", Type: table.String, Doc: "how the interval is computed: " + ciWilson + " (a choice's share when every agent answered once: the share of agents) or " + ciBootstrap + " (2000 resamples of agents with replacement, each with its replicates' mean, seeded by the experiment seed; type-7 quantiles at the level Hesterberg's expansion gives for the number of agents: " + expandedLevels + "); empty without an interval"},
	{Name: "agents", Type: table.Int, Doc: "agents with at least one valid decision"},
	{Name: "valid", Type: table.Int, Doc: "valid decisions"},
	{Name: "invalid", Type: table.Int, Doc: "invalid decisions (left out of the mean)"},
}}

// cellKey names one measure (field) in one backend x scenario x condition.
type cellKey struct{ b, s, f, c string }

// agentMeans is every agent's mean rating in every cell, replicates averaged within agent
// (agents with no valid decision in a cell are absent from it), and the cells in design
// order (backend, then the order decisions were asked) with their decision counts; once
// holds the cells where every agent gave exactly one valid answer.
func (s *vignettes) agentMeans() (order []cellKey, counts map[cellKey]*Cell, means map[cellKey]map[int]float64, once map[cellKey]bool) {
	o := s.observed()
	seen := map[cellKey]bool{}
	for _, c := range s.env.Cells {
		for _, it := range s.items {
			if ck := (cellKey{c.Backend, it.Scenario, it.m.Field, c.Condition}); !seen[ck] {
				seen[ck] = true
				order = append(order, ck)
			}
		}
	}
	means, once = map[cellKey]map[int]float64{}, map[cellKey]bool{}
	for k, byAgent := range o.sums {
		means[k] = make(map[int]float64, len(byAgent))
		once[k] = true
		for a, x := range byAgent {
			if x.n > 0 {
				means[k][a] = x.sum / float64(x.n)
				once[k] = once[k] && x.n == 1
			}
		}
	}
	return order, o.counts, means, once
}

// cells computes every cell in design order; the experiment seed seeds the bootstrap
// intervals (each cell its own stream, derived from the cell's names).
func (s *vignettes) cells(order []cellKey, counts map[cellKey]*Cell, am map[cellKey]map[int]float64, once map[cellKey]bool) []Cell {
	expSeed := *s.seed()
	out := make([]Cell, 0, len(order))
	for _, k := range order {
		cs := counts[k]
		agents := make([]int, 0, len(am[k]))
		for a := range am[k] {
			agents = append(agents, a)
		}
		sort.Ints(agents)
		means := make([]float64, 0, len(agents))
		for _, a := range agents {
			means = append(means, am[k][a])
		}
		cs.Agents = len(means)
		cs.Mean = analysis.MeanOrZero(means)
		cs.Lo, cs.Hi = math.NaN(), math.NaN()
		switch {
		case len(means) == 0:
			cs.Mean = math.NaN()
		case len(means) == 1: // no interval over one agent
		case once[k] && s.isShare(k.s, k.f):
			ones := 0
			for _, m := range means {
				if m == 1 {
					ones++
				}
			}
			cs.Lo, cs.Hi = analysis.ProportionCI(ones, len(means), 0.95)
			cs.Method = ciWilson
		default:
			cs.Lo, cs.Hi = analysis.ExpandedBootstrapMeanCI(means, 0.95, bootMeanReps, seed.Derive(expSeed, "vignette_means", k.b, k.s, k.f, k.c))
			cs.Method = ciBootstrap
		}
		out = append(out, *cs)
	}
	return out
}

// seed is the experiment seed the analysis's bootstrap intervals are drawn from.
func (s *vignettes) seed() *uint64 {
	if s.env.Exp.Seed == nil { // a hand-built experiment in a test
		return new(uint64)
	}
	return s.env.Exp.Seed
}

// isShare says the field of a scenario is a choice option's 0/1 indicator.
func (s *vignettes) isShare(scenario, field string) bool {
	return slices.ContainsFunc(s.byScenario[scenario], func(m measure) bool { return m.Field == field && m.share() })
}

// results is Study 1's analysis: every output reads these numbers.
type results struct {
	Backends   []string
	Scenarios  []string
	Conditions []string
	items      []item
	groups     []group
	multi      bool // more than one field: rows name theirs
	Cells      []Cell
	Contrasts  []Contrast
	sens       *sensitivity // nil without factors
}

func (r *results) cell(b string, it item, c string) (Cell, bool) {
	i := slices.IndexFunc(r.Cells, func(x Cell) bool {
		return x.Backend == b && x.Scenario == it.Scenario && x.Field == it.m.Field && x.Condition == c
	})
	if i < 0 || r.Cells[i].Agents == 0 {
		return Cell{}, false
	}
	return r.Cells[i], true
}

func (s *vignettes) Analyze() (*study.Analysis, error) {
	order, counts, am, once := s.agentMeans()
	r := &results{Backends: s.env.Backends, Scenarios: s.env.Exp.Scenarios, Cells: s.cells(order, counts, am, once), items: s.items, groups: groups(s.items)}
	for _, it := range s.items {
		r.multi = r.multi || it.m.Field != s.items[0].m.Field
	}
	for _, c := range s.env.Exp.Conditions {
		r.Conditions = append(r.Conditions, c.Name)
	}
	r.Contrasts = contrasts(r.Backends, r.items, pairs(s.env.Exp), am, s.seed())
	title := "Study 1: responses by scenario and policy"
	if !r.multi {
		title = "Study 1: " + s.items[0].m.Field + " by scenario and policy"
	}
	a := &study.Analysis{
		Tables:   []*table.Table{r.table(), r.contrastTable()},
		Summary:  r.summary,
		Sections: []report.Section{{ID: "study1", Title: title, Render: r.section}},
		About: report.About{Title: "Study 1, everyday scenarios under policy frames (vignettes)",
			Rows: [][2]string{{"Prompt mode", s.env.Exp.Prompt.Mode}}},
	}
	if fs := s.env.Exp.Factors.List(); len(fs) > 0 {
		obs := s.observations()
		x := &sensitivity{Shares: s.shares(obs), Robust: s.robustness(obs, r.Contrasts), Builtin: map[string]bool{}, multi: r.multi}
		for _, b := range s.env.Exp.Backends {
			if b.Provider == "builtin" {
				x.Builtin[b.LabelOrDefault()] = true
			}
		}
		var desc []string
		for _, f := range fs {
			x.Factors = append(x.Factors, f.Name)
			desc = append(desc, f.Name+": "+strings.Join(f.Levels, ", "))
		}
		r.sens = x
		a.Tables = append(a.Tables, x.shareTable(), x.robustTable())
		a.Sections = append(a.Sections, report.Section{ID: "sensitivity", Title: "Study 1: sensitivity to wording and other design factors", Render: x.section(r.Backends)})
		a.About.Rows = append(a.About.Rows, [2]string{"Design factors", strings.Join(desc, "; ")})
	}
	return a, nil
}

func (r *results) table() *table.Table {
	return &table.Table{Schema: CellsSchema, Rows: func(emit func([]any) error) error {
		for _, c := range r.Cells {
			if err := emit([]any{c.Backend, c.Scenario, c.Condition, c.Field, estimand, c.Mean, c.Lo, c.Hi, c.Method, c.Agents, c.Valid, c.Invalid}); err != nil {
				return err
			}
		}
		return nil
	}}
}

// summary prints, per backend, every measure's means by scenario (rows) x condition
// (columns), one table per measure and scale.
func (r *results) summary(w io.Writer) error {
	for _, b := range r.Backends {
		for _, g := range r.groups {
			fmt.Fprintf(w, "\n%s by scenario x condition, 95%% CI over agents (%s); backend %s\n", g.m.What(), r.methods(b, g), report.DescribeBackend(b))
			rows := [][]string{append([]string{"scenario"}, r.Conditions...)}
			for _, it := range g.items {
				row := []string{it.Scenario}
				for _, c := range r.Conditions {
					x, ok := r.cell(b, it, c)
					if !ok {
						row = append(row, "-")
						continue
					}
					row = append(row, fmt.Sprintf("%.2f [%s, %s]", x.Mean, f2s(x.Lo), f2s(x.Hi)))
				}
				rows = append(rows, row)
			}
			if err := termtable.Write(w, 1, rows); err != nil { // split by conditions on a narrow terminal
				return err
			}
		}
		if err := r.contrastSummary(w, b); err != nil {
			return err
		}
		if r.sens != nil {
			if err := r.sens.summary(w, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// methods names the intervals of a group's cells of backend b: "expanded percentile bootstrap", "Wilson"
// or both (a choice whose agents answered once in some cells and more often in others).
func (r *results) methods(b string, g group) string {
	var ms []string
	for _, it := range g.items {
		for _, c := range r.Conditions {
			if x, ok := r.cell(b, it, c); ok && x.Method != "" && !slices.Contains(ms, x.Method) {
				ms = append(ms, x.Method)
			}
		}
	}
	if len(ms) == 0 {
		return "none: fewer than 2 agents with a valid answer"
	}
	slices.Sort(ms)
	return strings.ReplaceAll(strings.Join(ms, " or "), " over agents", "")
}

//go:embed section.html.tmpl
var sectionSrc string

var sectionTmpl = template.Must(template.New("study1").Funcs(report.Funcs).Parse(sectionSrc))

// figure is one backend's chart and table of one measure.
type figure struct {
	Backend string
	What    string // "Mean willingness (1-7)"
	Of      string // the contrasts' measure: "mean willingness (1-7)"
	Chart   report.BarChart
	Agents  string // agents per bar: "104 agents", "1 agent", or "98-104 agents"
	Method  string // the intervals' method(s): "expanded percentile bootstrap"
	Head    []string
	Rows    [][]string
	// Forest and Contrasts show the measure's contrasts (none: no figure); Tests is the size
	// of the Holm family, every contrast of the backend.
	Forest    report.ForestPlot
	Contrasts [][]string
	CHead     []string
	Tests     int
}

// intro is the report's first sentence: what the agents answered.
func (r *results) intro() string {
	if len(r.groups) == 1 && !r.groups[0].m.share() {
		return "Each agent rated its " + r.groups[0].m.describe() + "."
	}
	var ds []string
	for _, g := range r.groups {
		if d := g.m.describe(); !slices.Contains(ds, d) { // a choice's options describe it once
			ds = append(ds, d)
		}
	}
	return "Each agent answered every field of each scenario; Study 1 reports each field on its own scale: " + strings.Join(ds, "; ") + "."
}

// label names an item in a contrast row: its scenario, with its field when the run has several.
func (r *results) label(scenario, field string) string {
	if r.multi {
		return scenario + " " + field
	}
	return scenario
}

func (r *results) section(fig *report.Figures) (template.HTML, error) {
	var figs []figure
	for _, b := range r.Backends {
		tests := 0
		for _, c := range r.Contrasts {
			if c.Backend == b {
				tests++
			}
		}
		for _, g := range r.groups {
			var scs []string
			for _, it := range g.items {
				scs = append(scs, it.Scenario)
			}
			// With several measures a chart's title names its scale too: two fields of one
			// name on different scales would share a title, which a comparison's overlay
			// reads as one chart.
			head := g.m.noun()
			if len(r.groups) > 1 {
				head = g.m.What()
			}
			bc := report.BarChart{
				Title:      head + " by scenario and policy: " + report.DescribeBackend(b),
				XLabel:     "Scenario",
				YLabel:     g.m.axis(),
				Categories: scs,
				Groups:     r.Conditions,
				Y0:         g.m.lo, Y1: g.m.hi,
			}
			nmin, nmax := math.MaxInt, 0
			for _, c := range r.Conditions {
				var m, lo, hi []float64
				for _, it := range g.items {
					x, ok := r.cell(b, it, c)
					if !ok {
						m, lo, hi = append(m, math.NaN()), append(lo, math.NaN()), append(hi, math.NaN())
						continue
					}
					m, lo, hi = append(m, x.Mean), append(lo, x.Lo), append(hi, x.Hi)
					nmin, nmax = min(nmin, x.Agents), max(nmax, x.Agents)
				}
				bc.Mean, bc.Lo, bc.Hi = append(bc.Mean, m), append(bc.Lo, lo), append(bc.Hi, hi)
			}
			f := figure{Backend: report.DescribeBackend(b), What: g.m.What(), Of: g.m.of(), Chart: bc, Agents: plural.Count(nmax, "agent"), Head: append([]string{"scenario"}, r.Conditions...), Tests: tests, Method: r.methods(b, g)}
			if nmin != nmax && nmin != math.MaxInt {
				f.Agents = fmt.Sprintf("%d-%d agents", nmin, nmax)
			}
			for si, sc := range scs {
				row := []string{sc}
				for ci := range r.Conditions {
					row = append(row, fmt.Sprintf("%s [%s, %s]", report.F2(bc.Mean[ci][si]), report.F2(bc.Lo[ci][si]), report.F2(bc.Hi[ci][si])))
				}
				f.Rows = append(f.Rows, row)
			}
			f.Forest = report.ForestPlot{Title: "Paired contrasts: " + report.DescribeBackend(b), XLabel: g.m.diffAxis(),
				YLabel: "Contrast: scenario (condition - reference)", Width: 760}
			if len(r.groups) > 1 {
				f.Forest.Title = "Paired contrasts of " + g.m.of() + ": " + report.DescribeBackend(b)
			}
			f.CHead = contrastHead
			for _, c := range r.Contrasts {
				if c.Backend != b || !slices.ContainsFunc(g.items, func(it item) bool { return it.Scenario == c.Scenario && it.m.Field == c.Field }) {
					continue
				}
				col := ""
				if i := slices.Index(r.Conditions, c.Condition); i >= 0 {
					col = report.Palette[i%len(report.Palette)]
				}
				f.Forest.Rows = append(f.Forest.Rows, report.ForestRow{Label: c.Condition + " - " + c.Against + ": " + c.Scenario, Mean: c.Diff, Lo: c.Lo, Hi: c.Hi, Color: col})
				name := c.Condition + " - " + c.Against
				if !slices.ContainsFunc(f.Forest.Legend, func(e report.LegendEntry) bool { return e.Name == name }) {
					f.Forest.Legend = append(f.Forest.Legend, report.LegendEntry{Name: name, Color: col, Marker: "square"})
				}
				f.Contrasts = append(f.Contrasts, r.contrastRow(c))
			}
			figs = append(figs, f)
		}
	}
	return report.Exec(sectionTmpl, struct {
		Intro string
		Figs  []figure
	}{r.intro(), figs}, fig)
}
