package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// A backend configured with timeout: 0 (the default timeout) and max_attempts: 1 (no retry)
// counts, as one that retries does, a reply without usage at its worst case and a call cut off
// by Ctrl-C after sending in the unrecorded table: its chain keeps the wrapper that counts them
// (backend.Stack; TestOneAttemptNoTimeoutStillCounts for a chain with no timeout at all).
func TestOneAttemptConfigCounts(t *testing.T) {
	prices := backend.Prices{"loopback-llm": {InputPerMTok: 100, OutputPerMTok: 400}}
	setup := func(t *testing.T, s *llmServer) *experiment.Experiment {
		exp := llmExperiment(t, s.URL, 2, 1, 1)
		s.learn(exp)
		src, err := os.ReadFile(exp.File)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(src), "    max_concurrency: 1\n", "    max_concurrency: 1\n    timeout: 0s\n    max_attempts: 1\n", 1) +
			"prices: {loopback-llm: {input: 100, output: 400}}\n"
		if err := os.WriteFile(exp.File, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if exp, err = experiment.Load(exp.File); err != nil {
			t.Fatal(err)
		}
		return exp
	}

	t.Run("no usage", func(t *testing.T) {
		t.Setenv(llmKeyEnv, llmKey)
		s := newLLMServer(t)
		s.noUsage = true
		s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
			return 200, nil, normal
		}
		exp := setup(t, s)
		tasks, _ := firstTasks(t, exp)
		all := 0.0
		for _, tk := range tasks {
			in, out := backend.WorstCase(tk.Req, providers.DefaultMaxTokens("openai"))
			w, _ := prices.Cost("openai", "loopback-llm", in, out)
			all += w
		}
		dir := filepath.Join(t.TempDir(), "run")
		res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
		if err != nil {
			t.Fatal(err)
		}
		if u := res.Usage[0]; u.Calls != 12 || u.NoUsageCalls != 12 || math.Abs(u.CostUSD-all) > 1e-9 {
			t.Errorf("usage %+v; want 12 calls without usage, at their worst cases, $%v", u, all)
		}
	})

	t.Run("cut off", func(t *testing.T) {
		t.Setenv(llmKeyEnv, llmKey)
		s := newLLMServer(t)
		started, release := make(chan struct{}), make(chan struct{})
		var once, relOnce sync.Once
		t.Cleanup(func() { relOnce.Do(func() { close(release) }) })
		s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
			once.Do(func() { close(started); <-release })
			return 200, nil, normal
		}
		exp := setup(t, s)
		_, worst := firstTaskWorstCase(t, exp, prices)
		dir := filepath.Join(t.TempDir(), "run")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-started; time.Sleep(20 * time.Millisecond); cancel() }()
		if _, err := Run(ctx, exp, Options{Out: dir, NoCache: true}); !errors.Is(err, ErrInterrupted) {
			t.Fatalf("run: %v; want it interrupted", err)
		}
		st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		us, err := st.UnrecordedSpend()
		if err != nil || len(us) != 1 || us[0].UnusableCalls != 1 || math.Abs(us[0].CostUSD-worst) > 1e-12 {
			t.Errorf("unrecorded %+v, %v; want the cut-off call, unusable, at its worst case $%v", us, err, worst)
		}
	})
}
