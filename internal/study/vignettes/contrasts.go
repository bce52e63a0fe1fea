package vignettes

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// Estimand of every contrast: each agent's replicates are averaged within agent first, the
// agent's difference is condition minus reference, and the mean, CI and test are over agents
// (every agent meets every condition with the same random draw, so conditions are paired
// within agent).
const contrastEstimand = "mean paired difference of agent means"

// Contrast is one condition compared with a reference, in one backend x scenario.
type Contrast struct {
	Backend, Scenario, Field, Condition, Against string
	Agents                                       int     // agents with valid ratings under both conditions
	Diff, Lo, Hi                                 float64 // mean difference and its 95% expanded percentile bootstrap CI over agents
	SD                                           float64 // SD of the agents' differences
	DZ                                           float64 // d_z = Diff / SD
	T, DF, P                                     float64 // paired t-test, two-sided
	PHolm                                        float64 // Holm-adjusted over every contrast x scenario of the backend
}

// ContrastsSchema declares results/contrasts.csv.
var ContrastsSchema = table.Schema{Name: "contrasts", Doc: "Study 1: paired contrasts between conditions (condition minus against) by backend x scenario; the experiment's contrasts:, or every condition against the first", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "scenario", Type: table.String, Doc: "scenario id"},
	{Name: "condition", Type: table.String, Doc: "condition compared"},
	{Name: "against", Type: table.String, Doc: "reference condition (the difference is condition minus against)"},
	{Name: "field", Type: table.String, Doc: "response field, or NAME=OPTION for an option of a choice field (the difference is then one of shares)"},
	{Name: "estimand", Type: table.String, Doc: "what mean_diff is: " + contrastEstimand + " (replicates averaged within agent, then condition minus against per agent)"},
	{Name: "mean_diff", Type: table.Float, Doc: "mean over agents of the agent's difference; empty when no agent rated validly under both"},
	{Name: "ci_low", Type: table.Float, Doc: "95% expanded percentile bootstrap interval over agents (2000 resamples of the agents' differences, seeded by the experiment seed, read at Hesterberg's expanded level; within the difference's range, unlike a t interval), lower bound; empty with fewer than 2 agents. It and p are different methods and can disagree at the margin"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "sd_diff", Type: table.Float, Doc: "standard deviation of the agents' differences (n-1)"},
	{Name: "d_z", Type: table.Float, Doc: "standardised effect size: mean_diff / sd_diff (Cohen's d_z); empty when sd_diff is 0"},
	{Name: "t", Type: table.Float, Doc: "paired t statistic, mean_diff / (sd_diff / sqrt(agents))"},
	{Name: "df", Type: table.Int, Doc: "degrees of freedom, agents - 1"},
	{Name: "p", Type: table.Float, Doc: "two-sided paired t-test p-value; empty when undefined (fewer than 2 agents, or every difference equal)"},
	{Name: "p_holm", Type: table.Float, Doc: "p adjusted by Holm's method over every contrast x scenario of the backend"},
	{Name: "agents", Type: table.Int, Doc: "agents with at least one valid rating under both conditions"},
}}

// pairs are the experiment's contrasts, or every condition against the first (the control).
func pairs(e *experiment.Experiment) []experiment.Contrast {
	if len(e.Contrasts) > 0 {
		return e.Contrasts
	}
	var out []experiment.Contrast
	for _, c := range e.Conditions[min(1, len(e.Conditions)):] {
		out = append(out, experiment.Contrast{Condition: c.Name, Against: e.Conditions[0].Name})
	}
	return out
}

// contrasts computes every contrast x item (scenario and field) of every backend from the
// agents' cell means, Holm-adjusting the p-values within a backend. The CI is an expanded
// percentile bootstrap of the mean difference resampling agents, seeded from expSeed: a difference of two
// measures on a range r lies in [-r, r], and so does this interval (a paired t interval does
// not: over 2 agents whose shares differ by 0 and 1 it is [-5.85, 6.85]). The p-value stays the paired t-test's. A nil
// expSeed leaves the CIs out (robustness reads only the differences and p-values).
func contrasts(backends []string, items []item, ps []experiment.Contrast, am map[cellKey]map[int]float64, expSeed *uint64) []Contrast {
	var out []Contrast
	for _, b := range backends {
		first := len(out)
		for _, pc := range ps {
			for _, it := range items {
				sc, f := it.Scenario, it.m.Field
				x, ref := am[cellKey{b, sc, f, pc.Condition}], am[cellKey{b, sc, f, pc.Against}]
				var agents []int
				for a := range x {
					if _, ok := ref[a]; ok {
						agents = append(agents, a)
					}
				}
				sort.Ints(agents)
				d := make([]float64, len(agents))
				for i, a := range agents {
					d[i] = x[a] - ref[a]
				}
				t := analysis.OneSampleT(d, 0.95)
				lo, hi := math.NaN(), math.NaN()
				if expSeed != nil && len(d) > 1 {
					lo, hi = analysis.ExpandedBootstrapMeanCI(d, 0.95, bootMeanReps, seed.Derive(*expSeed, "contrasts", b, sc, f, pc.Condition, pc.Against))
				}
				out = append(out, Contrast{Backend: b, Scenario: sc, Field: f, Condition: pc.Condition, Against: pc.Against,
					Agents: t.N, Diff: t.Mean, Lo: lo, Hi: hi, SD: t.SD, DZ: t.EffectSize, T: t.T, DF: t.DF, P: t.P})
			}
		}
		p := make([]float64, len(out)-first)
		for i := range p {
			p[i] = out[first+i].P
		}
		for i, h := range analysis.Holm(p) {
			out[first+i].PHolm = h
		}
	}
	return out
}

func (r *results) contrastTable() *table.Table {
	return &table.Table{Schema: ContrastsSchema, Rows: func(emit func([]any) error) error {
		for _, c := range r.Contrasts {
			var df any
			if !math.IsNaN(c.DF) {
				df = int(c.DF)
			}
			if err := emit([]any{c.Backend, c.Scenario, c.Condition, c.Against, c.Field, contrastEstimand,
				c.Diff, c.Lo, c.Hi, c.SD, c.DZ, c.T, df, c.P, c.PHolm, c.Agents}); err != nil {
				return err
			}
		}
		return nil
	}}
}

// pval formats a p-value: three decimals, "<0.001" below, "-" when undefined.
func pval(p float64) string {
	switch {
	case math.IsNaN(p):
		return "-"
	case p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// f2s is a number with two decimals, "-" when undefined.
func f2s(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// contrastRow is one contrast's cells in the summary and the report table.
func (r *results) contrastRow(c Contrast) []string {
	return []string{c.Condition + " - " + c.Against, r.label(c.Scenario, c.Field),
		fmt.Sprintf("%s [%s, %s]", f2s(c.Diff), f2s(c.Lo), f2s(c.Hi)), f2s(c.DZ), pval(c.P), pval(c.PHolm), fmt.Sprint(c.Agents)}
}

var contrastHead = []string{"contrast", "scenario", "difference [95% CI]", "d_z", "p", "p (Holm)", "agents"}

// contrastSummary prints the contrasts of backend b as a compact table.
func (r *results) contrastSummary(w io.Writer, b string) error {
	var rows [][]string
	for _, c := range r.Contrasts {
		if c.Backend == b {
			rows = append(rows, r.contrastRow(c))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nContrasts (%s): condition minus reference, 95%% expanded percentile bootstrap CI over agents, paired t-test, Holm over the %s; backend %s\n",
		contrastEstimand, plural.Count(len(rows), "row"), report.DescribeBackend(b))
	return termtable.Write(w, 2, append([][]string{contrastHead}, rows...)) // key: contrast, scenario
}
