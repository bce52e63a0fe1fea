package vignettes

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
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
	r := s.results(t, a)
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

// results reads the analysis's numbers back through its tables' rows.
func (s *vignettes) results(t *testing.T, a *study.Analysis) *results {
	t.Helper()
	order, counts, am := s.agentMeans()
	r := &results{Cells: cells(order, counts, am)}
	r.Contrasts = contrasts(s.env.Backends, s.items, pairs(s.env.Exp), am)
	tb, ok := a.Table("vignette_means")
	if !ok {
		t.Fatal("no vignette_means table")
	}
	var fields []string
	if err := tb.Rows(func(row []any) error {
		fields = append(fields, row[3].(string))
		if row[10] != 0 {
			t.Errorf("vignette_means row %v counts invalid decisions", row)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fields, "|"); got != "answer=yes, gladly|answer=no|minutes|rating|answer=yes, gladly|answer=no|minutes|rating" {
		t.Errorf("vignette_means fields: %s", got)
	}
	return r
}
