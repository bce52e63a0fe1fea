package vignettes

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study/robust"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// Estimand of a variance share: eta squared of a term in the two-way fixed-effects ANOVA
// rating ~ policy * factor (Type II sums of squares) over every valid rating of one backend
// and scenario: SS_term / SS_total. What the two terms leave is agents, the other factors,
// replicates and noise.
const shareEstimand = "eta squared: SS_term / SS_total in rating ~ policy * factor (Type II), over valid ratings"

// bootReps is the number of bootstrap resamples of agents behind every share's CI.
const bootReps = 200

// SensitivitySchema declares results/sensitivity.csv.
var SensitivitySchema = table.Schema{Name: "sensitivity", Doc: "Study 1 with factors: the share of the variance of the ratings due to each design factor and its interaction with the policy, by backend x scenario x factor (the policy's own share beside them)", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "scenario", Type: table.String, Doc: "scenario id (the outcome)"},
	{Name: "field", Type: table.String, Doc: "response field on the canonical scale, or NAME=OPTION for an option of a choice field (the 0/1 indicator of choosing it); every field of the scenario has its rows"},
	{Name: "factor", Type: table.String, Doc: "design factor (one of " + experiment.FactorNames() + ")"},
	{Name: "term", Type: table.String, Doc: "policy, factor (the factor's main effect) or policy:factor (their interaction)"},
	{Name: "estimand", Type: table.String, Doc: "what share is: " + shareEstimand},
	{Name: "share", Type: table.Float, Doc: "share of the variance, 0-1; empty when the ANOVA is undefined (an empty cell, one condition for the policy terms)"},
	{Name: "ci_low", Type: table.Float, Doc: "95% percentile bootstrap interval over agents (resampled with replacement, all their ratings kept together), lower bound"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "p", Type: table.Float, Doc: "the term's F-test p-value in the same ANOVA; it treats ratings as independent, so with several ratings per agent it is anti-conservative (the CI, resampling agents, is not)"},
	{Name: "n", Type: table.Int, Doc: "valid ratings in the ANOVA"},
}}

// RobustnessSchema declares results/robustness.csv.
var RobustnessSchema = table.Schema{Name: "robustness", Doc: "Study 1 with factors: whether each conclusion (the sign and significance of each contrast, as in contrasts.csv) holds in every level of every factor, for every response field", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "scenario", Type: table.String, Doc: "scenario id"},
	{Name: "field", Type: table.String, Doc: "response field, or NAME=OPTION for an option of a choice field (as in contrasts.csv)"},
	{Name: "condition", Type: table.String, Doc: "condition compared"},
	{Name: "against", Type: table.String, Doc: "reference condition"},
	{Name: "conclusion", Type: table.String, Doc: "the pooled conclusion: higher, lower or no difference (p_holm < 0.05 over every level)"},
	{Name: "factor", Type: table.String, Doc: "design factor"},
	{Name: "level", Type: table.String, Doc: "the factor's level: the contrast recomputed on that level's ratings alone"},
	{Name: "mean_diff", Type: table.Float, Doc: "mean paired difference of agent means within the level"},
	{Name: "p_holm", Type: table.Float, Doc: "Holm-adjusted p within the level, over the same family as contrasts.csv"},
	{Name: "level_conclusion", Type: table.String, Doc: "higher, lower or no difference within the level"},
	{Name: "holds", Type: table.Bool, Doc: "1 when the level's conclusion equals the pooled one"},
}}

// obs is one valid rating with its cell's factor levels.
type obs struct {
	backend, scenario, field, condition string
	agent                               int
	levels                              []string // by factor, in experiment.Factors.List order
	v                                   float64
}

// Share is one variance share.
type Share struct {
	Backend, Scenario, Field, Factor, Term string
	Share, Lo, Hi, P                       float64
	N                                      int
}

// Robust is one conclusion in one level of one factor.
type Robust struct {
	Contrast          Contrast // the pooled contrast
	Factor, Level     string
	Diff, PHolm       float64
	Pooled, LevelSays string
}

// Holds says the level's conclusion is the pooled one.
func (r Robust) Holds() bool { return r.Pooled == r.LevelSays }

// conclusion is a contrast's sign and significance at 0.05 (Holm).
func conclusion(diff, pHolm float64) string {
	switch {
	case math.IsNaN(pHolm) || pHolm >= 0.05:
		return "no difference"
	case diff > 0:
		return "higher"
	}
	return "lower"
}

// observations are every valid rating with its levels.
func (s *vignettes) observations() []obs {
	at := slices.Clone(s.observed().obs)
	slices.SortFunc(at, func(a, b obsAt) int { return slices.Compare(a.at[:], b.at[:]) })
	out := make([]obs, len(at))
	for i, x := range at {
		out[i] = x.obs
	}
	return out
}

// Shares are the policy, factor and policy:factor shares of variance of y, with policy and
// factor the groups of each rating (eta squared of the Type II two-way ANOVA), and their
// F-test p-values. With one policy level, the factor's share is the one-way eta squared and
// the policy terms are NaN.
func Shares(y []float64, policy, factor []string) (share, p map[string]float64, err error) {
	share, p = map[string]float64{}, map[string]float64{}
	if distinct(policy) < 2 {
		tab, err := analysis.OneWay(y, factor)
		if err != nil {
			return nil, nil, err
		}
		share["factor"], p["factor"] = tab.Effects[0].EtaSq, tab.Effects[0].P
		share["policy"], share["policy:factor"], p["policy"], p["policy:factor"] = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		return share, p, nil
	}
	tab, err := analysis.TwoWay(y, policy, factor, analysis.TypeII)
	if err != nil {
		return nil, nil, err
	}
	for src, term := range map[string]string{"A": "policy", "B": "factor", "A:B": "policy:factor"} {
		e, _ := tab.Effect(src)
		share[term], p[term] = e.EtaSq, e.P
	}
	return share, p, nil
}

func distinct(xs []string) int {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return len(m)
}

var terms = []string{"policy", "factor", "policy:factor"}

// shares computes every share with its bootstrap CI over agents.
func (s *vignettes) shares(all []obs) []Share {
	var out []Share
	fs := s.env.Exp.Factors.List()
	for _, b := range s.env.Backends {
		for _, it := range s.items {
			sc, fld := it.Scenario, it.m.Field
			var os []obs
			for _, o := range all {
				if o.backend == b && o.scenario == sc && o.field == fld {
					os = append(os, o)
				}
			}
			byAgent := map[int][]obs{}
			var agents []int
			for _, o := range os {
				if byAgent[o.agent] == nil {
					agents = append(agents, o.agent)
				}
				byAgent[o.agent] = append(byAgent[o.agent], o)
			}
			sort.Ints(agents)
			for fi, f := range fs {
				est := func(sample []int) (map[string]float64, map[string]float64, int, error) {
					var y []float64
					var pol, lv []string
					for _, a := range sample {
						for _, o := range byAgent[a] {
							y, pol, lv = append(y, o.v), append(pol, o.condition), append(lv, o.levels[fi])
						}
					}
					sh, p, err := Shares(y, pol, lv)
					return sh, p, len(y), err
				}
				sh, p, n, err := est(agents)
				rows := make([]Share, len(terms))
				for ti, t := range terms {
					rows[ti] = Share{Backend: b, Scenario: sc, Field: fld, Factor: f.Name, Term: t, Share: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), P: math.NaN(), N: n}
					if err == nil {
						rows[ti].Share, rows[ti].P = sh[t], p[t]
					}
				}
				if err == nil {
					rng := rand.New(rand.NewPCG(s.shareSeed(b, it, f.Name), 0))
					boot := make([][]float64, len(terms))
					sample := make([]int, len(agents))
					for range bootReps {
						for i := range sample {
							sample[i] = agents[rng.IntN(len(agents))]
						}
						bs, _, _, err := est(sample)
						if err != nil {
							continue // a resample that left a cell empty
						}
						for ti, t := range terms {
							boot[ti] = append(boot[ti], bs[t])
						}
					}
					for ti := range terms {
						if len(boot[ti]) >= bootReps/2 && !math.IsNaN(rows[ti].Share) {
							rows[ti].Lo, rows[ti].Hi = analysis.PercentileCI(boot[ti], 0.95)
						}
					}
				}
				out = append(out, rows...)
			}
		}
	}
	return out
}

// shareSeed seeds the bootstrap of a share: a scenario's first field keeps the stream it had
// when the analysis covered first fields only (results of older versions are reproduced);
// every other field has its own.
func (s *vignettes) shareSeed(b string, it item, factor string) uint64 {
	if ms := s.byScenario[it.Scenario]; len(ms) > 0 && ms[0].Field == it.m.Field {
		return seed.Derive(*s.seed(), "sensitivity", b, it.Scenario, factor)
	}
	return seed.Derive(*s.seed(), "sensitivity", b, it.Scenario, factor, it.m.Field)
}

// robustness recomputes every contrast (every field) within each level of each factor.
func (s *vignettes) robustness(all []obs, pooled []Contrast) []Robust {
	var out []Robust
	for fi, f := range s.env.Exp.Factors.List() {
		for _, l := range f.Levels {
			am := map[cellKey]map[int][]float64{}
			for _, o := range all {
				if o.levels[fi] != l {
					continue
				}
				k := cellKey{o.backend, o.scenario, o.field, o.condition}
				if am[k] == nil {
					am[k] = map[int][]float64{}
				}
				am[k][o.agent] = append(am[k][o.agent], o.v)
			}
			means := map[cellKey]map[int]float64{}
			for k, by := range am {
				means[k] = map[int]float64{}
				for a, v := range by {
					means[k][a] = analysis.MeanOrZero(v)
				}
			}
			within := contrasts(s.env.Backends, s.items, pairs(s.env.Exp), means, nil)
			for i, c := range pooled {
				w := within[i] // same order: backends x pairs x items
				out = append(out, Robust{Contrast: c, Factor: f.Name, Level: l, Diff: w.Diff, PHolm: w.PHolm,
					Pooled: conclusion(c.Diff, c.PHolm), LevelSays: conclusion(w.Diff, w.PHolm)})
			}
		}
	}
	return out
}

// sensitivity is the factor analysis of a run with factors.
type sensitivity struct {
	Factors []string
	Shares  []Share
	Robust  []Robust
	// Builtin are the labels of the backends that are the behavioural model.
	Builtin map[string]bool
	// multi: the run has more than one field, so rows name theirs (as results.multi)
	multi bool
}

// label names a row's scenario, with its field when the run has several (as results.label).
func (x *sensitivity) label(scenario, field string) string {
	if x.multi {
		return scenario + " " + field
	}
	return scenario
}

// builtinNote says, for the behavioural model, which factors can change what it is asked.
func (x *sensitivity) builtinNote(b string) string {
	if !x.Builtin[b] {
		return ""
	}
	var inert []string
	for _, f := range x.Factors {
		if f != "scale" {
			inert = append(inert, f)
		}
	}
	if len(inert) == 0 {
		return ""
	}
	return "The behavioural model reads no text and no sampling temperature: on it the factors " + strings.Join(inert, ", ") +
		" change only the seeds of its draws (what an insensitive respondent looks like); only the scale direction changes what it is asked."
}

func (x *sensitivity) shareTable() *table.Table {
	return &table.Table{Schema: SensitivitySchema, Rows: func(emit func([]any) error) error {
		for _, r := range x.Shares {
			if err := emit([]any{r.Backend, r.Scenario, r.Field, r.Factor, r.Term, shareEstimand, r.Share, r.Lo, r.Hi, r.P, r.N}); err != nil {
				return err
			}
		}
		return nil
	}}
}

func (x *sensitivity) robustTable() *table.Table {
	return &table.Table{Schema: RobustnessSchema, Rows: func(emit func([]any) error) error {
		for _, r := range x.Robust {
			c := r.Contrast
			if err := emit([]any{c.Backend, c.Scenario, c.Field, c.Condition, c.Against, r.Pooled, r.Factor, r.Level, r.Diff, r.PHolm, r.LevelSays, r.Holds()}); err != nil {
				return err
			}
		}
		return nil
	}}
}

// verdict is one conclusion's robustness to every factor: "yes", or "no (level, ...)".
type verdict struct {
	Contrast   string
	Scenario   string
	Conclusion string
	ByFactor   []string
}

func (x *sensitivity) verdicts(b string) []verdict {
	var out []verdict
	idx := map[string]int{}
	for _, r := range x.Robust {
		c := r.Contrast
		if c.Backend != b {
			continue
		}
		key := c.Condition + "|" + c.Against + "|" + c.Scenario + "|" + c.Field
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, verdict{Contrast: c.Condition + " - " + c.Against, Scenario: x.label(c.Scenario, c.Field), Conclusion: r.Pooled,
				ByFactor: make([]string, len(x.Factors))})
		}
		fi := slices.Index(x.Factors, r.Factor)
		v := &out[i].ByFactor[fi]
		if *v == "" {
			*v = "yes"
		}
		if !r.Holds() {
			if *v == "yes" {
				*v = "no ("
			} else {
				*v = strings.TrimSuffix(*v, ")") + ", "
			}
			*v += r.Level + ": " + r.LevelSays + ")"
		}
	}
	return out
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func (x *sensitivity) shareCell(r Share) string {
	return fmt.Sprintf("%s [%s, %s]", pct(r.Share), pct(r.Lo), pct(r.Hi))
}

func (x *sensitivity) summary(w io.Writer, b string) error {
	fmt.Fprintln(w)
	termtable.WriteText(w, fmt.Sprintf("Sensitivity to design factors (%s; 95%% bootstrap CI over agents, %d resamples); backend %s", shareEstimand, bootReps, report.DescribeBackend(b)))
	rows := [][]string{{"scenario", "factor", "policy", "factor", "policy:factor"}}
	for i := 0; i+2 < len(x.Shares); i += 3 {
		r := x.Shares[i : i+3]
		if r[0].Backend != b {
			continue
		}
		rows = append(rows, []string{x.label(r[0].Scenario, r[0].Field), r[0].Factor, x.shareCell(r[0]), x.shareCell(r[1]), x.shareCell(r[2])})
	}
	if err := termtable.Write(w, 2, rows); err != nil { // key: scenario, factor
		return err
	}
	fmt.Fprintln(w)
	termtable.WriteText(w, "Robust to each factor: does each conclusion (sign and significance at Holm p < 0.05) hold in every level? backend "+report.DescribeBackend(b))
	rows = [][]string{append([]string{"contrast", "scenario", "conclusion"}, x.Factors...)}
	for _, v := range x.verdicts(b) {
		rows = append(rows, append([]string{v.Contrast, v.Scenario, v.Conclusion}, v.ByFactor...))
	}
	if err := robust.PrintVerdicts(w, rows, 2, 3); err != nil { // key: contrast, scenario
		return err
	}
	if n := x.note(b); n != "" {
		return termtable.WriteText(w, n)
	}
	return nil
}

// note is what the factor tables cannot show: which factors the behavioural model reads.
func (x *sensitivity) note(b string) string { return x.builtinNote(b) }

//go:embed sensitivity.html.tmpl
var sensSrc string

var sensTmpl = template.Must(template.New("sensitivity").Funcs(report.Funcs).Parse(sensSrc))

type sensFigure struct {
	Backend  string
	Factors  []string
	Shares   [][]string
	Verdicts []verdict
	Note     string
}

func (x *sensitivity) section(backends []string) func(fig *report.Figures) (template.HTML, error) {
	return func(fig *report.Figures) (template.HTML, error) {
		var figs []sensFigure
		for _, b := range backends {
			f := sensFigure{Backend: report.DescribeBackend(b), Factors: x.Factors, Verdicts: x.verdicts(b), Note: x.note(b)}
			for i := 0; i+2 < len(x.Shares); i += 3 {
				r := x.Shares[i : i+3]
				if r[0].Backend == b {
					f.Shares = append(f.Shares, []string{x.label(r[0].Scenario, r[0].Field), r[0].Factor, x.shareCell(r[0]), x.shareCell(r[1]), x.shareCell(r[2])})
				}
			}
			figs = append(figs, f)
		}
		return report.Exec(sensTmpl, struct {
			Reps     int
			Estimand string
			Figs     []sensFigure
		}{bootReps, shareEstimand, figs}, fig)
	}
}
