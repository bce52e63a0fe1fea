package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/table"
)

const tppExp = `name: tpptest
study: tpp
seed: 7
replicates: 1
population: {source: sample, n: 5}
tpp: {variant: binary}
conditions:
  - {name: none, policy: none}
backends:
  - {provider: openai, model: fake}
`

// fakeTPP answers like an LLM through the validity wrapper: agent 1 always says "choice": 2
// (not an option), agent 2 a valence of 5 (outside -4..4); the others answer validly.
func fakeTPP(experiment.Backend) (backend.Backend, error) {
	return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
		rng := rand.New(rand.NewPCG(req.Seed, 2))
		choice := `"punish"`
		if rng.IntN(2) == 0 {
			choice = `"accept"`
		}
		vb := rng.IntN(9) - 4
		switch req.AgentID {
		case 1:
			choice = "2"
		case 2:
			vb = 5
		}
		raw := fmt.Sprintf(`{"valence_before": %d, "arousal_before": 3, "choice": %s, "valence_after": 0, "arousal_after": 2}`, vb, choice)
		return backend.Reply{Raw: raw, Provider: "fake", Model: "fake", Calls: 1}, nil
	}), 0), nil
}

// runTPPExample runs tppExp on the fake backend in a temporary folder and returns the folder
// and the run directory inside it.
func runTPPExample(t *testing.T) (dir, out string) {
	t.Helper()
	dir = t.TempDir()
	path := filepath.Join(dir, "tpp.yaml")
	if err := os.WriteFile(path, []byte(tppExp), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "run")
	if _, err := Run(context.Background(), exp, Options{Out: out, NoCache: true, Backends: fakeTPP}); err != nil {
		t.Fatal(err)
	}
	return dir, out
}

// Study 2's output contract: results/tpp_trials.csv has one row per trial with the issue's
// columns, the seeded schedule (a low-cost block of all 30 (x, y) pairs with y 0-4, then a
// high-cost block with y 5-9), and bad replies recorded invalid with their reason and an empty
// punish.
func TestTPPTrialsContractAndInvalidReplies(t *testing.T) {
	_, out := runTPPExample(t)
	recs := readCSV(t, filepath.Join(out, "results", "tpp_trials.csv"))
	want := "run_id,condition,replicate,agent_id,trial,x,y,punish,valence_before,arousal_before,valence_after,arousal_after,valid,invalid_reason,model_version"
	if got := strings.Join(recs[0], ","); got != want {
		t.Fatalf("header\n got %s\nwant %s", got, want)
	}
	if len(recs)-1 != 5*60 {
		t.Fatalf("%d trial rows, want 300", len(recs)-1)
	}
	type pair struct{ x, y int }
	blocks := map[int][2]map[pair]bool{}
	for _, r := range recs[1:] {
		agent, _ := strconv.Atoi(r[3])
		trial, _ := strconv.Atoi(r[4])
		x, _ := strconv.Atoi(r[5])
		y, _ := strconv.Atoi(r[6])
		if blocks[agent][0] == nil {
			blocks[agent] = [2]map[pair]bool{{}, {}}
		}
		b := 0
		if trial > 30 {
			b = 1
		}
		if (b == 0) != (y <= 4) || x < 10 || x > 15 {
			t.Errorf("agent %d trial %d: x=%d y=%d is outside its block", agent, trial, x, y)
		}
		blocks[agent][b][pair{x, y}] = true
		switch agent {
		case 1, 2:
			if r[12] != "0" || r[7] != "" || r[13] == "" {
				t.Errorf("agent %d trial %d: want invalid with a reason and empty punish, got %v", agent, trial, r)
			}
		default:
			if r[12] != "1" || (r[7] != "0" && r[7] != "1") || r[13] != "" {
				t.Errorf("agent %d trial %d: want a valid 0/1 punish, got %v", agent, trial, r)
			}
		}
		if agent == 1 && !strings.Contains(r[13], "choice") {
			t.Errorf("agent 1's reason does not name the choice field: %q", r[13])
		}
		if agent == 2 && !strings.Contains(r[13], "valence_before") {
			t.Errorf("agent 2's reason does not name valence_before: %q", r[13])
		}
	}
	for agent, bs := range blocks {
		if len(bs[0]) != 30 || len(bs[1]) != 30 {
			t.Errorf("agent %d: %d and %d distinct (x, y) pairs in the blocks, want 30 and 30", agent, len(bs[0]), len(bs[1]))
		}
	}
}

// With history, the estimate plays Study 2 with placeholder answers (accept, valence 0, arousal
// 5), so a run whose agents answer just that asks exactly the requests the estimate counted,
// history included; without history, the same calls with shorter prompts.
func TestEstimateTPPWithHistory(t *testing.T) {
	src := strings.Replace(strings.Replace(tppExp, "n: 5", "n: 3", 1), "tpp: {variant: binary}", "tpp: {variant: binary, history: true}", 1)
	e := estimateOf(t, src)
	if e.Decisions != 3*60 || !strings.Contains(e.Note, "placeholder") {
		t.Fatalf("estimate %+v", e)
	}
	plain := estimateOf(t, strings.Replace(tppExp, "n: 5", "n: 3", 1))
	if plain.Decisions != e.Decisions || plain.InputTokens >= e.InputTokens {
		t.Errorf("history %d tokens, without %d: the history must be counted", e.InputTokens, plain.InputTokens)
	}
	c := &recorder{answer: func(backend.Request) string {
		return `{"valence_before": 0, "arousal_before": 5, "choice": "accept", "valence_after": 0, "arousal_after": 5}`
	}}
	exp := load(t, src, 4)
	if _, err := Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "run"), NoCache: true, Backends: c.backends()}); err != nil {
		t.Fatal(err)
	}
	c.matches(t, e)
	if !strings.Contains(c.reqs[len(c.reqs)-1].Prompt, "Your earlier rounds in this task:\n- Round 1: ") {
		t.Errorf("the last prompt has no history:\n%s", c.reqs[len(c.reqs)-1].Prompt)
	}
}

// Study 2's conclusions under the wording factor: an LLM that punishes by inequity and cost
// in the original wording and at random (half the time) in paraphrase p1. The pooled slopes
// are significant; robustness.csv refits them per level and says they hold in "original" and
// not in p1, and the summary says "no", listing "wording (p1: not significant)" under its
// table. The system factor, which this LLM ignores, keeps both.
func TestTPPRobustnessPerFactorLevel(t *testing.T) {
	src := strings.Replace(tppExp, "n: 5", "n: 30", 1) + "factors:\n  wording: [original, p1]\n  system: [plain, forget_ai]\n"
	exp := load(t, src, 4)
	fake := func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			rng := rand.New(rand.NewPCG(req.Seed, 3))
			p := 0.5
			if !strings.Contains(req.Prompt, "This is a decision study with two other participants") { // not p1
				sit := req.Structured.(*situation.Situation)
				x, y := sit.Params["x"], sit.Params["y"]
				p = 1 / (1 + math.Exp(-(-0.5 + 0.8*(15-x) - 0.4*y)))
			}
			choice := `"accept"`
			if rng.Float64() < p {
				choice = `"punish"`
			}
			raw := fmt.Sprintf(`{"valence_before": 0, "arousal_before": 3, "choice": %s, "valence_after": 0, "arousal_after": 2}`, choice)
			return backend.Reply{Raw: raw, Provider: "fake", Model: "fake", Calls: 1}, nil
		}), 0), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Backends: fake})
	if err != nil {
		t.Fatal(err)
	}
	var sum strings.Builder
	if err := res.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	csv := readCSV(t, filepath.Join(dir, "results", "robustness.csv"))
	var recs []map[string]string
	for _, r := range csv[1:] {
		m := map[string]string{}
		for i, h := range csv[0] {
			m[h] = r[i]
		}
		recs = append(recs, m)
	}
	if len(recs) != 2*4 {
		t.Fatalf("%d robustness rows, want 2 slopes x 4 levels", len(recs))
	}
	for _, r := range recs {
		wantHold := "1"
		if r["level"] == "p1" {
			wantHold = "0"
			if r["level_conclusion"] != "not significant" {
				t.Errorf("p1 row %v: want not significant", r)
			}
		}
		if r["holds"] != wantHold {
			t.Errorf("row %v: holds want %s", r, wantHold)
		}
		if strings.HasPrefix(r["claim"], "inequity") && r["conclusion"] != "positive" || strings.HasPrefix(r["claim"], "cost") && r["conclusion"] != "negative" {
			t.Errorf("row %v: pooled conclusion", r)
		}
	}
	if !strings.Contains(sum.String(), "  no  ") || !strings.Contains(sum.String(), "negative: wording (p1: not significant)") {
		t.Errorf("summary lacks the verdict:\n%s", sum.String())
	}
}

// A Study 2 run on an LLM alone still shows the behavioural model's scorecard beside it,
// computed in the analysis on the same agents, schedule and seeds: its values equal those of
// a run with the behavioural model as its backend.
func TestTPPScorecardBaselineEqualsBuiltinRun(t *testing.T) {
	score := func(exp *experiment.Experiment, opt Options) map[string]map[string]string {
		dir := filepath.Join(t.TempDir(), "run")
		opt.Out, opt.NoCache = dir, true
		if _, err := Run(context.Background(), exp, opt); err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]string{}
		for _, r := range csvByName(t, filepath.Join(dir, "results", "scorecard.csv")) {
			out[r["backend"]+" "+r["measure"]] = r
		}
		return out
	}
	versioned := func(e experiment.Backend) (backend.Backend, error) {
		b, err := fakeTPP(e)
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			rep, err := b.Decide(ctx, req)
			rep.ModelVersion = "fake-2025-01"
			return rep, err
		}), err
	}
	llm := score(load(t, strings.Replace(tppExp, "n: 5", "n: 12", 1), 2), Options{Backends: versioned})
	builtin := score(load(t, strings.Replace(strings.Replace(tppExp, "n: 5", "n: 12", 1), "{provider: openai, model: fake}", "{provider: builtin}", 1), 2), Options{})
	for _, m := range []string{"tpp_rmse_by_x", "tpp_rmse_by_y", "tpp_never_punish", "tpp_always_punish"} {
		b, ok := llm["builtin-baseline "+m]
		if !ok || llm["fake "+m] == nil && llm["openai:fake "+m] == nil {
			t.Fatalf("%s: the LLM run's scorecard lacks the baseline or the LLM: %v", m, llm)
		}
		want := builtin["builtin "+m]
		if want == nil || b["value"] != want["value"] {
			t.Errorf("%s: baseline %v, the builtin run %v", m, b, want)
			continue
		}
		// model_version: what answered the scored trials, as decisions.csv records it.
		if l := llm["openai:fake "+m]; l == nil || l["model_version"] != "fake-2025-01" || b["model_version"] != "behavioral-v3" || want["model_version"] != "behavioral-v3" {
			t.Errorf("%s: model_version %q (LLM), %q (baseline), %q (builtin run)", m, l["model_version"], b["model_version"], want["model_version"])
		}
		// A share of agents is one answer per agent: Wilson over them (a bootstrap gives [0, 0]
		// at 0); a curve's RMSE is bootstrapped over agents. Each row names its method.
		if strings.HasSuffix(m, "_punish") {
			v, _ := strconv.ParseFloat(want["value"], 64)
			lo, hi := analysis.ProportionCI(int(math.Round(v*12)), 12, 0.95)
			if want["estimand"] != "share of agents" || want["ci_method"] != "Wilson over agents" || want["ci_low"] != fmt.Sprint(lo) || want["ci_high"] != fmt.Sprint(hi) {
				t.Errorf("%s: %v, want Wilson over 12 agents [%v, %v]", m, want, lo, hi)
			}
		} else if want["ci_method"] != scorecard.BootMethod || want["estimand"] == "" {
			t.Errorf("%s: estimand %q, ci_method %q", m, want["estimand"], want["ci_method"])
		}
	}
}

// The games' scorecard on an LLM alone shows the behavioural model's dictator figures beside
// it (builtin-baseline), equal to those of a run with the behavioural model as its backend.
func TestGamesScorecardBaselineEqualsBuiltinRun(t *testing.T) {
	const src = `name: gscore
study: games
seed: 11
replicates: 1
population: {source: sample, n: 20}
games:
  - game: dictator
conditions:
  - {name: none, policy: none}
backends:
  - {provider: openai, model: fake}
`
	fake := func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			return backend.Reply{Raw: fmt.Sprintf(`{"give": %d}`, req.AgentID%3*25), Provider: "fake", Model: "fake", ModelVersion: "fake-2025-01", Calls: 1}, nil
		}), 0), nil
	}
	var stats []map[string]string // games_stats.csv of the last run scored
	score := func(exp *experiment.Experiment, opt Options) map[string]map[string]string {
		dir := filepath.Join(t.TempDir(), "run")
		opt.Out, opt.NoCache = dir, true
		if _, err := Run(context.Background(), exp, opt); err != nil {
			t.Fatal(err)
		}
		stats = csvByName(t, filepath.Join(dir, "results", "games_stats.csv"))
		out := map[string]map[string]string{}
		for _, r := range csvByName(t, filepath.Join(dir, "results", "scorecard.csv")) {
			out[r["backend"]+" "+r["measure"]] = r
		}
		return out
	}
	llm := score(load(t, src, 2), Options{Backends: fake})
	builtin := score(load(t, strings.Replace(src, "{provider: openai, model: fake}", "{provider: builtin}", 1), 2), Options{})
	for _, m := range []string{"dictator_js_distance", "dictator_wasserstein", "dictator_give_nothing", "dictator_give_half"} {
		b, want := llm["builtin-baseline "+m], builtin["builtin "+m]
		if b == nil || want == nil || b["value"] != want["value"] || b["value"] == "" {
			t.Errorf("%s: baseline %v, the builtin run %v", m, b, want)
			continue
		}
		if l := llm["openai:fake "+m]; l == nil || l["model_version"] != "fake-2025-01" || b["model_version"] != "behavioral-v3" || want["model_version"] != "behavioral-v3" {
			t.Errorf("%s: model_version %q (LLM), %q (baseline), %q (builtin run)", m, l["model_version"], b["model_version"], want["model_version"])
		}
	}
	// The dictator shares are games_stats.csv's rows, estimate and interval, not a second
	// interval of the same estimate.
	for m, st := range map[string]string{"dictator_give_nothing": "gave nothing", "dictator_give_half": "gave exactly half"} {
		sc := builtin["builtin "+m]
		var row map[string]string
		for _, r := range stats {
			if r["game"] == "dictator" && strings.HasPrefix(r["measure"], st+",") {
				row = r
			}
		}
		if row == nil || sc["value"] != row["mean"] || sc["ci_low"] != row["ci_low"] || sc["ci_high"] != row["ci_high"] ||
			sc["ci_method"] != row["ci_method"] || sc["estimand"] != row["estimand"] || sc["human"] != row["human"] {
			t.Errorf("%s: scorecard %v, games_stats %v", m, sc, row)
		}
	}
}

// QA6 repro-2: 40 agents of the behavioural model, whose plug-in JS distance (0.134) lay
// below its own percentile interval [0.138, 0.282]. Each distance's value, now bias-corrected,
// lies in its interval, and the interval is the method's.
func TestGamesScorecardDistanceInItsInterval(t *testing.T) {
	const src = `name: g6
study: games
seed: 77
replicates: 3
population: {source: sample, n: 40}
games:
  - {game: dictator, endowment: 100}
  - {game: ultimatum, endowment: 100, responder: choice}
  - {game: trust, endowment: 10, multiplier: 3}
  - {game: public_goods, endowment: 20, multiplier: 1.6, group_size: 4, rounds: 6, punishment: both}
conditions:
  - {name: none, policy: none}
backends:
  - provider: builtin
`
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), load(t, src, 1), Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range csvByName(t, filepath.Join(dir, "results", "scorecard.csv")) {
		if r["measure"] != "dictator_js_distance" && r["measure"] != "dictator_wasserstein" {
			continue
		}
		n++
		v, _ := strconv.ParseFloat(r["value"], 64)
		lo, _ := strconv.ParseFloat(r["ci_low"], 64)
		hi, _ := strconv.ParseFloat(r["ci_high"], 64)
		if !(lo <= v && v <= hi && lo < hi) || r["ci_method"] != scorecard.BootMethod || r["estimand"] != scorecard.EstDistance {
			t.Errorf("%s: %v", r["measure"], r)
		}
	}
	if n != 2 {
		t.Errorf("%d distances in scorecard.csv, want 2", n)
	}
}

// tpp_trials.csv is written in the run's one pass over the store (study.DecisionTables), not
// held by the analysis: an export of the finished run reads it in a pass of its own, listed
// after decisions and agents as before, and must give the very same file.
func TestTPPTrialsOfExportEqualRun(t *testing.T) {
	dir, out := runTPPExample(t)
	a, err := Analyze(out)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var names []string
	for _, tb := range a.Tables() {
		names = append(names, tb.Name)
		if tb.Name != "tpp_trials" {
			continue
		}
		p := filepath.Join(dir, "export.csv")
		w, err := table.CreateCSV(p, tb.Schema)
		if err != nil {
			t.Fatal(err)
		}
		if err := table.Write(w, tb); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(out, "results", "tpp_trials.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) || len(want) == 0 {
			t.Errorf("the export's tpp_trials (%d bytes) differs from the run's (%d bytes)", len(got), len(want))
		}
	}
	if got := strings.Join(names[:min(3, len(names))], ","); got != "decisions,agents,tpp_trials" {
		t.Errorf("tables listed %v, want decisions, agents, tpp_trials first", names)
	}
}

// csvByName reads a CSV as rows keyed by the header's names.
func csvByName(t *testing.T, path string) []map[string]string {
	t.Helper()
	recs := readCSV(t, path)
	out := make([]map[string]string, 0, len(recs)-1)
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// With two replicates an agent meets each (x, y) cell twice, correlated answers: a cell's
// interval resamples agents (the by-x rows' bootstrap), except at 0 or 100% (Wilson over
// agents); every cell row has one.
func TestTPPCellIntervalsOverAgentsWithReplicates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	src := strings.Replace(strings.Replace(tppExp, "replicates: 1", "replicates: 2", 1), "n: 5", "n: 8", 1)
	if _, err := Run(context.Background(), load(t, src, 2), Options{Out: dir, Backends: fakeTPP, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	boot := 0
	for _, r := range csvByName(t, filepath.Join(dir, "results", "tpp_rates.csv")) {
		if r["by"] != "cell" {
			continue
		}
		k, _ := strconv.Atoi(r["punished"])
		n, _ := strconv.Atoi(r["trials"])
		want := "expanded percentile bootstrap over agents"
		if k == 0 || k == n {
			want = "Wilson over agents"
		}
		if r["ci_method"] != want || r["ci_low"] == "" || r["ci_high"] == "" || n > 2*7 {
			t.Errorf("cell x = %s, y = %s: %d of %d, %v", r["x"], r["y"], k, n, r)
		}
		if r["ci_method"] == want && want != "Wilson over agents" {
			boot++
		}
	}
	if boot == 0 {
		t.Error("no cell's interval is a bootstrap")
	}
}
