package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// firstTasks are the tasks of exp's first step and the prices its calls are billed at (half
// the list price in batch mode).
func firstTasks(t *testing.T, exp *experiment.Experiment) ([]study.Task, backend.Prices) {
	t.Helper()
	r, err := Prepare(exp, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.study.Next()
	if err != nil {
		t.Fatal(err)
	}
	tasks := make([]study.Task, b.Len())
	for i := range tasks {
		if tasks[i], err = b.Task(i); err != nil {
			t.Fatal(err)
		}
	}
	return tasks, r.callPrices()
}

// unusableWhy is why the loopback server's unusable line (openaiBatchServer.unusable) cannot be used.
const unusableWhy = "malformed response: no choices"

// A batch line that came back with HTTP 200 but could not be used was billed: it is priced as
// a synchronous call's unusable reply is, at its request's worst case (the input bound and
// the max output tokens, what the cap reserved), in the decision's cost_usd, the run's usage
// and spent_usd, and is counted apart from failed calls. Its retry in the next job makes the
// decision. Before, it was a failed call at no cost.
func TestOpenAIBatchUnusableLinePricedAtWorstCase(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	llm, s := newAnsweringBatchServer(t)
	exp := batchExperiment(t, s.URL, true)
	llm.learn(exp)
	tasks, prices := firstTasks(t, exp)
	first := tasks[0]
	target := backend.BatchID(first.Req)
	s.unusable = func(id string, n int) bool { return id == target && n == 1 }
	wi, wo := backend.WorstCase(first.Req, providers.DefaultMaxTokens("openai"))
	worst, _ := prices.Cost("openai", "loopback-llm", wi, wo)

	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, MaxCost: 100})
	if err != nil {
		t.Fatal(err)
	}
	d := recorded(t, dir, first.Keys[0])
	good, _ := prices.Cost("openai", "loopback-llm", d.Reply.InputTokens, d.Reply.OutputTokens)
	if !d.Reply.Valid() || d.Reply.Calls != 2 || d.Reply.UnusableCalls != 1 || d.Reply.FailedCalls != 0 || math.Abs(d.Reply.CostUSD-(worst+good)) > 1e-12 {
		t.Errorf("decision %+v; want valid, 2 calls (1 unusable, 0 failed) at $%v (the unusable line's worst case) + $%v", d.Reply, worst, good)
	}
	s.mu.Lock()
	lines, jobs := 0, s.creates
	for _, j := range s.jobs {
		lines += j.total
	}
	s.mu.Unlock()
	u := res.RunUsage[0]
	settled, costs, n := runSpend(t, dir)
	t.Logf("%d jobs of %d lines; %d decisions, %d calls recorded (%d unusable, %d failed); $%v in costs, $%v spent; the unusable line $%v",
		jobs, lines, n, u.Calls, u.UnusableCalls, u.FailedCalls, costs, settled, worst)
	if u.Calls != lines || u.UnusableCalls != 1 || u.FailedCalls != 0 {
		t.Errorf("run usage %+v; want %d calls (the lines the server got), 1 unusable, 0 failed", u, lines)
	}
	if math.Abs(settled-costs) > 1e-9 || math.Abs(u.CostUSD-costs) > 1e-9 {
		t.Errorf("spent_usd %v, run usage $%v, decisions' costs $%v: want one amount", settled, u.CostUSD, costs)
	}
}

// Under a spend cap, an unusable batch line's retry reserves its worst case again, as a
// synchronous retry does (TestCutReplyAgainstSpendCap): with a cap that holds one worst case
// the retry is refused, no second job is sent, the decision is recorded invalid with the
// refusal as its reason at the line's worst case, and the run stops at the cap having spent
// that. Before, the line was retried in two more jobs without a reservation, each billed.
func TestOpenAIBatchUnusableLineRetryAgainstCap(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	llm, s := newAnsweringBatchServer(t)
	s.unusable = func(string, int) bool { return true }
	exp := llmExperiment(t, s.URL, 2, 1, 1) // one worker: one task is asked first, alone
	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, "prices: {loopback-llm: {input: 100, output: 400}}\nexecution: {mode: batch, poll: 1ms}\n"...)
	if err := os.WriteFile(exp.File, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	llm.learn(exp)
	tasks, prices := firstTasks(t, exp)
	worst := 0.0 // the dearest worst case of the step, so that the cap holds one call's, not two
	for _, tk := range tasks {
		wi, wo := backend.WorstCase(tk.Req, providers.DefaultMaxTokens("openai"))
		w, _ := prices.Cost("openai", "loopback-llm", wi, wo)
		worst = max(worst, w)
	}

	dir := filepath.Join(t.TempDir(), "run")
	_, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true, MaxCost: 1.5 * worst})
	stop, ok := errors.AsType[*BudgetStop](err)
	if !ok {
		t.Fatalf("run: %v; want a stop at the spend cap", err)
	}
	s.mu.Lock()
	lines, jobs := 0, s.creates
	for _, j := range s.jobs {
		lines += j.total
	}
	s.mu.Unlock()
	settled, costs, n := runSpend(t, dir)
	t.Logf("%d jobs of %d lines; %d decisions recorded; $%v in costs, $%v spent, cap $%v; stop at $%v", jobs, lines, n, costs, settled, 1.5*worst, stop.Spent)
	if jobs != 1 || lines != 1 || n != 1 {
		t.Fatalf("%d jobs of %d lines, %d decisions recorded; want 1 of 1, 1 (the unusable line's retry refused)", jobs, lines, n)
	}
	// The task asked: the one whose decision is recorded.
	var d store.Decision
	for _, tk := range tasks {
		if dd, ok := recordedIf(t, dir, tk.Keys[0]); ok {
			d = dd
			wi, wo := backend.WorstCase(tk.Req, providers.DefaultMaxTokens("openai"))
			worst, _ = prices.Cost("openai", "loopback-llm", wi, wo)
		}
	}
	if math.Abs(stop.Spent-worst) > 1e-12 || math.Abs(settled-worst) > 1e-12 || math.Abs(costs-worst) > 1e-12 {
		t.Errorf("spent $%v at the stop, spent_usd $%v, decisions' costs $%v: want the unusable line's worst case $%v", stop.Spent, settled, costs, worst)
	}
	if !strings.HasPrefix(d.Reply.Invalid, "error: budget of $") || !strings.Contains(d.Reply.Invalid, "HTTP 200") || !strings.Contains(d.Reply.Invalid, unusableWhy) ||
		d.Reply.Calls != 1 || d.Reply.UnusableCalls != 1 || d.Reply.FailedCalls != 0 || math.Abs(d.Reply.CostUSD-worst) > 1e-12 {
		t.Errorf("refused decision recorded as %+v; want invalid with the budget's reason, 1 unusable call at $%v", d.Reply, worst)
	}
}

// recordedIf is the decision k recorded in the run directory dir, if it is.
func recordedIf(t *testing.T, dir string, k store.Key) (store.Decision, bool) {
	t.Helper()
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, ok, err := st.Decision(k)
	if err != nil {
		t.Fatal(err)
	}
	return d, ok
}

// Anthropic's and Gemini's batch results the provider billed but that cannot be used (a
// succeeded result that is not a message, an empty response) are priced as OpenAI's unusable
// line is, at the request's worst case at the provider's own completion limit.
func TestProviderBatchUnusableLinePricedAtWorstCase(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	for _, kind := range []string{"anthropic", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			s := newProvServer(t, kind)
			s.inProgress = 0
			exp := provExperiment(t, s, "execution: {mode: batch, poll: 1ms}\n")
			tasks, prices := firstTasks(t, exp)
			first := tasks[0]
			target := backend.BatchID(first.Req)
			s.unusable = func(id string, n int) bool { return id == target && n == 1 }
			wi, wo := backend.WorstCase(first.Req, providers.DefaultMaxTokens(kind))
			worst, _ := prices.Cost(kind, "loopback-llm", wi, wo)

			dir := filepath.Join(t.TempDir(), "run")
			res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, MaxCost: 100})
			if err != nil {
				t.Fatal(err)
			}
			d := recorded(t, dir, first.Keys[0])
			good, _ := prices.Cost(kind, "loopback-llm", d.Reply.InputTokens, d.Reply.OutputTokens)
			if !d.Reply.Valid() || d.Reply.Calls != 2 || d.Reply.UnusableCalls != 1 || d.Reply.FailedCalls != 0 || math.Abs(d.Reply.CostUSD-(worst+good)) > 1e-12 {
				t.Errorf("decision %+v; want valid, 2 calls (1 unusable, 0 failed) at $%v (the unusable result's worst case) + $%v", d.Reply, worst, good)
			}
			s.mu.Lock()
			lines := 0
			for _, n := range s.submitted {
				lines += n
			}
			s.mu.Unlock()
			u := res.RunUsage[0]
			settled, costs, _ := runSpend(t, dir)
			t.Logf("%d lines; %d calls recorded (%d unusable, %d failed); $%v in costs, $%v spent; the unusable result $%v", lines, u.Calls, u.UnusableCalls, u.FailedCalls, costs, settled, worst)
			if u.Calls != lines || u.UnusableCalls != 1 || u.FailedCalls != 0 || math.Abs(settled-costs) > 1e-9 || math.Abs(u.CostUSD-costs) > 1e-9 {
				t.Errorf("run usage %+v, spent_usd %v, decisions' costs %v; want %d calls, 1 unusable, one amount", u, settled, costs, lines)
			}
		})
	}
}
