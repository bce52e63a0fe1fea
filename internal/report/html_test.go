package report

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/store"
)

// fixtureRun writes a run directory (config.yaml and prosim.db) holding the given runs and
// decisions, as the engine leaves it.
func fixtureRun(t *testing.T, config string, runs []store.Run, ds []store.Decision) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutRuns(runs); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if err := st.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func reply(vals map[string]float64, invalid string) backend.Reply {
	if invalid != "" {
		vals = nil
	}
	return backend.Reply{Raw: "{}", Values: vals, Invalid: invalid, Provider: "builtin", Model: "behavioral-v1", CostUSD: math.NaN()}
}

const study1Config = `name: s1fix
study: vignettes
seed: 7
replicates: 2
population: {source: sample, n: 3}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
backends:
  - provider: builtin
`

// study1Fixture: 3 agents x 2 scenarios x 2 conditions x 2 replicates. In volunteering under
// no policy the agents' replicate means are 5, 3 and 7 (mean 5.00, t CI [0.03, 9.97]); under
// moral every rating is 6; one donating decision of agent 2 is invalid.
func study1Fixture(t *testing.T) string {
	runs := []store.Run{
		{ID: "none-1", Ord: 0, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1, Seed: 11},
		{ID: "none-2", Ord: 1, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 2, Seed: 12},
		{ID: "moral-1", Ord: 2, Backend: "builtin", Condition: "moral", Policy: "moral", Replicate: 1, Seed: 13},
		{ID: "moral-2", Ord: 3, Backend: "builtin", Condition: "moral", Policy: "moral", Replicate: 2, Seed: 14},
	}
	vol := map[int][2]float64{1: {4, 6}, 2: {3, 3}, 3: {7, 7}}
	var ds []store.Decision
	for _, r := range runs {
		for a := 1; a <= 3; a++ {
			v := 6.0
			if r.Condition == "none" {
				v = vol[a][r.Replicate-1]
			}
			ds = append(ds, store.Decision{Key: store.Key{RunID: r.ID, AgentID: a, Scenario: "volunteering"}, Params: map[string]float64{}, Reply: reply(map[string]float64{"willingness": v}, "")})
			inv := ""
			if a == 2 && r.ID == "none-1" {
				inv = "field willingness: 9 is outside 1..7"
			}
			ds = append(ds, store.Decision{Key: store.Key{RunID: r.ID, AgentID: a, Scenario: "donating"}, Params: map[string]float64{}, Reply: reply(map[string]float64{"willingness": 2}, inv)})
		}
	}
	return fixtureRun(t, study1Config, runs, ds)
}

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

// study2Fixture: 2 agents play all 60 (x, y) trials. Agent 1 punishes whenever x <= 12; agent 2
// whenever x <= 12 and y < 5. So by x: 0.75 for x 10..12, 0 for 13..15; by y (x < 15): 0.6 for
// y < 5, 0.3 for y >= 5.
func study2Fixture(t *testing.T) string {
	runs := []store.Run{{ID: "r1", Ord: 0, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1, Seed: 3}}
	var ds []store.Decision
	for a := 1; a <= 2; a++ {
		trial := 0
		for x := 10; x <= 15; x++ {
			for y := 0; y <= 9; y++ {
				trial++
				punish := x <= 12 && (a == 1 || y < 5)
				c := 0.0
				if punish {
					c = 1
				}
				vals := map[string]float64{"choice": c, "valence_before": -1, "arousal_before": 5, "valence_after": 0, "arousal_after": 4}
				ds = append(ds, store.Decision{Key: store.Key{RunID: "r1", AgentID: a, Trial: trial, Scenario: "tpp"},
					Params: map[string]float64{"x": float64(x), "y": float64(y), "pie": 30, "judge": 10}, Reply: reply(vals, "")})
			}
		}
	}
	return fixtureRun(t, study2Config, runs, ds)
}

func render(t *testing.T, dirs ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.html")
	if err := WriteHTMLFile(out, dirs...); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("PROSIM_KEEP_REPORT"); keep != "" {
		os.WriteFile(filepath.Join(keep, filepath.Base(dirs[0])+"-"+t.Name()+".html"), b, 0o644)
	}
	return string(b)
}

// wellFormed checks the whole document parses as XML: every tag closed, text escaped.
func wellFormed(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("report is not well-formed: %v", err)
		}
	}
}

func mustContain(t *testing.T, doc string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

func TestStudy1ReportHasDesignValidityAndChartWithComputedMeans(t *testing.T) {
	dir := study1Fixture(t)
	doc := render(t, dir)
	wellFormed(t, doc)
	mustContain(t, doc,
		"<h2 id=\"design\">Design</h2>", "<td>Seed</td><td>7</td>", "<td>Scenarios</td><td>volunteering, donating</td>",
		"none (policy none); moral (policy moral)", "builtin (behavioural model, not an LLM)",
		"3 agents with recorded decisions", "<td>Replicates</td><td>2</td>",
		// validity: 12 decisions per condition, one invalid under none
		"<td>builtin (behavioural model, not an LLM)</td><td>none</td><td>11</td><td>1</td><td>91.7%</td>",
		"<td>builtin (behavioural model, not an LLM)</td><td>moral</td><td>12</td><td>0</td><td>100.0%</td>",
		"field willingness: 9 is outside 1..7",
		// chart: title, axis labels, legend entries, and the computed cell
		"Willingness by scenario and policy: builtin (behavioural model, not an LLM)",
		`class="x-label"`, ">Scenario</text>", ">Mean willingness (1-7 scale)</text>",
		`<g class="legend">`, `>none</text>`, `>moral</text>`,
		"<td>volunteering</td><td>5.00 [0.03, 9.97]</td><td>6.00 [6.00, 6.00]</td>",
		"<title>volunteering, none: 5.00 [0.03, 9.97]</title>",
		"<td>donating</td><td>2.00 [2.00, 2.00]</td>",
	)
	if strings.Contains(doc, "<script") || regexp.MustCompile(`(src|href)="https?:`).MatchString(doc) {
		t.Error("the report must be self-contained: no scripts, nothing fetched")
	}
	// One bar per condition x scenario, no more.
	if n := strings.Count(doc, "<rect x=") - strings.Count(doc, `height="11" fill=`); n < 4 {
		t.Errorf("expected at least 4 bars, found %d rects", n)
	}
}

func TestStudy2ReportComparesWithHumans(t *testing.T) {
	doc := render(t, study2Fixture(t))
	wellFormed(t, doc)
	mustContain(t, doc,
		"Study 2: third-party punishment",
		"Punishment rate by share and cost: builtin (behavioural model)",
		">Cost of punishing y ($)</text>", ">Player 2&#39;s share x of $30 ($)</text>", "Punishment rate (share of trials)",
		"Punishment rises with inequity", ">Inequity 15 - x ($ below an equal split; 0 = fair control)</text>",
		"Punishment falls with cost", ">Punishment rate (% of trials)</text>",
		`data-name="Humans (n = 1,017)"`, `stroke-dasharray="6 4"`, // the human series is dashed
		`>Humans (n = 1,017)</text>`, `>builtin (behavioural model)</text>`,
		// RMSE against the human reference, computed by hand from the fixture's rates
		"<td>builtin (behavioural model)</td><td>0.25</td><td>0.11</td>",
		// participant means: unfair low (x<15, y<5): agent 1 3/5, agent 2 3/5 -> 0.60; unfair
		// high: 0.60 and 0 -> 0.30; fair: 0
		"<td>builtin (behavioural model)</td><td>0.60</td><td>0.30</td><td>0.00</td><td>0.00</td><td>2</td>",
		"<td>reference: humans</td><td>0.53</td><td>0.27</td><td>0.12</td><td>0.08</td><td>1017</td>",
	)
	// Heat map cells: x=10,y=0 both punish (1.00); x=10,y=5 only agent 1 (0.50).
	mustContain(t, doc, ">1.00</text>", ">0.50</text>")
}

func TestComparisonReportHasBothRuns(t *testing.T) {
	a, b := study2Fixture(t), study1Fixture(t)
	doc := render(t, a, b)
	wellFormed(t, doc)
	mustContain(t, doc, "prosim report: s2fix vs s1fix", "Design: s2fix (run)", "Design: s1fix (run)", "Study 1:", "Study 2:")
}

func TestStudy3FiguresDrawWhatTheyAreGiven(t *testing.T) {
	p := &page{}
	Study3Figures(p, &Study3Data{
		Label:       "fixture",
		Willingness: []Series{{Name: "victim", X: []float64{1, 2}, Y: []float64{5, 4}, Lo: []float64{4.5, 3.5}, Hi: []float64{5.5, 4.5}}},
		Contagion:   []Series{{Name: "reward inequity", X: []float64{1, 2, 3}, Y: []float64{0, 0.1, 0.25}}},
		Network:     &NetworkChart{N: 4, Edges: [][2]int{{0, 1}, {1, 2}, {2, 3}}, State: []string{"victim", "affected", "unaffected", "unaffected"}},
		Mediation:   &MediationDiagram{X: "exposed", M: "perceived unfairness", Y: "willingness", A: 0.8, SEA: 0.1, B: -0.5, SEB: 0.05, C: -0.5, CPrime: -0.1, Indirect: -0.4, Lo: -0.55, Hi: -0.27, CILabel: "95% bootstrap CI", N: 400, Cluster: 40},
	})
	doc := "<div>" + p.b.String() + "</div>"
	wellFormed(t, doc)
	mustContain(t, doc, ">Round (day)</text>", ">Mean willingness (1-7 scale)</text>", ">victim</text>",
		">Agents affected (% of population)</text>", ">20%</text>", ">unaffected (2)</text>",
		"a = 0.80 (SE 0.10)", "b = -0.50 (SE 0.05)", "indirect a&#183;b = -0.40, CI [-0.55, -0.27]")
}
