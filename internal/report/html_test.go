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
