package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/store"
)

// A call whose request was sent and that Ctrl-C then cut off (the run's context cancelled)
// may have been billed: the run stops at once, and the store's unrecorded table and spent_usd
// hold it as one unusable call at its worst case, so that a resume under a cap counts it
// (before: counted nowhere, and the resume's cap started from $0). With and without a cap on
// the interrupted run (the cap's account, or the decisions' costs, gives its spend).
func TestInterruptAfterSendingCountsAsUnusable(t *testing.T) {
	for _, capped := range []bool{false, true} {
		t.Run("capped="+strconv.FormatBool(capped), func(t *testing.T) {
			t.Setenv(llmKeyEnv, llmKey)
			s := newLLMServer(t)
			started, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			t.Cleanup(func() { once.Do(func() { close(release) }) }) // before the server closes
			var n atomic.Int64
			s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
				if n.Add(1) == 1 {
					close(started)
					<-release // the reply is held until the run was cut off
				}
				return 200, nil, normal
			}
			exp := llmExperiment(t, s.URL, 2, 1, 1)
			s.learn(exp)
			prices := backend.Prices{"loopback-llm": {InputPerMTok: 100, OutputPerMTok: 400}}
			first, worst := firstTaskWorstCase(t, exp, prices)
			text := "prices: {loopback-llm: {input: 100, output: 400}}\n"
			if capped {
				text += "budget: {usd: " + strconv.FormatFloat(100*worst, 'g', -1, 64) + "}\n"
			}
			src, err := os.ReadFile(exp.File)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(exp.File, append(src, text...), 0o644); err != nil {
				t.Fatal(err)
			}
			if exp, err = experiment.Load(exp.File); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "run")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-started
				time.Sleep(20 * time.Millisecond) // the client has seen its request written
				cancel()
			}()
			begun := time.Now()
			if _, err := Run(ctx, exp, Options{Out: dir, NoCache: true}); !errors.Is(err, ErrInterrupted) {
				t.Fatalf("run: %v; want it interrupted", err)
			}
			if took := time.Since(begun); took > 5*time.Second {
				t.Errorf("the interrupted run took %v to stop", took)
			}

			st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
			if err != nil {
				t.Fatal(err)
			}
			us, err := st.UnrecordedSpend()
			st.Close()
			if err != nil || len(us) != 1 {
				t.Fatalf("unrecorded spend %+v, %v; want the cut-off call's", us, err)
			}
			if u := us[0]; u.Backend != first.Cell.Backend || u.Calls != 1 || u.UnusableCalls != 1 || u.FailedCalls != 0 || math.Abs(u.CostUSD-worst) > 1e-12 {
				t.Errorf("unrecorded %+v; want backend %s, 1 unusable call at its worst case $%v", u, first.Cell.Backend, worst)
			}
			if _, ok := recordedIf(t, dir, first.Keys[0]); ok {
				t.Errorf("the cut-off decision was recorded")
			}
			settled, costs, decided := runSpend(t, dir)
			if math.Abs(settled-worst) > 1e-12 || costs != 0 || decided != 0 {
				t.Errorf("spent_usd %v with %d decisions costing $%v; want the cut-off call's $%v alone", settled, decided, costs, worst)
			}

			// The report's usage (prosim report) counts it too.
			run, err := report.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if us := report.UsageOf(run); len(us) != 1 || us[0].Calls != 1 || us[0].UnusableCalls != 1 || math.Abs(us[0].CostUSD-worst) > 1e-12 {
				t.Errorf("report usage %+v; want the cut-off call, unusable, at $%v", us, worst)
			}

			// Resumed under a cap that holds one more worst case but not two: the earlier
			// call's worst case is spent, so the first call is refused and none is made.
			once.Do(func() { close(release) })
			_, err = Resume(context.Background(), dir, Options{MaxCost: 1.5 * worst})
			var stop *BudgetStop
			if !errors.As(err, &stop) {
				t.Fatalf("resume under a cap of 1.5 worst cases: %v; want a stop at the cap", err)
			}
			if math.Abs(stop.Spent-worst) > 1e-12 {
				t.Errorf("resume stopped with $%v spent, want the cut-off call's $%v", stop.Spent, worst)
			}
			if c := s.calls(); c != 1 {
				t.Errorf("the server got %d calls, want 1 (the cut-off one; the resume's refused)", c)
			}
		})
	}
}
