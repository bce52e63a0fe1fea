package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A problem of a file the experiment names (an edge list, a persona file) that the run finds
// is that file's, located once: not the message of the field naming it
// ("exp.yaml:6:10: field network.graph: edges.csv:3:3: ...", "population: people.csv: ...").
func TestOtherFileProblemsLocatedOnce(t *testing.T) {
	dir := t.TempDir()
	edges, people := filepath.Join(dir, "edges.csv"), filepath.Join(dir, "people.csv")
	if err := os.WriteFile(edges, []byte("source,target\n1,2\n3,3\n1,99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(people, []byte("id,gender\n1,robot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ exp, want string }{
		{"name: s3\nstudy: network\nseed: 3\npopulation: {source: sample, n: 4}\n" +
			"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n",
			edges + ": 2 problems:\n  " + edges + `:3:3: field target: self-loop on id "3"`},
		{"name: s1\nstudy: vignettes\nseed: 3\npopulation: {source: file, file: people.csv}\nscenarios: [volunteering]\n",
			people + ": 16 problems:\n  " + people + ":1:1: field age: required column missing"},
	} {
		f := filepath.Join(dir, "exp.yaml")
		if err := os.WriteFile(f, []byte(c.exp), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := prosim(t, "validate", f)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("validate: %v\nwant it to begin %s", err, c.want)
		}
	}
}

// A scenario's template that fails only when validate builds the requests is told at its
// line in the scenario file, as it is: not "exp.yaml: scenario taking: scen.yaml:16:9: ...".
func TestValidatePromptErrorLocatedOnce(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "scen.yaml")
	if err := os.WriteFile(scen, []byte(`- id: taking
  title: Taking
  kind: vignette
  text: You have {{div .budget 0}} {{.currency}}.
  question: How willing are you to give?
  params: {budget: 10}
  response:
    fields:
      - {name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes, description: "how willing"}
      - {name: unfairness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes, description: "how unfair"}
  model: {base: 4.0, cost: 0.4, money: 1, visibility: 0.5, need: 0.5}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(f, []byte("name: s3\nstudy: network\nseed: 3\npopulation: {source: sample, n: 6}\nscenario_files: [scen.yaml]\n"+
		"network:\n  graph: {type: watts_strogatz, k: 2, p: 0}\n  rounds: 3\n  scenario: taking\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := prosim(t, "validate", f)
	if want := scen + ":4:9: field [0].text: at <div .budget 0>: error calling div: division by zero"; err == nil || err.Error() != want {
		t.Errorf("validate: %v\nwant %s", err, want)
	}
}
