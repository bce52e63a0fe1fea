package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run started from the experiment's own folder, with relative scenario_files and
// population.file, can be moved elsewhere and still be reported and resumed: its inputs are
// copied into RUN_DIR/inputs and config.yaml points at them (a reported defect: report and
// resume failed with "cannot read RUN_DIR/scen.yaml").
func TestRunFolderCanBeMoved(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"scen.yaml": `id: blood
kind: vignette
text: A blood drive is at your workplace today.
question: How likely are you to donate blood?
response:
  fields:
    - {name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}
model: {base: 4.0, cost: 0.4, money: 0, visibility: 0.5, need: 0.8}
`,
		"people.csv": `id,gender,age,age_bracket,marital,income_quintile,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion
1,male,50,50-54,married,4,50220,yuan,junior_high,migrant worker,3.23,2.99,2.75,2.78,3.89,2.22,2.51,3.84,2.75
2,female,67,65-69,married,1,9215,yuan,primary,retired,3.44,2.81,3.67,2.82,4.36,2.89,2.8,3.51,3.14
3,female,60,60-64,married,2,20442,yuan,primary,trader,3.5,3.25,3.1,3.11,4.18,3.03,3.61,4.31,2.93
`,
		"exp.yaml": `name: movable
study: vignettes
seed: 3
population: {source: file, file: people.csv}
scenario_files: [scen.yaml]
scenarios: [blood]
conditions: [{name: none, policy: none}]
cache: "off"
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(src) // restored at the end; the test cannot run in parallel
	if out, err := prosim(t, "run", "exp.yaml", "--out", "run1", "-q"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}

	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(filepath.Join(src, "run1"), moved); err != nil {
		t.Fatal(err)
	}
	// The originals are gone too: only the run folder's copies can be used.
	for name := range files {
		if err := os.Remove(filepath.Join(src, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"scen.yaml", "people.csv"} {
		if _, err := os.Stat(filepath.Join(moved, "inputs", name)); err != nil {
			t.Error(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(moved, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "inputs/scen.yaml") || !strings.Contains(string(cfg), "inputs/people.csv") {
		t.Errorf("config.yaml does not point at the copies:\n%s", cfg)
	}
	if out, err := prosim(t, "report", moved); err != nil {
		t.Fatalf("report of the moved run: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(moved, "report.html")); err != nil {
		t.Error(err)
	}
	if out, err := prosim(t, "resume", moved, "-q"); err != nil {
		t.Fatalf("resume of the moved run: %v\n%s", err, out)
	}
}
