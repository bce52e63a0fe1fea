package engine

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// A re-ask that a gateway answers with another model than the reply it repairs is priced at
// the model that answered it: the decisions' recorded costs add up to what the spend cap
// settled, each call at its own model's price (before: every call of a decision at its last
// reply's model: $0.808 recorded for the $0.438 the cap settled in this run).
func TestReaskPricedAtTheModelThatAnswered(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		if d.agent == 0 && d.turn == 0 {
			return 200, nil, "I would rather not say."
		}
		return 200, nil, normal
	}
	s.model = func(d llmDecision) (string, string) {
		if d.turn > 0 {
			return "loopback-big", "" // the repair, answered by a dearer model
		}
		return "loopback-llm", ""
	}
	exp := llmExperiment(t, s.URL, 2, 1, 1)
	s.learn(exp)
	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src) + "prices: {loopback-llm: {input: 1, output: 2}, loopback-big: {input: 100, output: 400}}\nbudget: {usd: 100}\n"
	if err := os.WriteFile(exp.File, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	settled, costs, n := runSpend(t, dir)
	if n != 12 || math.Abs(settled-costs) > 1e-9 {
		t.Fatalf("the cap settled $%v, the %d decisions record $%v: want one amount", settled, n, costs)
	}
	if u := res.Usage[0]; math.Abs(u.CostUSD-settled) > 1e-9 || u.Calls != 18 {
		t.Errorf("summary: %d calls, $%v; want 18 calls (6 repaired), $%v", u.Calls, u.CostUSD, settled)
	}
}
