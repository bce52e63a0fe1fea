package vignettes

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
)

// contrastFixture is a Study 1 run of 5 agents x 2 scenarios x 2 conditions (none, moral)
// x 2 replicates on one backend, with these ratings (x = invalid):
//
//	volunteering  none          moral          agent means      difference
//	agent 1       2, 4          4, 4           3 -> 4           1
//	agent 2       4, 4          5, 7           4 -> 6           2
//	agent 3       1, 3          4, 4           2 -> 4           2
//	agent 4       4, 4          7, x           4 -> 7           3
//	agent 5       6, 6          x, x           6 -> -           (not paired)
//
//	donating      none          moral
//	agent 1       3, 3          3, 3           3 -> 3           0
//	agent 2       3, 3          4, 4           3 -> 4           1
//	agent 3       3, 3          1, 3           3 -> 2           -1
//	agent 4       3, 3          5, 5           3 -> 5           2
//	agent 5       x, x          7, 7           - -> 7           (not paired)
//
// Volunteering, d = 1, 2, 2, 3 (n = 4, df 3): mean 2, SD √(2/3) = 0.8165, SE 0.4082,
// t = 2√6 = 4.899; d_z = √6 = 2.45 (the t interval 2 ± 3.1824·0.4082 = [0.70, 3.30] would
// leave the agents' own differences; the expanded bootstrap's, read at 99.98% for 4 agents, is
// their range [1, 3]; donating's [-1, 2]).
// Student's t with 3 df has F(t) = 1/2 + (u/(1+u²) + atan u)/π with u = t/√3 = 2√2, so
// p = 1 - (2/π)(2√2/9 + atan 2√2) = 0.016277.
// Donating, d = 0, 1, -1, 2: mean 0.5, SD √(5/3) = 1.2910, t = √(3/5) = 0.7746,
// d_z = 0.3873; u = 1/√5, p = 0.49503.
// Holm over the backend's 2 tests: 2 x 0.016277 = 0.032553, and max(0.49503, 0.032553)
// = 0.49503.
func contrastFixture(t *testing.T, contrasts []experiment.Contrast) *vignettes {
	t.Helper()
	none := map[string][5][2]float64{
		"volunteering": {{2, 4}, {4, 4}, {1, 3}, {4, 4}, {6, 6}},
		"donating":     {{3, 3}, {3, 3}, {3, 3}, {3, 3}, {0, 0}},
	}
	moral := map[string][5][2]float64{
		"volunteering": {{4, 4}, {5, 7}, {4, 4}, {7, 0}, {0, 0}},
		"donating":     {{3, 3}, {4, 4}, {1, 3}, {5, 5}, {7, 7}},
	}
	exp := &experiment.Experiment{
		Scenarios:  []string{"volunteering", "donating"},
		Conditions: []experiment.Condition{{Name: "none", Policy: "none"}, {Name: "moral", Policy: "moral"}},
		Contrasts:  contrasts,
	}
	env := &study.Env{Exp: exp, Backends: []string{"builtin"}}
	s := &vignettes{env: env, byScenario: map[string][]measure{}}
	for _, sc := range exp.Scenarios {
		s.measure(sc, willingness)
	}
	var ds []store.Decision
	for i, c := range []struct {
		cond string
		rep  int
	}{{"none", 1}, {"none", 2}, {"moral", 1}, {"moral", 2}} {
		cell := &study.Cell{Run: store.Run{ID: c.cond + ".r" + string(rune('0'+c.rep)), Ord: i, Backend: "builtin", Condition: c.cond, Policy: c.cond, Replicate: c.rep}}
		env.Cells = append(env.Cells, cell)
		vals := none
		if c.cond == "moral" {
			vals = moral
		}
		for a := 1; a <= 5; a++ {
			for _, sc := range exp.Scenarios {
				k := store.Key{RunID: cell.ID, AgentID: a, Scenario: sc}
				v := vals[sc][a-1][c.rep-1]
				if v == 0 { // 0 marks an invalid reply in the tables above
					ds = append(ds, store.Decision{Key: k, Reply: store.Reply{Invalid: "field willingness: out of range"}})
				} else {
					ds = append(ds, store.Decision{Key: k, Reply: store.Reply{Values: map[string]float64{"willingness": v}}})
				}
			}
		}
	}
	for _, d := range ds { // once the design is complete, as after a run
		if err := s.Observe(d); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// willingness is the built-in scenarios' response.
var willingness = scenario.Schema{Fields: []scenario.Field{{Name: "willingness", Kind: scenario.Likert, Min: 1, Max: 7,
	LowLabel: "not at all willing", HighLabel: "extremely willing"}}}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.10g, want %.10g", what, got, want)
	}
}

func TestContrastsMatchHandComputation(t *testing.T) {
	s := contrastFixture(t, nil) // default: moral against none, the first condition
	_, counts, am, _ := s.agentMeans()
	cs := contrasts(s.env.Backends, s.items, pairs(s.env.Exp), am, s.seed())
	if len(cs) != 2 {
		t.Fatalf("want 2 contrasts (moral - none x 2 scenarios), got %+v", cs)
	}
	v, d := cs[0], cs[1]
	if v.Scenario != "volunteering" || v.Condition != "moral" || v.Against != "none" || v.Agents != 4 || v.DF != 3 {
		t.Errorf("volunteering contrast: %+v", v)
	}
	u := 2 * math.Sqrt2
	pv := 1 - 2/math.Pi*(u/(1+u*u)+math.Atan(u))
	near(t, "volunteering diff", v.Diff, 2, 1e-12)
	lo, hi := exactBootstrap([]float64{1, 2, 2, 3})
	near(t, "volunteering lo", v.Lo, lo, 0.25) // 2000 resamples against the exact 256: within one step of 1/4
	near(t, "volunteering hi", v.Hi, hi, 0.25)
	if v.Lo < 1 || v.Hi > 3 {
		t.Errorf("volunteering CI [%v, %v] leaves the agents' differences [1, 3]", v.Lo, v.Hi)
	}
	near(t, "volunteering d_z", v.DZ, math.Sqrt(6), 1e-12)
	near(t, "volunteering p", v.P, pv, 1e-12)
	near(t, "volunteering p", v.P, 0.016277, 1e-6)
	u = 1 / math.Sqrt(5)
	pd := 1 - 2/math.Pi*(u/(1+u*u)+math.Atan(u))
	if d.Scenario != "donating" || d.Agents != 4 {
		t.Errorf("donating contrast: %+v", d)
	}
	near(t, "donating diff", d.Diff, 0.5, 1e-12)
	lo, hi = exactBootstrap([]float64{0, 1, -1, 2})
	near(t, "donating lo", d.Lo, lo, 0.25)
	near(t, "donating hi", d.Hi, hi, 0.25)
	near(t, "donating d_z", d.DZ, 0.5/math.Sqrt(5.0/3), 1e-12)
	near(t, "donating p", d.P, pd, 1e-12)
	near(t, "volunteering Holm", v.PHolm, 2*pv, 1e-12)
	near(t, "donating Holm", d.PHolm, pd, 1e-12)
	// The cell means still count agent 5 where it answered (none, volunteering: 5 agents).
	if c := counts[cellKey{"builtin", "volunteering", "willingness", "none"}]; c.Valid != 10 {
		t.Errorf("none x volunteering: %+v", c)
	}
}

// exactBootstrap is the expanded percentile bootstrap interval of the mean of four values, from
// all 4^4 equally likely resamples (type-7 quantiles at the expanded level for n = 4: t_{.975,3}
// = 3.182446 times sqrt(4/3) is z = 3.674771, a two-sided tail of 0.000238).
func exactBootstrap(x []float64) (lo, hi float64) {
	const a = 0.000238 / 2
	var m []float64
	for i := range 256 {
		s := 0.0
		for k := range 4 {
			s += x[(i>>(2*k))&3]
		}
		m = append(m, s/4)
	}
	sort.Float64s(m)
	q := func(p float64) float64 {
		h := 255 * p
		j := int(h)
		return m[j] + (h-float64(j))*(m[j+1]-m[j])
	}
	return q(a), q(1 - a)
}

func TestContrastsGivenAreUsedInTheirDirection(t *testing.T) {
	s := contrastFixture(t, []experiment.Contrast{{Condition: "none", Against: "moral"}})
	_, _, am, _ := s.agentMeans()
	cs := contrasts(s.env.Backends, s.items, pairs(s.env.Exp), am, s.seed())
	if len(cs) != 2 || cs[0].Condition != "none" || cs[0].Against != "moral" {
		t.Fatalf("contrasts: %+v", cs)
	}
	near(t, "none - moral", cs[0].Diff, -2, 1e-12)
	near(t, "d_z", cs[0].DZ, -math.Sqrt(6), 1e-12)
}

// The summary, results/contrasts.csv and the report show the same numbers.
func TestContrastsSameInSummaryCSVAndReport(t *testing.T) {
	a, err := contrastFixture(t, nil).Analyze()
	if err != nil {
		t.Fatal(err)
	}
	var sum bytes.Buffer
	if err := a.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	rows := [][]string{
		{"moral - none", "volunteering", "2.00 [1.00, 3.00]", "2.45", "0.016", "0.033", "4"},
		{"moral - none", "donating", "0.50 [-1.00, 2.00]", "0.39", "0.495", "0.495", "4"},
	}
	for _, r := range rows {
		if !strings.Contains(strings.Join(strings.Fields(sum.String()), " "), strings.Join(r, " ")) {
			t.Errorf("summary lacks %q:\n%s", strings.Join(r, " "), sum.String())
		}
	}
	if !strings.Contains(sum.String(), "mean paired difference of agent means") {
		t.Error("the summary does not name the estimand")
	}

	tb, ok := a.Table("contrasts")
	if !ok {
		t.Fatal("no contrasts table")
	}
	dir := t.TempDir()
	w, err := table.Create(dir, tb.Schema, table.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := table.Write(w, tb); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "contrasts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("contrasts.csv: %v", recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for i, r := range rows {
		rec := recs[i+1]
		got := map[string]string{}
		for _, c := range []string{"mean_diff", "ci_low", "ci_high", "d_z", "p", "p_holm"} {
			got[c] = rec[col[c]]
		}
		ff := func(c string, format func(float64) string) string {
			v, err := strconv.ParseFloat(got[c], 64)
			if err != nil {
				t.Fatalf("%s %q: %v", c, got[c], err)
			}
			return format(v)
		}
		line := []string{rec[col["condition"]] + " - " + rec[col["against"]], rec[col["scenario"]],
			ff("mean_diff", f2s) + " [" + ff("ci_low", f2s) + ", " + ff("ci_high", f2s) + "]",
			ff("d_z", f2s), ff("p", pval), ff("p_holm", pval), rec[col["agents"]]}
		if strings.Join(line, "|") != strings.Join(r, "|") {
			t.Errorf("contrasts.csv row %d reads %q, the summary %q", i+1, line, r)
		}
		if rec[col["estimand"]] != "mean paired difference of agent means" || rec[col["df"]] != "3" {
			t.Errorf("row %d: %v", i+1, rec)
		}
	}

	var page bytes.Buffer
	if err := report.WritePage(&page, "t", []string{"run"}, nil, a.Sections); err != nil {
		t.Fatal(err)
	}
	doc := page.String()
	for _, r := range rows {
		if want := "<tr><td>" + strings.Join(r, "</td><td>") + "</td></tr>"; !strings.Contains(doc, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	for _, want := range []string{
		"<title>moral - none: volunteering: 2.00 [1.00, 3.00]</title>",
		"<title>moral - none: donating: 0.50 [-1.00, 2.00]</title>",
		`class="zero"`, "Paired contrasts: builtin", "Figure 2.",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
