package engine

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/usd"
)

// withPrices is llmExperiment with a prices: line (and --max-cost left to the caller),
// written to and loaded from a file as a user would.
func withPrices(t *testing.T, url, prices string) *experiment.Experiment {
	t.Helper()
	exp := llmExperiment(t, url, 12, 1, 4)
	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exp.File, append(src, "prices: "+prices+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	return exp
}

// decisionsCSV reads dir's decisions.csv whole, spend columns included (llmReadCSV leaves
// them out), with each column's index by name.
func decisionsCSV(t *testing.T, dir string) (recs [][]string, col map[string]int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results", "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if recs, err = csv.NewReader(bytes.NewReader(b)).ReadAll(); err != nil {
		t.Fatal(err)
	}
	col = map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	return recs, col
}

// csvCosts reads decisions.csv's input_tokens, output_tokens and cost_usd.
func csvCosts(t *testing.T, dir string) (rows [][3]float64) {
	t.Helper()
	recs, col := decisionsCSV(t, dir)
	var err error
	for _, r := range recs[1:] {
		var row [3]float64
		for i, c := range []string{"input_tokens", "output_tokens", "cost_usd"} {
			if row[i], err = strconv.ParseFloat(r[col[c]], 64); err != nil {
				t.Fatalf("decisions.csv %s %q: %v", c, r[col[c]], err)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// A gateway answering the configured model's requests with a dearer model (QA12 finding 1:
// a run capped at $0.002 said "$0.0015 spent" while prosim.db recorded $0.0252): the cap's
// account, manifest.json's spent_usd and the decisions' recorded costs are one number, the
// price of the model the replies name, and within the cap.
func TestBudgetGatewayServesDearerModel(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	s.model = func(llmDecision) (string, string) { return "loopback-big-2024-08-06", "fp_1" }
	// The dearer model's price is provider-qualified: the dated name must find it.
	exp := withPrices(t, s.URL, `{loopback-llm: {input: 1, output: 4}, "openai/loopback-big": {input: 1000, output: 4000}}`)
	s.learn(exp)
	whole := filepath.Join(t.TempDir(), "whole")
	res, err := Run(context.Background(), exp, Options{Out: whole, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	total := res.Usage[0].CostUSD
	for _, r := range csvCosts(t, whole) {
		if want := (r[0]*1000 + r[1]*4000) / 1e6; math.Abs(r[2]-want) > 1e-9*want {
			t.Fatalf("decisions.csv cost_usd %v for %v + %v tokens; want %v, the reply's model's price", r[2], r[0], r[1], want)
		}
	}

	s.mu.Lock()
	s.seen = map[string]int{}
	s.mu.Unlock()
	capUSD := total * 0.4
	cut := filepath.Join(t.TempDir(), "cut")
	_, err = Run(context.Background(), exp, Options{Out: cut, NoCache: true, MaxCost: capUSD})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("a capped run returned %v, want a budget stop", err)
	}
	settled, recorded, n := runSpend(t, cut)
	if n == 0 || n >= 72 {
		t.Fatalf("the capped run recorded %d of 72 decisions", n)
	}
	if math.Abs(settled-recorded) > 1e-9*settled || stop.Spent != settled {
		t.Fatalf("the cap's account $%v (stop message $%v), prosim.db's decisions $%v: want one number", settled, stop.Spent, recorded)
	}
	if settled > capUSD {
		t.Fatalf("spent $%v past the cap of $%v", settled, capUSD)
	}
	if m, err := manifest.Read(cut); err != nil || m.SpentUSD == nil || *m.SpentUSD != usd.Round(settled) {
		t.Fatalf("manifest %+v, %v; want spent_usd %v", m, err, usd.Round(settled))
	}
}

// A provider-qualified price prices the reply's dated snapshot (QA12 finding 1b: the recorded
// cost was the default table's gpt-4o-mini while estimate and the cap used the user's).
func TestQualifiedPricePricesDatedReply(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	s.model = func(llmDecision) (string, string) { return "loopback-llm-2024-07-18", "fp_1" }
	exp := withPrices(t, s.URL, `{"openai/loopback-llm": {input: 10, output: 10}, loopback-llm: {input: 1, output: 1}}`)
	s.learn(exp)
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	rows := csvCosts(t, dir)
	if len(rows) != 72 {
		t.Fatalf("%d decisions, want 72", len(rows))
	}
	for _, r := range rows {
		if want := (r[0] + r[1]) * 10 / 1e6; math.Abs(r[2]-want) > 1e-9*want {
			t.Fatalf("decisions.csv cost_usd %v for %v + %v tokens; want %v, the user's openai/loopback-llm price", r[2], r[0], r[1], want)
		}
	}
}

// A reply naming a model with no price while the configured model has one (QA12, run15): the
// cost is unknown, and the usage names that model and the configured one; under a cap the call
// counts at its reservation, the configured model's worst case, so the cap still binds.
func TestUnpricedReplyModel(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	s.model = func(llmDecision) (string, string) { return "weird-model-x", "" }
	exp := withPrices(t, s.URL, `{loopback-llm: {input: 1, output: 4}}`)
	s.learn(exp)
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []BackendUsage{res.Usage[0], res.RunUsage[0]} {
		if u.CostKnown || u.Model != "loopback-llm" || !slices.Equal(u.Unpriced, []string{"weird-model-x"}) {
			t.Fatalf("usage %+v: want cost unknown, model loopback-llm, unpriced weird-model-x", u)
		}
	}
	if got := report.UnknownCost(res.Usage[0].Model, res.Usage[0].Unpriced); got != `unknown (no price for model "weird-model-x", which the replies named; the configured model is "loopback-llm")` {
		t.Fatalf("the summary says %s", got)
	}
	// Resumed under a cap: the uncapped run's spend is unknown, so the cap, which cannot count
	// it (before: counted at $0), is refused at start, as an unpriced configured model is.
	if _, err := Resume(context.Background(), dir, Options{MaxCost: 10}); err == nil || !strings.Contains(err.Error(), `cost is unknown (no price for "weird-model-x")`) {
		t.Fatalf("a capped resume of a run whose spend is unknown: %v; want it refused, naming the model", err)
	}

	s.mu.Lock()
	s.seen = map[string]int{}
	s.mu.Unlock()
	capped := filepath.Join(t.TempDir(), "capped")
	_, err = Run(context.Background(), exp, Options{Out: capped, NoCache: true, MaxCost: 0.01})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("a capped run of unpriced replies returned %v, want a budget stop", err)
	}
	settled, recorded, n := runSpend(t, capped)
	if n == 0 || settled > 0.01 || !(settled > 0) || recorded != 0 {
		t.Fatalf("%d decisions, the cap's account $%v, recorded known costs $%v: want the calls counted at their reservations, within the cap", n, settled, recorded)
	}
}
