package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
)

// Study 1 with a custom vignette answered by a choice, an amount and a 0-10 rating, on an
// LLM: vignette_means.csv has every field under its own name, all decisions valid, and the
// means the replies give (agent a answers option a%3, 10a minutes, rating a).
func TestStudy1CustomVignetteFields(t *testing.T) {
	scen := filepath.Join(t.TempDir(), "lend.yaml")
	if err := os.WriteFile(scen, []byte(`- id: lend_car
  kind: vignette
  text: A neighbour asks to borrow your car for a day.
  question: What do you answer?
  response:
    fields:
      - {name: answer, kind: choice, options: ["yes, gladly", "only for fuel", "no"]}
      - {name: minutes, kind: amount, min: 0, max: 120, step: 1}
      - {name: rating, kind: likert, min: 0, max: 10, low_label: never, high_label: surely}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := load(t, `name: cv
study: vignettes
seed: 1
population: {source: sample, n: 6}
scenario_files: [`+scen+`]
scenarios: [lend_car]
conditions: [{name: none, policy: none}, {name: moral, policy: moral}]
backends: [{provider: openai, model: fake-1}]
`, 2)
	opt := Options{NoCache: true, Out: filepath.Join(t.TempDir(), "run"), Backends: func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			a := req.AgentID
			return backend.Reply{Raw: fmt.Sprintf(`{"answer": %q, "minutes": %d, "rating": %d}`, []string{"yes, gladly", "only for fuel", "no"}[a%3], 10*a, a),
				Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}}
	if _, err := Run(context.Background(), exp, opt); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, filepath.Join(opt.Out, "results", "vignette_means.csv"))
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	// Agents 1-6: options 1,2,0,1,2,0 (shares 1/3 each), minutes mean 35, rating mean 3.5.
	want := map[string]string{"answer=yes, gladly": "0.3333333333333333", "answer=only for fuel": "0.3333333333333333",
		"answer=no": "0.3333333333333333", "minutes": "35", "rating": "3.5"}
	if len(recs) != 1+2*len(want) {
		t.Fatalf("vignette_means.csv: %v", recs)
	}
	for _, r := range recs[1:] {
		if r[col["mean"]] != want[r[col["field"]]] || r[col["valid"]] != "6" || r[col["invalid"]] != "0" || r[col["agents"]] != "6" {
			t.Errorf("row %v: want mean %s from 6 valid decisions, 0 invalid", r, want[r[col["field"]]])
		}
	}
}

// With factors, the sensitivity and robustness tables cover every response field of a
// custom vignette (they covered each scenario's first field only), and say which.
func TestStudy1FactorTablesCoverEveryField(t *testing.T) {
	scen := filepath.Join(t.TempDir(), "lend.yaml")
	if err := os.WriteFile(scen, []byte(`- id: lend_car
  kind: vignette
  text: A neighbour asks to borrow your car for a day.
  question: What do you answer?
  response:
    fields:
      - {name: answer, kind: choice, options: ["yes", "no"]}
      - {name: minutes, kind: amount, min: 0, max: 120, step: 1}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := load(t, `name: cvf
study: vignettes
seed: 1
population: {source: sample, n: 6}
scenario_files: [`+scen+`]
scenarios: [lend_car]
conditions: [{name: none, policy: none}, {name: moral, policy: moral}]
factors:
  temperature: [0.2, 1.0]
backends: [{provider: openai, model: fake-1}]
`, 2)
	opt := Options{NoCache: true, Out: filepath.Join(t.TempDir(), "run"), Backends: func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			a, up := req.AgentID, 0
			if strings.Contains(req.Prompt, "a good society depends on ordinary people") { // the moral frame
				up = 15 + a%3 // differences that vary, so the paired t-test is defined
			}
			return backend.Reply{Raw: fmt.Sprintf(`{"answer": %q, "minutes": %d}`, []string{"yes", "no"}[a%2], 10*a+up),
				Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}}
	res, err := Run(context.Background(), exp, opt)
	if err != nil {
		t.Fatal(err)
	}
	fields := func(file string) map[string]int {
		recs := readCSV(t, filepath.Join(opt.Out, "results", file))
		col := slices.Index(recs[0], "field")
		if col < 0 {
			t.Fatalf("%s has no field column: %v", file, recs[0])
		}
		n := map[string]int{}
		for _, r := range recs[1:] {
			n[r[col]]++
		}
		return n
	}
	for file, per := range map[string]int{"sensitivity.csv": 3, "robustness.csv": 2} { // 3 terms; 2 temperature levels
		n := fields(file)
		for _, f := range []string{"answer=yes", "answer=no", "minutes"} {
			if n[f] != per {
				t.Errorf("%s: %d rows of field %s, want %d (%v)", file, n[f], f, per, n)
			}
		}
	}
	var sum strings.Builder
	if err := res.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	// The moral frame adds 15-17 minutes: a conclusion of the second field, in every level.
	if s := sum.String(); strings.Contains(s, "first response field") || !regexp.MustCompile(`moral - none +lend_car minutes +higher +yes`).MatchString(s) {
		t.Errorf("summary:\n%s", s)
	}
}

// The run builds on the libraries experiment.Load read: a scenario file is read once (the
// run would fail to read it here, as it is removed after Load).
func TestPrepareUsesTheLibrariesLoadRead(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "lend.yaml")
	if err := os.WriteFile(scen, []byte(`- id: lend_car
  kind: vignette
  text: A neighbour asks to borrow your car for a day.
  question: What do you answer?
  response:
    fields:
      - {name: minutes, kind: amount, min: 0, max: 120, step: 1}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "e.yaml")
	if err := os.WriteFile(file, []byte(`name: once
study: vignettes
seed: 1
population: {source: sample, n: 2}
scenario_files: [lend.yaml]
scenarios: [lend_car]
conditions: [{name: none, policy: none}]
backends: [{provider: openai, model: fake-1, base_url: "http://127.0.0.1:1/v1"}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(scen); err != nil {
		t.Fatal(err)
	}
	r, err := Prepare(exp, Options{NoCache: true})
	if err != nil {
		t.Fatalf("the run read the scenario file again: %v", err)
	}
	r.Close()
	// A hand-changed file list is read as given.
	exp.ScenarioFiles = append(exp.ScenarioFiles, scen)
	if _, err := Prepare(exp, Options{NoCache: true}); err == nil || !strings.Contains(err.Error(), "lend.yaml") {
		t.Errorf("changed file list: err %v, want the file read (and missing)", err)
	}
}
