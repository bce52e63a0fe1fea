package vignettes

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// A custom vignette answered with a choice, an amount and a 0-10 rating: every field is
// analysed under its own name and range, and valid decisions are never counted invalid.
func TestCustomVignetteFieldsAreAnalysed(t *testing.T) {
	resp := scenario.Schema{Fields: []scenario.Field{
		{Name: "answer", Kind: scenario.Choice, Options: []string{"yes, gladly", "no"}},
		{Name: "minutes", Kind: scenario.Amount, Min: 0, Max: 120},
		{Name: "rating", Kind: scenario.Likert, Min: 0, Max: 10, LowLabel: "never", HighLabel: "surely"},
	}}
	exp := &experiment.Experiment{
		Scenarios:  []string{"lend_car"},
		Conditions: []experiment.Condition{{Name: "none", Policy: "none"}, {Name: "moral", Policy: "moral"}},
	}
	env := &study.Env{Exp: exp, Backends: []string{"gpt"}}
	s := &vignettes{env: env, byScenario: map[string][]measure{}}
	s.measure("lend_car", resp)
	// Agent a answers option a%2, a*10 minutes (+20 under moral), rating a (+1 under moral).
	for i, cond := range []string{"none", "moral"} {
		cell := &study.Cell{Run: store.Run{ID: cond + ".r1", Ord: i, Backend: "gpt", Condition: cond, Policy: cond, Replicate: 1}}
		env.Cells = append(env.Cells, cell)
	}
	for i, cond := range []string{"none", "moral"} {
		for a := 1; a <= 4; a++ {
			v := map[string]float64{"answer": float64(a % 2), "minutes": float64(10*a + 20*i), "rating": float64(a + i)}
			if err := s.Observe(store.Decision{Key: store.Key{RunID: cond + ".r1", AgentID: a, Scenario: "lend_car"}, Reply: store.Reply{Values: v}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := s.Analyze()
	if err != nil {
		t.Fatal(err)
	}
	r := s.results(t, a, "answer=yes, gladly|answer=no|minutes|rating|answer=yes, gladly|answer=no|minutes|rating")
	want := map[string]float64{ // by field, condition none
		"answer=yes, gladly": 0.5, "answer=no": 0.5, "minutes": 25, "rating": 2.5,
	}
	if len(r.Cells) != 2*len(want) {
		t.Fatalf("cells: %+v", r.Cells)
	}
	for _, c := range r.Cells {
		if c.Invalid != 0 || c.Valid != 4 || c.Agents != 4 {
			t.Errorf("%s %s: %d valid, %d invalid, %d agents; want 4, 0, 4", c.Field, c.Condition, c.Valid, c.Invalid, c.Agents)
		}
		w, ok := want[c.Field]
		if !ok {
			t.Errorf("unexpected field %q", c.Field)
			continue
		}
		if c.Condition == "moral" && c.Field == "minutes" {
			w += 20
		} else if c.Condition == "moral" && c.Field == "rating" {
			w++
		}
		if math.Abs(c.Mean-w) > 1e-12 {
			t.Errorf("%s %s: mean %v, want %v", c.Field, c.Condition, c.Mean, w)
		}
	}
	diffs := map[string]float64{"answer=yes, gladly": 0, "answer=no": 0, "minutes": 20, "rating": 1}
	if len(r.Contrasts) != len(diffs) {
		t.Fatalf("contrasts: %+v", r.Contrasts)
	}
	for _, c := range r.Contrasts {
		if d, ok := diffs[c.Field]; !ok || math.Abs(c.Diff-d) > 1e-12 || c.Agents != 4 {
			t.Errorf("contrast %s: diff %v over %d agents, want %v over 4", c.Field, c.Diff, c.Agents, d)
		}
	}
	var sum bytes.Buffer
	if err := a.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Share choosing answer=yes, gladly (0-1) by scenario", "Share choosing answer=no (0-1)",
		"Mean minutes (0-120) by scenario", "Mean rating (0-10) by scenario", "lend_car minutes", "20.00"} {
		if !strings.Contains(sum.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, sum.String())
		}
	}
	if strings.Contains(sum.String(), "willingness") || strings.Contains(sum.String(), "1-7") {
		t.Errorf("summary names willingness or 1-7:\n%s", sum.String())
	}
	live, err := s.LiveEstimates()
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Rows) != 8 || live.Head[2] != "field" || strings.Contains(live.Title, "willingness") {
		t.Errorf("live estimates: %q %q %d rows", live.Title, live.Head, len(live.Rows))
	}
}

// results reads the analysis's numbers back through its tables' rows; wantFields, when
// given, is vignette_means.csv's field column.
func (s *vignettes) results(t *testing.T, a *study.Analysis, wantFields string) *results {
	t.Helper()
	order, counts, am, once := s.agentMeans()
	r := &results{Cells: s.cells(order, counts, am, once)}
	r.Contrasts = contrasts(s.env.Backends, s.items, pairs(s.env.Exp), am, s.seed())
	tb, ok := a.Table("vignette_means")
	if !ok {
		t.Fatal("no vignette_means table")
	}
	var fields []string
	if err := tb.Rows(func(row []any) error {
		fields = append(fields, row[3].(string))
		if row[11] != 0 {
			t.Errorf("vignette_means row %v counts invalid decisions", row)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fields, "|"); wantFields != "" && got != wantFields {
		t.Errorf("vignette_means fields: %s", got)
	}
	return r
}

// QA repro-8: with 2 agents the t interval of a share ran far past 0 and 1 ([-292.3, 373.3]%).
// Every interval of a cell mean and of a contrast stays within its measure's range: Wilson over
// agents for a share whose agents answered once, a percentile bootstrap over agents otherwise.
func TestIntervalsStayWithinTheRange(t *testing.T) {
	resp := scenario.Schema{Fields: []scenario.Field{
		{Name: "answer", Kind: scenario.Choice, Options: []string{"yes", "no"}},
		{Name: "rating", Kind: scenario.Likert, Min: 1, Max: 7},
	}}
	run := func(replicates int, answer func(cond, agent, rep int) (choice, rating float64)) *results {
		exp := &experiment.Experiment{
			Scenarios:  []string{"lend_car"},
			Conditions: []experiment.Condition{{Name: "none", Policy: "none"}, {Name: "moral", Policy: "moral"}},
		}
		env := &study.Env{Exp: exp, Backends: []string{"gpt"}}
		s := &vignettes{env: env, byScenario: map[string][]measure{}}
		s.measure("lend_car", resp)
		for _, cond := range []string{"none", "moral"} {
			for rep := 1; rep <= replicates; rep++ {
				env.Cells = append(env.Cells, &study.Cell{Run: store.Run{ID: cond + ".r" + string(rune('0'+rep)), Ord: len(env.Cells), Backend: "gpt", Condition: cond, Policy: cond, Replicate: rep}})
			}
		}
		for ci, cond := range []string{"none", "moral"} {
			for rep := 1; rep <= replicates; rep++ {
				for a := 1; a <= 2; a++ {
					c, r := answer(ci, a, rep)
					d := store.Decision{Key: store.Key{RunID: cond + ".r" + string(rune('0'+rep)), AgentID: a, Scenario: "lend_car"},
						Reply: store.Reply{Values: map[string]float64{"answer": c, "rating": r}}}
					if err := s.Observe(d); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		a, err := s.Analyze()
		if err != nil {
			t.Fatal(err)
		}
		return s.results(t, a, "")
	}
	check := func(r *results, wantShare string) {
		t.Helper()
		for _, c := range r.Cells {
			lo, hi, method := 0.0, 1.0, ciBootstrap
			if c.Field == "rating" {
				lo, hi = 1, 7
			} else {
				method = wantShare
			}
			if !(c.Lo >= lo && c.Hi <= hi && c.Lo <= c.Mean && c.Mean <= c.Hi) || c.Method != method {
				t.Errorf("%s %s: %v [%v, %v] by %q, want within [%v, %v] by %q", c.Field, c.Condition, c.Mean, c.Lo, c.Hi, c.Method, lo, hi, method)
			}
		}
		for _, c := range r.Contrasts {
			r := 1.0
			if c.Field == "rating" {
				r = 6
			}
			if !(c.Lo >= -r && c.Hi <= r && c.Lo <= c.Diff && c.Diff <= c.Hi) {
				t.Errorf("contrast %s: %v [%v, %v], want within [%v, %v]", c.Field, c.Diff, c.Lo, c.Hi, -r, r)
			}
		}
	}
	// One answer each: agent 1 yes and 1 point, agent 2 no and 7 points; under moral both yes.
	once := run(1, func(cond, a, _ int) (float64, float64) {
		if cond == 1 || a == 1 {
			return 0, 1
		}
		return 1, 7
	})
	check(once, ciWilson)
	for _, c := range once.Cells {
		if c.Field == "answer=yes" && c.Condition == "none" {
			// R: prop.test(1, 2, correct = FALSE)$conf.int = 0.09453121 0.90546879
			near(t, "Wilson lo", c.Lo, 0.09453121, 1e-7)
			near(t, "Wilson hi", c.Hi, 0.90546879, 1e-7)
		}
		if c.Field == "answer=yes" && c.Condition == "moral" && !(c.Mean == 1 && c.Lo < 0.4 && c.Hi == 1) {
			t.Errorf("2 of 2 agents: %v [%v, %v], want 1 with Wilson's [0.34, 1]", c.Mean, c.Lo, c.Hi)
		}
	}
	// Three answers each: agent 1 says yes once (share 1/3), agent 2 never: a t interval over the
	// two agent means 1/3 and 0 would be [-1.95, 2.28].
	check(run(3, func(cond, a, rep int) (float64, float64) {
		if a == 1 && rep == 1 && cond == 0 {
			return 0, 7
		}
		return 1, 1
	}), ciBootstrap)
}

// QA: with two response fields (willingness and a second 1-7 field) the contrasts' figures had
// one caption, naming no field, and two fields of one name on different scales shared a
// chart title. Every figure's caption and chart title is now its own, and names its measure.
func TestFiguresOfSeveralFieldsAreTold(t *testing.T) {
	likert := func(name string, hi float64) scenario.Field {
		return scenario.Field{Name: name, Kind: scenario.Likert, Min: map[bool]float64{true: 0, false: 1}[hi == 10], Max: hi}
	}
	exp := &experiment.Experiment{
		Scenarios:  []string{"blood", "bank"},
		Conditions: []experiment.Condition{{Name: "none", Policy: "none"}, {Name: "moral", Policy: "moral"}},
	}
	env := &study.Env{Exp: exp, Backends: []string{"gpt"}}
	s := &vignettes{env: env, byScenario: map[string][]measure{}}
	s.measure("blood", scenario.Schema{Fields: []scenario.Field{likert("willingness", 7), likert("unfairness", 7)}})
	s.measure("bank", scenario.Schema{Fields: []scenario.Field{likert("willingness", 10)}})
	for i, cond := range []string{"none", "moral"} {
		env.Cells = append(env.Cells, &study.Cell{Run: store.Run{ID: cond + ".r1", Ord: i, Backend: "gpt", Condition: cond, Policy: cond, Replicate: 1}})
	}
	for i, cond := range []string{"none", "moral"} {
		for a := 1; a <= 4; a++ {
			for _, sc := range exp.Scenarios {
				v := map[string]float64{"willingness": float64(a + i), "unfairness": float64(a)}
				if err := s.Observe(store.Decision{Key: store.Key{RunID: cond + ".r1", AgentID: a, Scenario: sc}, Reply: store.Reply{Values: v}}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	a, err := s.Analyze()
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := report.WritePage(&page, "t", []string{"run"}, nil, a.Sections); err != nil {
		t.Fatal(err)
	}
	doc := page.String()
	caps := regexp.MustCompile(`<figcaption><b>Figure \d+\.</b> (.*?)</figcaption>`).FindAllStringSubmatch(doc, -1)
	titles := regexp.MustCompile(`<svg [^>]*><title>(.*?)</title>`).FindAllStringSubmatch(doc, -1)
	if len(caps) != 6 || len(titles) != 6 {
		t.Fatalf("%d captions and %d charts, want 6 (a bar chart and a forest plot per measure)", len(caps), len(titles))
	}
	for _, list := range [][][]string{caps, titles} {
		seen := map[string]bool{}
		for _, m := range list {
			if seen[m[1]] {
				t.Errorf("two figures read %q", m[1])
			}
			seen[m[1]] = true
		}
	}
	for i, what := range []string{"willingness (1-7)", "willingness (1-7)", "unfairness (1-7)", "unfairness (1-7)", "willingness (0-10)", "willingness (0-10)"} {
		if !strings.Contains(caps[i][1], what) || !strings.Contains(titles[i][1], what) {
			t.Errorf("figure %d does not name %s: caption %q, title %q", i+1, what, caps[i][1], titles[i][1])
		}
	}
}

// With agents but no valid answer, the summary says why there is no interval: not that there
// are fewer than 2 agents.
func TestNoIntervalSaysNoValidAnswer(t *testing.T) {
	resp := scenario.Schema{Fields: []scenario.Field{{Name: "rating", Kind: scenario.Likert, Min: 1, Max: 7}}}
	exp := &experiment.Experiment{Scenarios: []string{"lend_car"}, Conditions: []experiment.Condition{{Name: "none", Policy: "none"}}}
	env := &study.Env{Exp: exp, Backends: []string{"gpt"}}
	s := &vignettes{env: env, byScenario: map[string][]measure{}}
	s.measure("lend_car", resp)
	env.Cells = append(env.Cells, &study.Cell{Run: store.Run{ID: "none.r1", Backend: "gpt", Condition: "none", Policy: "none", Replicate: 1}})
	for a := 1; a <= 4; a++ {
		d := store.Decision{Key: store.Key{RunID: "none.r1", AgentID: a, Scenario: "lend_car"}, Reply: store.Reply{Invalid: "error: no API key"}}
		if err := s.Observe(d); err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.Analyze()
	if err != nil {
		t.Fatal(err)
	}
	var sum bytes.Buffer
	if err := a.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	if want := "95% CI over agents (none: fewer than 2 agents with a valid answer)"; !strings.Contains(sum.String(), want) {
		t.Fatalf("summary lacks %q:\n%s", want, sum.String())
	}
}
