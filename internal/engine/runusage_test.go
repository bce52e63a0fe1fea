package engine

import (
	"context"
	"math"
	"path/filepath"
	"testing"
)

// TestRunUsageIsTheRecordedTotals: a run's whole-run usage (Result.RunUsage) is the results
// pass's tally of the recorded decisions, so after one invocation it is that invocation's
// own meter: the same calls, tokens and cost. With a model of unknown price its cost is the
// known costs' sum, not NaN (the CLI prints "of which this invocation" when the two differ).
func TestRunUsageIsTheRecordedTotals(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	for _, priced := range []bool{false, true} {
		exp := llmExperiment(t, s.URL, 12, 1, 4)
		if priced {
			exp = pricedExperiment(t, s.URL, 0)
		}
		s.learn(exp)
		res, err := Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "run"), NoCache: true})
		if err != nil {
			t.Fatal(err)
		}
		now, run := res.Usage[0], res.RunUsage[0]
		if res.Decisions != 12*3*2 || run.Calls != now.Calls || run.Calls != res.Decisions || run.FailedCalls != now.FailedCalls ||
			run.CacheHits != now.CacheHits || run.InputTokens != now.InputTokens || run.OutputTokens != now.OutputTokens {
			t.Fatalf("priced %v: %d decisions; whole run %+v, this invocation %+v", priced, res.Decisions, run, now)
		}
		if run.CostKnown != priced || now.CostKnown != priced || math.IsNaN(run.CostUSD) || math.Abs(run.CostUSD-now.CostUSD) > 1e-9 ||
			priced && run.CostUSD <= 0 {
			t.Fatalf("priced %v: whole run cost %v (known %v), this invocation %v (known %v)", priced, run.CostUSD, run.CostKnown, now.CostUSD, now.CostKnown)
		}
	}
}
