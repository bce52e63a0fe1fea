package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// timeoutRun is a run of 2 agents with one worker against a loopback server whose first call
// (the run's first task) answers only after the per-call timeout of 300ms, with budget added
// to the experiment (none when ""). It returns the run's error, its directory, the server,
// the first task's key and that task's worst case at prices.
func timeoutRun(t *testing.T, budget func(worst float64) string) (err error, dir string, s *llmServer, k store.Key, worst float64) {
	t.Helper()
	t.Setenv(llmKeyEnv, llmKey)
	s = newLLMServer(t)
	var n atomic.Int64
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		if n.Add(1) == 1 {
			time.Sleep(900 * time.Millisecond) // generated, but after the client gave up
		}
		return 200, nil, normal
	}
	exp := llmExperiment(t, s.URL, 2, 1, 1)
	s.learn(exp)
	prices := backend.Prices{"loopback-llm": {InputPerMTok: 100, OutputPerMTok: 400}}
	first, w := firstTaskWorstCase(t, exp, prices)
	worst = w

	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), "    max_concurrency: 1\n", "    max_concurrency: 1\n    timeout: 300ms\n", 1)
	text += "prices: {loopback-llm: {input: 100, output: 400}}\n" + budget(worst)
	if err := os.WriteFile(exp.File, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "run")
	_, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	return err, dir, s, first.Keys[0], worst
}

// A call whose request was sent but whose reply came after the per-call timeout may have been
// billed (the provider generated it): the decision counts it as an unusable call at its worst
// case, beside the retry's good reply, and spent_usd holds it (before: a failed call at $0).
func TestTimeoutAfterSendingCountsAsUnusable(t *testing.T) {
	err, dir, s, k, worst := timeoutRun(t, func(float64) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	d := recorded(t, dir, k)
	good, _ := backend.Prices{"loopback-llm": {InputPerMTok: 100, OutputPerMTok: 400}}.Cost("openai", "loopback-llm", d.Reply.InputTokens, d.Reply.OutputTokens)
	if !d.Reply.Valid() || d.Reply.Calls != 2 || d.Reply.UnusableCalls != 1 || d.Reply.FailedCalls != 0 || math.Abs(d.Reply.CostUSD-(worst+good)) > 1e-12 {
		t.Fatalf("decision %+v; want valid, 2 calls (1 unusable, 0 failed), $%v (worst case) + $%v", d.Reply, worst, good)
	}
	settled, costs, _ := runSpend(t, dir)
	if math.Abs(settled-costs) > 1e-9 || costs < worst {
		t.Errorf("spent_usd %v, decisions' costs $%v: want one amount, with the timed-out call's $%v", settled, costs, worst)
	}
	if c := s.calls(); c != 13 { // 12 decisions and the retry
		t.Errorf("the server got %d calls, want 13", c)
	}
}

// Under a cap that holds one worst case only, the retry of a call that timed out after
// sending reserves its worst case first and is refused: the run stops at the cap, with the
// decision recorded invalid with the refusal (before: the retry went unreserved, $0 counted).
func TestTimeoutAfterSendingRetryAgainstCap(t *testing.T) {
	err, dir, s, k, worst := timeoutRun(t, func(worst float64) string {
		return "budget: {usd: " + strconv.FormatFloat(1.5*worst, 'g', -1, 64) + "}\n"
	})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("run: %v; want a stop at the spend cap", err)
	}
	if c := s.calls(); c != 1 {
		t.Fatalf("the server got %d calls, want 1 (the timed-out call's retry refused)", c)
	}
	if math.Abs(stop.Spent-worst) > 1e-12 {
		t.Errorf("spent $%v at the stop, want the timed-out call's worst case $%v", stop.Spent, worst)
	}
	d := recorded(t, dir, k)
	if !strings.HasPrefix(d.Reply.Invalid, "error: budget of $") || !strings.Contains(d.Reply.Invalid, "timed out after its request was sent") ||
		d.Reply.Calls != 1 || d.Reply.UnusableCalls != 1 || d.Reply.FailedCalls != 0 || math.Abs(d.Reply.CostUSD-worst) > 1e-12 {
		t.Fatalf("refused decision recorded as %+v; want invalid with the budget's reason, 1 unusable call at $%v", d.Reply, worst)
	}
}
