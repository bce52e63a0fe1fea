package engine

// The report of a registered study, drawn from its analysis over a fixture run directory.

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

func reply(vals map[string]float64, invalid string) store.Reply {
	if invalid != "" {
		vals = nil
	}
	return store.Reply{Raw: "{}", Values: vals, Invalid: invalid, Provider: "builtin", Model: "behavioral-v1", CostUSD: math.NaN()}
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
		{ID: "none.r1", Ord: 0, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1, Seed: 11},
		{ID: "none.r2", Ord: 1, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 2, Seed: 12},
		{ID: "moral.r1", Ord: 2, Backend: "builtin", Condition: "moral", Policy: "moral", Replicate: 1, Seed: 13},
		{ID: "moral.r2", Ord: 3, Backend: "builtin", Condition: "moral", Policy: "moral", Replicate: 2, Seed: 14},
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
			if a == 2 && r.ID == "none.r1" {
				inv = "field willingness: 9 is outside 1..7"
			}
			ds = append(ds, store.Decision{Key: store.Key{RunID: r.ID, AgentID: a, Scenario: "donating"}, Params: map[string]float64{}, Reply: reply(map[string]float64{"willingness": 2}, inv)})
		}
	}
	return fixtureRun(t, study1Config, runs, ds)
}

func render(t *testing.T, dirs ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.html")
	if err := WriteReport(out, dirs...); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("PROSIM_KEEP_REPORT"); keep != "" {
		if err := os.WriteFile(filepath.Join(keep, filepath.Base(dirs[0])+"-"+t.Name()+".html"), b, 0o644); err != nil {
			t.Fatal(err)
		}
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
		// agent means 5, 3, 7: a t interval, [0.03, 9.97], ran past the 1-7 scale; the
		// expanded bootstrap over 3 agents is their range
		"<td>volunteering</td><td>5.00 [3.00, 7.00]</td><td>6.00 [6.00, 6.00]</td>",
		"<title>volunteering, none: 5.00 [3.00, 7.00]</title>",
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

// A folder that is not a run is named as such, not as the page that could not be opened in it.
func TestWriteReportOfAFolderThatIsNoRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := WriteReport(filepath.Join(dir, "report.html"), dir)
	if err == nil || !strings.Contains(err.Error(), dir+" does not exist: no such run directory") {
		t.Fatalf("err %v", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err = WriteReport(filepath.Join(dir, "report.html"), dir)
	if err == nil || !strings.Contains(err.Error(), dir+" is not a prosim run directory: it has no config.yaml") {
		t.Fatalf("err %v", err)
	}
}
