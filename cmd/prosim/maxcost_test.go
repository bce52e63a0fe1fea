package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/engine"
)

// --max-cost must be a cap: a negative amount is refused naming the flag, and an explicit 0
// is refused rather than taken as no --max-cost, the message naming the cap that omitting the
// flag keeps: the file's budget on run, the run's cap on resume (QA10 repro-5: -1 and 0 were
// accepted without a word). Both are usage errors, before anything is run.
func TestMaxCostMustBeACap(t *testing.T) {
	exp := manifestExperiment(t)
	src, err := os.ReadFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	budgeted := filepath.Join(filepath.Dir(exp), "budgeted.yaml")
	if err := os.WriteFile(budgeted, append(src, "budget: {usd: 2.5}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	refused := func(want string, args ...string) {
		t.Helper()
		out, err := prosim(t, args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("prosim %s: %v (%s)\nwant a usage error saying %q", strings.Join(args, " "), err, out, want)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	refused("--max-cost -1: want a positive amount of US dollars", "run", exp, "--out", dir, "-q", "--max-cost", "-1")
	refused("--max-cost 0: a cap of $0 admits no call (0 is not \"no cap\"); omitting the flag keeps the file's budget (none)", "run", exp, "--out", dir, "-q", "--max-cost", "0")
	refused("omitting the flag keeps the file's budget ($2.5)", "run", budgeted, "--out", dir, "-q", "--max-cost", "0")
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused --max-cost made the run folder: %v", err)
	}

	if out, err := prosim(t, "run", exp, "--out", dir, "-q", "--max-cost", "1.25"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	refused("--max-cost -1: want a positive amount of US dollars", "resume", dir, "-q", "--max-cost", "-1")
	refused("omitting the flag keeps the run's cap ($1.25)", "resume", dir, "-q", "--max-cost", "0")
	uncapped := filepath.Join(t.TempDir(), "uncapped")
	if out, err := prosim(t, "run", exp, "--out", uncapped, "-q"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	refused("omitting the flag keeps the run's cap (none)", "resume", uncapped, "-q", "--max-cost", "0")
	budgetedRun := filepath.Join(t.TempDir(), "budgeted")
	if out, err := prosim(t, "run", budgeted, "--out", budgetedRun, "-q"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	refused("omitting the flag keeps the run's cap ($2.5)", "resume", budgetedRun, "-q", "--max-cost", "0")
}

// estimate takes --max-cost as run does: it replaces the file's budget in the comparison, and
// the same amounts are refused (QA10 repro-7: estimate had no --max-cost).
func TestEstimateMaxCost(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	exp := filepath.Join(t.TempDir(), "est.yaml")
	src := `name: est
study: vignettes
seed: 3
population: {source: sample, n: 20}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
backends:
  - {provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:1/v1"}
budget: {usd: 5}
`
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := prosim(t, "estimate", exp, "--no-cache")
	if err != nil || !strings.Contains(out, "Spend cap $5: the estimate, $") {
		t.Fatalf("estimate with the file's budget: %v\n%s", err, out)
	}
	out, err = prosim(t, "estimate", exp, "--no-cache", "--max-cost", "0.0001")
	if err != nil || !strings.Contains(out, "Spend cap $0.0001: ") || strings.Contains(out, "Spend cap $5") {
		t.Fatalf("estimate --max-cost 0.0001: %v\n%s\nwant the flag's cap compared, not the file's", err, out)
	}
	var ue usageError
	if _, err = prosim(t, "estimate", exp, "--max-cost", "0"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "omitting the flag keeps the file's budget ($5)") {
		t.Errorf("estimate --max-cost 0: %v", err)
	}
	if _, err = prosim(t, "estimate", exp, "--max-cost", "-2"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--max-cost -2: want a positive amount") {
		t.Errorf("estimate --max-cost -2: %v", err)
	}
}

// The README's table of exit statuses lists every status main uses.
func TestReadmeListsExitStatuses(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{0, 1, 2, exitBudget, exitInterrupted} {
		if !strings.Contains(string(readme), "\n| "+strconv.Itoa(code)+" | ") {
			t.Errorf("README.md: no row for exit status %d in its table", code)
		}
	}
}

// A run stopped at its spend cap says what it used of each backend, as a finished run's
// summary does (QA13 F4: it printed only the spend), with the calls the provider saw.
func TestCapStopSaysItsUsage(t *testing.T) {
	t.Setenv(durableKeyEnv, "sk-test")
	s := newCountingServer(t, 0)
	exp := llmStudy(t, s.URL, 40, 2)
	f, err := os.OpenFile(exp, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("prices: {m: {input: 100, output: 400}}\n")
	f.Close()
	out, err := prosim(t, "run", exp, "--out", filepath.Join(t.TempDir(), "run"), "-q", "--no-cache", "--max-cost", "0.5")
	if _, ok := errors.AsType[*engine.BudgetStop](err); !ok {
		t.Fatalf("want a stop at the cap: %v\n%s", err, out)
	}
	want := "backend openai:m, this invocation: " + strconv.Itoa(s.calls()) + " provider calls"
	if !strings.Contains(out, want) {
		t.Fatalf("stopped run's output:\n%s\nwant %q", out, want)
	}
	t.Logf("%s", out)
}
