package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// QA14 F5: a scenario file and the experiment naming it took four rounds of fixing (the
// experiment's values of the wrong type, then its unknown names and the file's game model:
// block, then a template dividing by zero, then the builtin backend's missing model: block). testdata/qa14f5/bad_scen2.yaml is
// their scenario file as first written. Every problem comes in one pass, each once, the
// experiment's then the scenario file's, each sorted by line; a check that reads what failed
// is skipped: with the id misspelt, the scenario's model: block is not asked for.
func TestScenarioFileProblemsInOnePass(t *testing.T) {
	scen, err := filepath.Abs("testdata/qa14f5/bad_scen2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// As QA first wrote it: replicates: two and a misspelt replicate: beside it.
	exp := func(id string) string {
		return "name: qa14-bad2\nstudy: vignettes\nseed: 7\nreplicates: two\nreplicate: 2\npopulation: {source: sample, n: 50}\n" +
			"scenario_files: [" + scen + "]\nscenarios: [" + id + ", helping]\nconditions:\n" +
			"  - {name: none, policy: none}\n  - {name: moral, policy: morale}\nbackends:\n  - provider: builtin\n"
	}
	fileProblems := []string{
		scen + ": 2 problems:",
		scen + ":4:9: field [0].text: at <div .minutes 0>: error calling div: division by zero",
		scen + ":29:3: field [1].model: a game takes no model block",
	}
	for _, c := range []struct {
		id   string
		want []string
	}{
		{"snow_shovle2", []string{
			"exp.yaml: 4 problems:",
			`exp.yaml:4:13: field replicates: expected a whole number, got a string "two"`,
			`exp.yaml:5:1: field replicate: unknown field (did you mean replicates?)`,
			`exp.yaml:8:13: field scenarios[0]: unknown scenario "snow_shovle2" (did you mean snow_shovel2?)`,
			`exp.yaml:11:27: field conditions[1].policy: unknown policy "morale" (did you mean moral?)`}},
		{"snow_shovel2", []string{
			"exp.yaml: 4 problems:",
			`exp.yaml:4:13: field replicates: expected a whole number, got a string "two"`,
			`exp.yaml:5:1: field replicate: unknown field (did you mean replicates?)`,
			"exp.yaml:8:13: field scenarios[0]: scenario snow_shovel2 has no model: block, which the builtin backend needs",
			`exp.yaml:11:27: field conditions[1].policy: unknown policy "morale" (did you mean moral?)`}},
	} {
		path, err := checkFile(t, exp(c.id))
		if err == nil {
			t.Fatalf("%s: no error", c.id)
		}
		got := strings.Split(strings.ReplaceAll(err.Error(), path, "exp.yaml"), "\n")
		want := append(c.want, fileProblems...)
		if len(got) != len(want) {
			t.Fatalf("%s: got %d lines, want %d:\n%s", c.id, len(got), len(want), err)
		}
		for i := range want {
			if !strings.HasPrefix(strings.TrimSpace(got[i]), want[i]) {
				t.Errorf("%s: line %d:\n got %s\nwant %s...", c.id, i+1, got[i], want[i])
			}
		}
	}
}

// A render failure alone does not hold back the builtin backend's check of the same scenario
// (QA14 F5 rounds 3 and 4): both come in one pass.
func TestRenderFailureBesideBuiltinCheck(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	src := "- id: snow\n  kind: vignette\n  text: It takes {{div .minutes 0}} minutes.\n  question: Willing?\n" +
		"  params: {minutes: 30}\n  response: {fields: [{name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}\n"
	if err := os.WriteFile(scen, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "exp.yaml")
	exp := "name: r\nstudy: vignettes\nseed: 1\npopulation: {source: sample, n: 5}\nscenario_files: [s.yaml]\nscenarios: [snow]\n" +
		"backends: [{provider: builtin}]\n"
	if err := os.WriteFile(path, []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.LoadChecking(path)
	if e == nil {
		t.Fatal(err)
	}
	_, err = Prepare(e, Options{Offline: true})
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		path + ":6:13: field scenarios[0]: scenario snow has no model: block",
		scen + ":3:9: field [0].text: at <div .minutes 0>: error calling div: division by zero",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s...", i+1, got[i], want[i])
		}
	}
}
