package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/usd"
)

// pricedExperiment is llmExperiment with a price for the loopback model (and a budget when
// usd is above 0), written to and loaded from a file as a user would.
func pricedExperiment(t *testing.T, url string, usd float64) *experiment.Experiment {
	t.Helper()
	exp := llmExperiment(t, url, 12, 1, 4)
	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, "prices: {loopback-llm: {input: 100, output: 400}}\n"...)
	if usd > 0 {
		src = append(src, "budget: {usd: "+strconv.FormatFloat(usd, 'f', -1, 64)+"}\n"...)
	}
	if err := os.WriteFile(exp.File, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	return exp
}

// runSpend is what a run directory records of its spend: the settled spend and the sum of
// its decisions' costs.
func runSpend(t *testing.T, dir string) (settled, decisions float64, n int) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := st.Meta(spentKey)
	if err != nil {
		t.Fatal(err)
	}
	if settled, err = strconv.ParseFloat(v, 64); err != nil {
		t.Fatalf("%s = %q: %v", spentKey, v, err)
	}
	st.Decisions(func(d store.Decision) error {
		n++
		if !math.IsNaN(d.Reply.CostUSD) {
			decisions += d.Reply.CostUSD
		}
		return nil
	})
	return settled, decisions, n
}

func TestBudgetStopsAndResumes(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.delay = time.Millisecond
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := pricedExperiment(t, s.URL, 0)
	s.learn(exp)
	whole := filepath.Join(t.TempDir(), "whole")
	res, err := Run(context.Background(), exp, Options{Out: whole, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	total := res.Usage[0].CostUSD
	if !(total > 0) || res.Decisions != 72 {
		t.Fatalf("uncapped run: %d decisions for $%v", res.Decisions, total)
	}
	// Without a cap too, manifest.json says what the run spent, rounded (QA10 repro-6: only
	// a run stopped at its cap had it).
	if m, err := manifest.Read(whole); err != nil || m.SpentUSD == nil || *m.SpentUSD != usd.Round(total) {
		t.Fatalf("manifest of an uncapped run: %+v, %v; want spent_usd %v", m, err, usd.Round(total))
	}
	_, wantBytes := llmReadCSV(t, whole)

	s.mu.Lock()
	s.seen = map[string]int{}
	s.mu.Unlock()
	cap := total * 0.4
	exp = pricedExperiment(t, s.URL, cap)
	cut := filepath.Join(t.TempDir(), "cut")
	_, err = Run(context.Background(), exp, Options{Out: cut, NoCache: true})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("a capped run returned %v, want a budget stop", err)
	}
	if !strings.Contains(err.Error(), "prosim resume "+cut+" --max-cost") {
		t.Errorf("the stop message does not say how to continue: %v", err)
	}
	settled, recorded, n := runSpend(t, cut)
	if settled > cap || recorded > cap {
		t.Fatalf("spent $%v (decisions $%v) over the cap of $%v", settled, recorded, cap)
	}
	if n == 0 || n >= 72 {
		t.Fatalf("the capped run recorded %d of 72 decisions", n)
	}
	// The folder says it stopped, and why (QA9: manifest.json said running), and a report
	// of it says to continue with a higher cap.
	m, err := manifest.Read(cut)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "stopped" || m.Stop == nil || m.Stop.Reason != manifest.StopSpendCap || m.Stop.CapUSD != usd.Round(cap) || m.Stop.SpentUSD == nil || *m.Stop.SpentUSD != usd.Round(settled) || !(m.Stop.NextCallUSD > 0) {
		t.Fatalf("manifest status %q, stop %+v; want stopped at the spend cap of $%v with $%v spent", m.Status, m.Stop, cap, settled)
	}
	if m.SpentUSD == nil || *m.SpentUSD != usd.Round(settled) {
		t.Fatalf("manifest spent_usd %v, want %v", m.SpentUSD, usd.Round(settled))
	}
	if err := WriteReport(filepath.Join(t.TempDir(), "r.html"), cut); err == nil || !strings.Contains(err.Error(), "the run stopped: spend cap of $") ||
		!strings.Contains(err.Error(), "prosim resume "+cut+" --max-cost ") {
		t.Fatalf("report of a run stopped at its cap: %v", err)
	}

	// Resuming with the same cap asks nothing and stops again; its progress counts the saved
	// once (QA12 #13: "1/24"; then, counting the saved from the start too, "48/48").
	var progress syncBuffer
	if _, err := Resume(context.Background(), cut, Options{NoCache: true, Progress: &progress}); !errors.As(err, &stop) {
		t.Fatalf("a resume at the same cap returned %v", err)
	}
	if want := fmt.Sprintf("  %d/72 decisions (0 asked now) in ", n); !strings.Contains(progress.String(), want) {
		t.Errorf("progress of a resume that asked nothing:\n%s\nwant %q", progress.String(), want)
	}
	// A cap at or below what was spent is refused and not kept (QA12 #11: it became the run's
	// cap, and its stop said "cap of $0.001 reached ($0.002 spent)").
	_, err = Resume(context.Background(), cut, Options{NoCache: true, MaxCost: settled / 2})
	if err == nil || errors.As(err, &stop) || !strings.Contains(err.Error(), "this run has already spent $") {
		t.Fatalf("a resume with a cap below the spend returned %v, want a refusal", err)
	}
	if c, err := RunCap(cut); err != nil || c != cap {
		t.Fatalf("after the refused cap the run's cap is %v (%v), want %v", c, err, cap)
	}
	if _, err := Resume(context.Background(), cut, Options{NoCache: true, MaxCost: 2 * total}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	for h, c := range s.seen {
		if c != 1 {
			t.Errorf("request %s was sent %d times", h, c)
		}
	}
	s.mu.Unlock()
	m, err = manifest.Read(cut)
	if err != nil || m.Status != "complete" || m.Stop != nil {
		t.Fatalf("manifest after the resume: %+v, %v", m, err)
	}
	settled, _, n = runSpend(t, cut)
	if n != 72 || math.Abs(settled-total) > 1e-9 {
		t.Errorf("capped run and resume: %d decisions for $%v; uncapped: 72 for $%v", n, settled, total)
	}
	if m.SpentUSD == nil || *m.SpentUSD != usd.Round(settled) {
		t.Errorf("manifest spent_usd after the resume %v, want both invocations' %v", m.SpentUSD, usd.Round(settled))
	}
	if _, gotBytes := llmReadCSV(t, cut); !bytes.Equal(gotBytes, wantBytes) {
		t.Fatal("the capped and resumed run's decisions.csv differs from an uncapped run's")
	}
}

func TestBudgetNeedsAPrice(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	exp := llmExperiment(t, "http://127.0.0.1:1", 2, 1, 1)
	src, _ := os.ReadFile(exp.File)
	if err := os.WriteFile(exp.File, append(src, "budget: {usd: 5}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Prepare(exp, Options{NoCache: true})
	if err == nil || !strings.Contains(err.Error(), "llm.yaml:") || !strings.Contains(err.Error(), `no price is known for openai model "loopback-llm"`) {
		t.Fatalf("a budget without a price: %v", err)
	}
	// --max-cost needs one too.
	exp.Budget = nil
	if _, err = Prepare(exp, Options{NoCache: true, MaxCost: 1}); err == nil || !strings.Contains(err.Error(), "no price is known") {
		t.Fatalf("--max-cost without a price: %v", err)
	}
}

// A cap below one call's worst case: the stop prints the cap as given and the call's worst
// case, and suggests a cap that admits that call; estimate says so before the run (QA9:
// "spend cap of $0.00 reached ($0.0000 spent)", then --max-cost 0.002, 0.004, ... while one
// call reserved $0.011).
func TestBudgetBelowOneCall(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	exp := pricedExperiment(t, s.URL, 0.001)
	s.learn(exp)

	r, err := Prepare(exp, Options{NoCache: true, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	est, err := r.Estimate()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	note := BudgetNote(r.SpendCap(), est)
	if worst := est[0].WorstCallUSD; !(worst > 0.001) || !strings.Contains(note, "Spend cap $0.001: one call's worst case is $"+usd.String(worst)+", more than the cap") {
		t.Fatalf("worst case $%v, note %q", worst, note)
	}

	dir := filepath.Join(t.TempDir(), "run")
	_, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("err %v, want a budget stop", err)
	}
	if !strings.Contains(err.Error(), "spend cap of $0.001 reached ($0 spent; the next call could cost up to $"+usd.String(stop.NextUSD)+", more than the $0.001 the cap leaves)") {
		t.Errorf("stop message: %v", err)
	}
	// Nothing spent is written as 0, in the stop and the run's spend (QA10 repro-6: a stop
	// at $0 had no spent_usd).
	if raw, err := os.ReadFile(filepath.Join(dir, manifest.File)); err != nil || strings.Count(string(raw), `"spent_usd": 0,`)+strings.Count(string(raw), `"spent_usd": 0`+"\n") != 2 {
		t.Errorf("manifest.json: %v\n%s\nwant spent_usd 0 in the stop and the run", err, raw)
	}
	_, suggested, _ := strings.Cut(err.Error(), "--max-cost ")
	if c, perr := strconv.ParseFloat(suggested, 64); perr != nil || c < stop.NextUSD || c > 2*stop.NextUSD {
		t.Errorf("suggested cap %q for a call of $%v: want one that admits it", suggested, stop.NextUSD)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) != 0 {
		t.Errorf("%d requests sent under a cap below one call", len(s.seen))
	}
}

// Replicates asked in one call (n = replicates, Study 1 on an OpenAI-compatible backend with
// the cache on) reserve every reply's output: estimate's worst call says so (it reserved
// one reply's before, so a cap it called enough could admit no call).
func TestEstimateWorstCallOfSharedReplicates(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	worst := func(replicates int) float64 {
		exp := llmExperiment(t, "http://127.0.0.1:1", 4, replicates, 1)
		src, _ := os.ReadFile(exp.File)
		if err := os.WriteFile(exp.File, append(src, "prices: {loopback-llm: {input: 100, output: 400}}\nbudget: {usd: 5}\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, err := experiment.Load(exp.File)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Prepare(exp, Options{Offline: true, CachePath: filepath.Join(t.TempDir(), "cache.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if got := r.sampleGroup(r.backends[0]); got != replicates {
			t.Fatalf("replicates %d asked in groups of %d", replicates, got)
		}
		est, err := r.Estimate()
		if err != nil {
			t.Fatal(err)
		}
		return est[0].WorstCallUSD
	}
	one, three := worst(1), worst(3)
	out := float64(providers.DefaultMaxTokens("openai")) * 400 / 1e6 // one reply's worst output, at $400 a million
	if !(one > out) || math.Abs((three-one)-2*out) > 1e-12 {
		t.Errorf("worst call: %v with 1 replicate, %v with 3 asked in one call (want 3 replies' output)", one, three)
	}
}

// A concurrent run under a cap that admits it sequentially completes: a reservation that does
// not fit waits for the calls in flight to settle rather than stopping the run (QA10: with 8
// workers a $0.025 cap stopped a run after $0.0035, each call in flight reserving its worst
// case). A cap one call short of the spend still stops it, never passed, with nothing in flight.
func TestBudgetConcurrentRunWaitsForCallsInFlight(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.delay = time.Millisecond
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := concurrentPriced(t, s.URL, 0)
	s.learn(exp)
	res, err := Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "whole"), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	total := res.Usage[0].CostUSD
	r, err := Prepare(exp, Options{NoCache: true, Offline: true, MaxCost: 1})
	if err != nil {
		t.Fatal(err)
	}
	est, err := r.Estimate()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	worst := est[0].WorstCallUSD
	if !(8*worst > total+worst) {
		t.Fatalf("worst case $%v a call, $%v in all: 8 reservations must exceed the cap for the test", worst, total)
	}

	// Room for the whole run plus one call's worst case, as a sequential run needs.
	cap := total + worst
	dir := filepath.Join(t.TempDir(), "capped")
	res, err = Run(context.Background(), concurrentPriced(t, s.URL, cap), Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatalf("a cap of $%v for a run of $%v, calls of up to $%v: %v", cap, total, worst, err)
	}
	if res.Decisions != 12 {
		t.Fatalf("%d decisions, want 12", res.Decisions)
	}

	// Half the run's spend: it stops, below the cap, when the next call no longer fits.
	cap = total / 2
	dir = filepath.Join(t.TempDir(), "half")
	_, err = Run(context.Background(), concurrentPriced(t, s.URL, cap), Options{Out: dir, NoCache: true})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("err %v, want a budget stop", err)
	}
	settled, recorded, _ := runSpend(t, dir)
	if settled > cap || recorded > cap || settled+stop.NextUSD <= cap {
		t.Fatalf("stopped with $%v spent (decisions $%v), next call $%v, cap $%v: want spend within the cap and the next call beyond it", settled, recorded, stop.NextUSD, cap)
	}
}

// concurrentPriced is pricedExperiment with 8 workers and 12 decisions (2 agents): 8
// reservations of a call's worst case exceed the whole run's spend.
func concurrentPriced(t *testing.T, url string, usd float64) *experiment.Experiment {
	t.Helper()
	exp := pricedExperiment(t, url, usd)
	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.ReplaceAll(src, []byte("concurrency: 4"), []byte("concurrency: 8"))
	src = bytes.ReplaceAll(src, []byte("{source: sample, n: 12}"), []byte("{source: sample, n: 2}"))
	if err := os.WriteFile(exp.File, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	if exp.Concurrency != 8 {
		t.Fatalf("concurrency %d", exp.Concurrency)
	}
	return exp
}

// The stop says whether calls in flight held part of the cap (the refused retry of an
// unusable reply, which cannot wait for them) or none was in
// flight, and never both (the message of e299170 said "no call was in flight; ... the calls
// in flight finished").
func TestBudgetStopSaysWhatWasInFlight(t *testing.T) {
	none := (&BudgetStop{Dir: "d", CapUSD: 0.02, Spent: 0.0195, NextUSD: 0.001, Decisions: 9}).Error()
	if !strings.Contains(none, "no further call was started (none was in flight) and every reply is saved\n") || strings.Contains(none, "calls in flight") {
		t.Errorf("nothing in flight: %q", none)
	}
	// The figures of QA12 #8: the spend at the refusal, what the calls in flight held and the
	// next call's worst case add up past the cap; the spend once those settled is apart.
	held := (&BudgetStop{Dir: "d", CapUSD: 0.003, SpentThen: 0, Spent: 0.0021, Reserved: 0.0028, NextUSD: 0.0003, Decisions: 12}).Error()
	want := "spend cap of $0.003 reached: the next call could cost up to $0.0003, and with the $0 spent and the $0.0028 held by the calls in flight (their worst case) that makes $0.0031, more than the cap of $0.003; no further call was started, and the calls in flight finished and are saved ($0.0021 spent in all)\n"
	if !strings.HasPrefix(held, want) {
		t.Errorf("calls in flight:\n%s\nwant\n%s", held, want)
	}
}

// estimate warns when the estimate fits the cap but not with one call's worst case beside it:
// the run's last calls may then not be made (a call needs its worst case free under the cap).
func TestBudgetNoteEstimateWithinButNotItsLastCall(t *testing.T) {
	est := []Estimate{{CostUSD: 1, WorstCallUSD: 0.1}}
	if note := BudgetNote(1.05, est); !strings.Contains(note, "Spend cap $1.05: the estimate, $1, is within it, but a call is made only while its worst case (up to $0.1) fits in what the cap leaves, so the run may stop at the cap near its end (exit 3); a cap of at least $1.1 covers") {
		t.Errorf("cap between the estimate and the estimate plus one call: %q", note)
	}
	if note := BudgetNote(1.2, est); !strings.Contains(note, "the estimate, $1, is within it (while in flight") {
		t.Errorf("cap above the estimate plus one call: %q", note)
	}
}
