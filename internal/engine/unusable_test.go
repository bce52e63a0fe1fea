package engine

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// A reply that came back with HTTP 200 but cut counts against the spend cap: at its worst
// case, as a call of its own. With a cap that holds one worst case, its retry is refused:
// the decision is recorded invalid with the budget's refusal as its reason, its call and
// cost in prosim.db, and the run stops at the cap; a resume with a higher cap asks it again,
// and the run's accounting names the unusable call apart from failed ones.
func TestCutReplyAgainstSpendCap(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	var n atomic.Int64
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		if n.Add(1) == 1 {
			return 200, nil, "MALFORMED" // the run's first call: HTTP 200, a body cut short
		}
		return 200, nil, normal
	}
	exp := llmExperiment(t, s.URL, 2, 1, 1) // one worker: the first task is asked first
	s.learn(exp)
	prices := backend.Prices{"loopback-llm": {InputPerMTok: 100, OutputPerMTok: 400}}
	first, worst := firstTaskWorstCase(t, exp, prices)

	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, "prices: {loopback-llm: {input: 100, output: 400}}\nbudget: {usd: "+strconv.FormatFloat(1.5*worst, 'g', -1, 64)+"}\n"...)
	if err := os.WriteFile(exp.File, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	_, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("run: %v; want a stop at the spend cap", err)
	}
	if c := s.calls(); c != 1 {
		t.Fatalf("the server got %d calls, want 1 (the cut reply's retry refused)", c)
	}
	if math.Abs(stop.Spent-worst) > 1e-12 {
		t.Errorf("spent $%v at the stop, want the cut reply's worst case $%v", stop.Spent, worst)
	}
	k := first.Keys[0]
	d := recorded(t, dir, k)
	if !strings.HasPrefix(d.Reply.Invalid, "error: budget of $") || !strings.Contains(d.Reply.Invalid, "HTTP 200") ||
		d.Reply.Calls != 1 || d.Reply.UnusableCalls != 1 || d.Reply.FailedCalls != 0 || math.Abs(d.Reply.CostUSD-worst) > 1e-12 {
		t.Fatalf("refused decision recorded as %+v; want invalid with the budget's reason, 1 unusable call at $%v", d.Reply, worst)
	}

	var notes bytes.Buffer
	res, err := Resume(context.Background(), dir, Options{NoCache: true, MaxCost: 10, Notices: &notes})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes.String(), "asking again 1 decision whose retry the spend cap refused") {
		t.Errorf("resume notices %q", notes.String())
	}
	d = recorded(t, dir, k)
	good, _ := prices.Cost("openai", "loopback-llm", d.Reply.InputTokens, d.Reply.OutputTokens)
	if !d.Reply.Valid() || d.Reply.Calls != 2 || d.Reply.UnusableCalls != 1 || math.Abs(d.Reply.CostUSD-(worst+good)) > 1e-12 {
		t.Fatalf("decision after the resume: %+v; want valid, 2 calls (1 unusable), $%v + $%v", d.Reply, worst, good)
	}
	u := res.RunUsage[0]
	if u.Calls != s.calls() || u.UnusableCalls != 1 || u.FailedCalls != 0 {
		t.Errorf("run usage %+v; want %d calls, 1 unusable, 0 failed", u, s.calls())
	}
	settled, costs, _ := runSpend(t, dir)
	if math.Abs(settled-costs) > 1e-9 || math.Abs(u.CostUSD-costs) > 1e-9 {
		t.Errorf("spent_usd %v, run usage $%v, decisions' costs $%v: want one amount", settled, u.CostUSD, costs)
	}
	recs, col := decisionsCSV(t, dir)
	unusable := 0
	for _, rec := range recs[1:] {
		if rec[col["unusable_calls"]] == "1" {
			unusable++
		}
	}
	if _, ok := col["unusable_calls"]; !ok || unusable != 1 {
		t.Errorf("decisions.csv: %d rows with unusable_calls 1 (columns %v), want 1", unusable, recs[0])
	}
}

// recorded is the decision k recorded in the run directory dir.
func recorded(t *testing.T, dir string, k store.Key) store.Decision {
	t.Helper()
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, ok, err := st.Decision(k)
	if err != nil || !ok {
		t.Fatalf("decision %v: %v, %v", k, ok, err)
	}
	return d
}

// firstTaskWorstCase is the run's first task (one worker asks it first) and the worst case the
// spend cap reserves for one call of it at prices.
func firstTaskWorstCase(t *testing.T, exp *experiment.Experiment, prices backend.Prices) (study.Task, float64) {
	t.Helper()
	tasks, _ := firstTasks(t, exp)
	first := tasks[0]
	wi, wo := backend.WorstCase(first.Req, providers.DefaultMaxTokens("openai"))
	worst, _ := prices.Cost("openai", "loopback-llm", wi, wo)
	return first, worst
}
