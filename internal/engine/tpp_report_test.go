package engine

// Study 2's report, drawn from its analysis over a fixture run directory (moved from
// internal/report, which no longer draws Study 2).

import (
	"github.com/prosim/prosim/internal/analysis"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/store"
)

const study2Config = `name: s2fix
study: tpp
seed: 9
replicates: 1
population: {source: sample, n: 2}
conditions:
  - {name: none, policy: none}
backends:
  - provider: builtin
`

// study2Fixture: 2 agents play all 60 (x, y) trials, in the order of their seeded schedules
// (the report replays the study, so the journal must hold the design's keys). Agent 1 punishes
// whenever x <= 12; agent 2 whenever x <= 12 and y < 5. So by x: 0.75 for x 10..12, 0 for
// 13..15; by y (x < 15): 0.6 for y < 5, 0.3 for y >= 5.
func study2Fixture(t *testing.T) string {
	runs := []store.Run{{ID: "none.r1", Ord: 0, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1, Seed: 3}}
	var ds []store.Decision
	for a := 1; a <= 2; a++ {
		for _, tr := range game.TPPSchedule(seed.Derive(9, "tpp-schedule", 1, a)) {
			x, y := tr.X, tr.Y
			punish := x <= 12 && (a == 1 || y < 5)
			c := 0.0
			if punish {
				c = 1
			}
			vals := map[string]float64{"choice": c, "valence_before": -1, "arousal_before": 5, "valence_after": 0, "arousal_after": 4}
			ds = append(ds, store.Decision{Key: store.Key{RunID: "none.r1", AgentID: a, Trial: tr.Index, Scenario: "tpp"},
				Params: tr.Params(), Reply: reply(vals, "")})
		}
	}
	return fixtureRun(t, study2Config, runs, ds)
}

func TestStudy2ReportComparesWithHumans(t *testing.T) {
	doc := render(t, study2Fixture(t))
	wellFormed(t, doc)
	mustContain(t, doc,
		"Study 2: third-party punishment",
		"Punishment rate by share and cost: builtin (behavioural model)",
		">Cost of punishing y ($)</text>", ">Player 2&#39;s share x of $30 ($)</text>", "Punishment rate (% of trials)",
		"Punishment rises with inequity", ">Inequity 15 - x ($ below an equal split; 0 = fair control)</text>",
		"Punishment falls with cost", ">Punishment rate (% of trials)</text>",
		`data-name="Humans (n = 1,017)"`, `stroke-dasharray="6 4"`, // the human series is dashed
		`>Humans (n = 1,017)</text>`, `>builtin (behavioural model)</text>`,
		// RMSE against the human reference, computed by hand from the fixture's rates: raw, and
		// named so beside the scorecard's bias-corrected RMSEs (qa11 read 0.080 and 0.066)
		"<th>RMSE by x (raw)</th><th>RMSE by y (raw)</th>",
		"<td>builtin (behavioural model)</td><td>0.249</td><td>0.110</td>",
		"RMSEs bias-corrected (the basic bootstrap&#39;s median)",
		// participant means: unfair low (x<15, y<5): agent 1 3/5, agent 2 3/5 -> 0.60; unfair
		// high: 0.60 and 0 -> 0.30; fair: 0
		"<td>builtin (behavioural model)</td><td>0.60</td><td>0.30</td><td>0.00</td><td>0.00</td><td>2</td>",
		"<td>reference: humans</td><td>0.53</td><td>0.27</td><td>0.12</td><td>0.08</td><td>1017</td>",
	)
	// Heat map cells, in percent: x=10,y=0 both punish (100%); x=10,y=5 only agent 1 (50%).
	mustContain(t, doc, ">100%</text>", ">50%</text>")
}

// The rates' intervals resample agents, each with its trials: by x = 10, agent 1 punished 10
// of 10 trials and agent 2 5 of 10, so with 2 agents (expanded level 100%) the interval is
// [0.5, 1] (Wilson over the 20 trials, [0.53, 0.89], took them for independent); by x = 13
// neither punished, and the interval is Wilson over the 2 agents, [0, 0.658].
func TestStudy2RatesResampleAgents(t *testing.T) {
	a, err := Analyze(study2Fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tb, ok := a.Analysis.Table("tpp_rates")
	if !ok {
		t.Fatal("no tpp_rates table")
	}
	col := map[string]int{}
	for i, c := range tb.Columns {
		col[c.Name] = i
	}
	got := map[any][]any{}
	tb.Rows(func(r []any) error {
		if r[col["by"]] == "x" {
			got[r[col["x"]]] = r
		}
		return nil
	})
	check := func(x int, rate, lo, hi float64, method string) {
		t.Helper()
		r := got[x]
		if r == nil || r[col["rate"]] != rate || math.Abs(r[col["ci_low"]].(float64)-lo) > 1e-3 || math.Abs(r[col["ci_high"]].(float64)-hi) > 1e-3 || r[col["ci_method"]] != method {
			t.Errorf("x = %d: %v, want rate %v [%v, %v] by %s", x, r, rate, lo, hi, method)
		}
	}
	check(10, 0.75, 0.5, 1, "expanded percentile bootstrap over agents")
	check(13, 0, 0, 0.6576, "Wilson over agents")
	// A cell's agents gave one trial each (one replicate): Wilson over the 2 agents, as
	// tpp_rates.csv's by-x rows; x = 10, y = 0 both punished, y = 5 agent 1 only.
	cells := 0
	tb.Rows(func(r []any) error {
		if r[col["by"]] != "cell" {
			return nil
		}
		cells++
		k, n := r[col["punished"]].(int), r[col["trials"]].(int)
		lo, hi := analysis.ProportionCI(k, n, 0.95)
		if n != 2 || r[col["ci_method"]] != "Wilson over agents" || r[col["ci_low"]] != lo || r[col["ci_high"]] != hi {
			t.Errorf("cell x = %v, y = %v: %v, want Wilson over %d agents [%v, %v]", r[col["x"]], r[col["y"]], r, n, lo, hi)
		}
		if r[col["x"]] == 10 && (r[col["y"]] == 0 && k != 2 || r[col["y"]] == 5 && k != 1) {
			t.Errorf("cell %v", r)
		}
		return nil
	})
	if cells != 60 {
		t.Errorf("%d cells", cells)
	}
}

// Two Study 2 runs compared: both designs, the figures they share drawn once with both runs'
// series, and a Study 2 section for each run.
func TestComparisonReportHasBothRuns(t *testing.T) {
	a, b := study2Fixture(t), study2Fixture(t)
	doc := render(t, a, b)
	wellFormed(t, doc)
	// Both runs are named s2fix in folders named run: the comparison names them by their
	// parent folders too (001/run, 002/run), not by path.
	na, nb := filepath.Join(filepath.Base(filepath.Dir(a)), "run"), filepath.Join(filepath.Base(filepath.Dir(b)), "run")
	if na == nb {
		t.Fatalf("fixtures in folders of one name: %s, %s", a, b)
	}
	mustContain(t, doc, "prosim comparison: "+na+" vs "+nb, "Study 2:", "Figures compared across runs",
		`<h2 id="study2-1">Study 2: third-party punishment [`+na+`]</h2>`, `<h2 id="study2-2">Study 2: third-party punishment [`+nb+`]</h2>`)
	chart := chartTitled(t, doc, "Punishment falls with cost")
	if n := strings.Count(doc, "Punishment falls with cost</title>"); n != 1 {
		t.Errorf("%d charts of punishment by cost, want one with both runs", n)
	}
	for _, s := range []string{`data-name="` + na + `: builtin (behavioural model)"`, `data-name="` + nb + `: builtin (behavioural model)"`, `data-name="Humans (n = 1,017)"`} {
		if !strings.Contains(chart, s) {
			t.Errorf("the overlaid chart lacks the series %s", s)
		}
	}
	if n := strings.Count(chart, `data-name="Humans (n = 1,017)"`); n != 1 {
		t.Errorf("the human reference drawn %d times, want once", n)
	}
	// The heat maps do not overlay: one per run, in its own section.
	if n := strings.Count(doc, `<title>Punishment rate by share and cost`); n != 2 {
		t.Errorf("%d heat maps, want one per run", n)
	}
}

const study2GradedConfig = `name: s2graded
study: tpp
seed: 9
replicates: 2
population: {source: sample, n: 2}
tpp: {variant: graded}
conditions:
  - {name: none, policy: none}
backends:
  - provider: builtin
`

// A graded run: agent 1 assigns 50 - transfer points in replicate 1 and 40 - transfer in
// replicate 2 (never below 0); agent 2 none, and its replicate-2 answer at transfer 0 is
// invalid. The summary's mean is over decisions, the report's over agent means.
func TestStudy2GradedSummaryTablesAndReport(t *testing.T) {
	runs := []store.Run{
		{ID: "none.r1", Ord: 0, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1},
		{ID: "none.r2", Ord: 1, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 2},
	}
	var ds []store.Decision
	for _, r := range runs {
		for a := 1; a <= 2; a++ {
			for _, tr := range game.TPPGradedSchedule(seed.Derive(9, "tpp-schedule", r.Replicate, a)) {
				p := 0.0
				if a == 1 {
					p = max(0, float64(50-10*(r.Replicate-1)-tr.Transfer))
				}
				inv := ""
				if a == 2 && r.Replicate == 2 && tr.Transfer == 0 {
					inv = "field points: 60 is outside 0..50"
				}
				ds = append(ds, store.Decision{Key: store.Key{RunID: r.ID, AgentID: a, Trial: tr.Index, Scenario: "tpp_graded"},
					Params: tr.Params(), Reply: reply(map[string]float64{"points": p}, inv)})
			}
		}
	}
	dir := fixtureRun(t, study2GradedConfig, runs, ds)
	a, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var b strings.Builder
	if err := a.Summary(&b); err != nil {
		t.Fatal(err)
	}
	sum := b.String()
	// transfer 0: decisions 50, 40, 0 -> 30.00 over 3 decisions; transfer 10: 40, 30, 0, 0 -> 17.50.
	for _, w := range []string{"Graded third-party punishment, backend builtin (behavioural model, not an LLM), condition none",
		"0         30.00        14.00             3", "10        17.50        11.20             4",
		"Agents who punish some transfer below half: 0.50 (humans about 0.60)"} {
		if !strings.Contains(sum, w) {
			t.Errorf("summary lacks %q:\n%s", w, sum)
		}
	}
	tb, ok := a.Analysis.Table("tpp_graded_means")
	if !ok {
		t.Fatal("no tpp_graded_means table")
	}
	var rows [][]any
	tb.Rows(func(r []any) error { rows = append(rows, r); return nil })
	// transfer 0: agent means 45 and 0 -> 22.5 (the report's estimand) next to 30 over decisions.
	// Its interval resamples the 2 agents (means 45 and 0) at the expanded level 100%: [0, 45],
	// within the points' range (a t interval over 2 agents is 22.5 +- 285.9).
	if r := rows[0]; r[2] != 0 || r[3] != 30.0 || r[4] != 3 || r[5] != 22.5 || r[6] != 0.0 || r[7] != 45.0 || r[8] != "expanded percentile bootstrap over agents" || r[9] != 2 {
		t.Errorf("transfer 0 row %v", r)
	}
	doc := render(t, dir)
	wellFormed(t, doc)
	mustContain(t, doc, "Graded punishment by the dictator&#39;s transfer", ">Mean punishment points (MU, 0-50)</text>",
		`>Humans (Fehr &amp; Fischbacher 2004)</text>`, "<title>")
}
