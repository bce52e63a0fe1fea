package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// noUsageRun runs 2 agents with one worker against a loopback server that leaves "usage" out
// of every reply, with extra appended to the experiment. It returns the run's result and error,
// its directory, the server, and the sum of the design's worst cases (one call a task) with the
// first task's alone, at the run's prices.
func noUsageRun(t *testing.T, extra func(first float64) string) (res *Result, err error, dir string, s *llmServer, all, first float64) {
	t.Helper()
	t.Setenv(llmKeyEnv, llmKey)
	s = newLLMServer(t)
	s.noUsage = true
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := llmExperiment(t, s.URL, 2, 1, 1)
	s.learn(exp)
	prices := backend.Prices{"loopback-llm": {InputPerMTok: 100, OutputPerMTok: 400}}
	tasks, _ := firstTasks(t, exp)
	for i, tk := range tasks {
		in, out := backend.WorstCase(tk.Req, providers.DefaultMaxTokens("openai"))
		w, _ := prices.Cost("openai", "loopback-llm", in, out)
		all += w
		if i == 0 {
			first = w
		}
	}
	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src) + "prices: {loopback-llm: {input: 100, output: 400}}\n" + extra(first)
	if err := os.WriteFile(exp.File, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "run")
	res, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	return res, err, dir, s, all, first
}

// A reply that says no token usage (some gateways and older local servers leave "usage" out)
// was billed all the same: it is counted at its call's worst case, in the decisions' costs, the
// run's spend and the invocation's usage, which names such calls (QA15 F1: before, each cost
// $0 and a spend cap never stopped the run). Each decision records its call as one without
// usage, so the run's usage (from prosim.db) names them too, and decisions.csv says why a
// decision of 0 tokens has a cost.
func TestReplyWithoutUsageCostsItsWorstCase(t *testing.T) {
	res, err, dir, s, all, _ := noUsageRun(t, func(float64) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	settled, costs, n := runSpend(t, dir)
	if n != 12 || s.calls() != 12 {
		t.Fatalf("%d decisions, %d calls; want 12 and 12", n, s.calls())
	}
	if math.Abs(costs-all) > 1e-9 || math.Abs(settled-all) > 1e-9 {
		t.Errorf("decisions' costs $%v, spent_usd $%v; want each call's worst case, $%v in all", costs, settled, all)
	}
	u := res.Usage[0]
	if u.Calls != 12 || u.NoUsageCalls != 12 || u.InputTokens != 0 || u.OutputTokens != 0 || math.Abs(u.CostUSD-all) > 1e-9 {
		t.Errorf("usage %+v; want 12 calls, all without usage, no tokens, $%v", u, all)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recorded := 0
	st.Decisions(func(d store.Decision) error {
		if d.Reply.NoUsageCalls != 1 || d.Reply.Calls != 1 || d.Reply.InputTokens != 0 {
			t.Errorf("decision %+v recorded %+v; want 1 call, without usage, 0 tokens", d.Key, d.Reply)
		}
		recorded++
		return nil
	})
	if recorded != 12 {
		t.Errorf("%d decisions read back; want 12", recorded)
	}
	if len(res.RunUsage) != 1 || res.RunUsage[0].NoUsageCalls != 12 || res.RunUsage[0].Calls != 12 || math.Abs(res.RunUsage[0].CostUSD-all) > 1e-9 {
		t.Errorf("run usage %+v; want 12 calls, all without usage, $%v", res.RunUsage, all)
	}
	recs := readCSV(t, filepath.Join(dir, "results", "decisions.csv"))
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	i, ok := col["no_usage_calls"]
	if !ok {
		t.Fatalf("decisions.csv has no no_usage_calls column: %v", recs[0])
	}
	for _, rec := range recs[1:] {
		if rec[i] != "1" || rec[col["input_tokens"]] != "0" {
			t.Errorf("decisions.csv row %v: no_usage_calls %q; want 1, with 0 input tokens", rec, rec[i])
		}
	}
}

// Under a cap, replies without usage are settled at their worst case, so the cap stops the run.
func TestReplyWithoutUsageStopsAtTheCap(t *testing.T) {
	_, err, dir, s, _, first := noUsageRun(t, func(first float64) string {
		return "budget: {usd: " + strconv.FormatFloat(2.5*first, 'g', -1, 64) + "}\n"
	})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("run: %v; want a stop at the spend cap", err)
	}
	if c := s.calls(); c < 1 || c > 3 {
		t.Errorf("the server got %d calls; want at most the 2-3 worst cases that fit the cap", c)
	}
	settled, costs, _ := runSpend(t, dir)
	if settled > 2.5*first+1e-12 || math.Abs(settled-costs) > 1e-9 || settled < first {
		t.Errorf("spent_usd $%v, decisions' costs $%v; want one amount within the cap $%v", settled, costs, 2.5*first)
	}
}
