package report

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
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
	a, b := study2Fixture(t), study2Fixture(t)
	doc := render(t, a, b)
	wellFormed(t, doc)
	mustContain(t, doc, "prosim report: s2fix vs s2fix", "Design: s2fix (run)", "Study 2:")
}
