package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// prosim runs the command line in-process and returns what it printed.
func prosim(t testing.TB, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// Every example the README points users to must stay valid.
func TestExamplesValidate(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		out, err := prosim(t, "validate", f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !strings.Contains(out, ": ok (") {
			t.Errorf("%s: %q", f, out)
		}
	}
}

// The README's first command: Study 1 end to end on the embedded model, ending with the table
// of willingness by scenario x condition and the validity counts.
func TestStudy1FromTheREADME(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, err := prosim(t, "run", "../../examples/study1.yaml", "--out", dir, "-q")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Validity by backend x condition", "Mean willingness (1-7) by scenario x condition",
		"volunteering", "sharing", "behavioural model, not an LLM"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"config.yaml", "prosim.db", "results/decisions.csv", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// A config error names the file, the line and the field, and the command fails.
func TestValidateLocatesErrors(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.yaml")
	src := "name: bad\nstudy: vignettes\nreplicates: -1\npopulation: {source: prosim104}\nscenarios: [volunteering]\nconditions: [{name: none, policy: none}]\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := prosim(t, "validate", f)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:3") || !strings.Contains(err.Error(), "replicates") {
		t.Fatalf("want an error at bad.yaml:3 naming replicates, got %v", err)
	}
}

// A study name the registry does not know is located in the file, and the known studies named.
func TestValidateUnknownStudy(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.yaml")
	src := "name: bad\nstudy: vignette\npopulation: {source: prosim104}\nscenarios: [volunteering]\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := prosim(t, "validate", f)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:2") || !strings.Contains(err.Error(), `unknown study "vignette"`) ||
		!strings.Contains(err.Error(), "vignettes") {
		t.Fatalf("want an error at bad.yaml:2 naming the unknown study and the known ones, got %v", err)
	}
}

// Checks that belong to a study are its own, and still located: Study 1 needs scenarios, and
// only Study 1 puts its scenarios in one joint prompt.
func TestValidateStudyChecks(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"name: s\nstudy: vignettes\npopulation: {source: prosim104}\nscenarios: []\n", "bad.yaml:4"},
		{"name: s\nstudy: tpp\npopulation: {source: prosim104}\nprompt: {mode: joint}\n", "bad.yaml:4"},
	} {
		f := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(f, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := prosim(t, "validate", f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: want an error at %s, got %v", c.src, c.want, err)
		}
	}
}

// The design line names every factor, so its product is the decisions it states.
func TestValidateCountsFactorCells(t *testing.T) {
	out, err := prosim(t, "validate", "../../examples/sensitivity.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := "104 agents x 6 scenarios x 5 conditions x 3 wording levels x 2 scale levels x 2 persona levels x 1 replicate x 1 backend = 37440 decisions"
	if !strings.Contains(out, want) {
		t.Errorf("validate: %q, want %q", out, want)
	}
}

// validate builds every request, so a template that only fails with a design's own values
// (here a wording variant, only shown under factors: wording) fails validate, not the run.
func TestValidateRendersEveryTemplate(t *testing.T) {
	dir := t.TempDir()
	scen := `- id: giving
  title: Giving
  kind: vignette
  text: You have {{.budget}} {{.currency}}.
  question: How willing are you to give?
  params: {budget: 10}
  variants:
    - {id: alt, text: "You hold {{.budgte}} {{.currency}}."}
  response:
    fields:
      - {name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes, description: "how willing"}
  model: {base: 4.0, cost: 0.4, money: 1, visibility: 0.5, need: 0.5}
`
	exp := "name: v\nstudy: vignettes\nseed: 1\npopulation: {source: sample, n: 3}\nscenario_files: [scen.yaml]\nscenarios: [giving]\n" +
		"factors: {wording: [original, alt]}\nconditions: [{name: none, policy: none}]\n"
	if err := os.WriteFile(filepath.Join(dir, "scen.yaml"), []byte(scen), 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(f, []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	// A parameter the scenario does not define is found when its file is read, at its line.
	if _, err := prosim(t, "validate", f); err == nil || !strings.Contains(err.Error(), `scen.yaml:8:23: field [0].variants[0].text: {{.budgte}} is not a parameter of scenario giving`) {
		t.Fatalf("validate: %v; want the variant's undefined parameter, at its line in scen.yaml", err)
	}
	// What only rendering finds (a division by zero) is found by validate, at its line too,
	// the scenario named once.
	if err := os.WriteFile(filepath.Join(dir, "scen.yaml"), []byte(strings.Replace(scen, "{{.budgte}}", "{{div .budget 0}}", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := prosim(t, "validate", f)
	if err == nil || !strings.Contains(err.Error(), "scen.yaml:8:23: field [0].variants[0].text: ") || !strings.Contains(err.Error(), "division by zero") ||
		strings.Count(err.Error(), "giving") > 1 {
		t.Fatalf("validate: %v; want the variant's division by zero at its line, the scenario named once", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scen.yaml"), []byte(strings.Replace(scen, "budgte", "budget", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := prosim(t, "validate", f); err != nil || !strings.Contains(out, "every prompt renders: 6 requests built") {
		t.Fatalf("validate without the variant: %q, %v", out, err)
	}
}

// Counts of one read in the singular in what a run prints and in its report (QA: "1 agents x 1
// scenarios", "Holm over the 1 rows", "n = 1 agents per bar").
func TestSingularCounts(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "one.yaml")
	if err := os.WriteFile(f, []byte(`name: one
study: vignettes
seed: 1
population: {source: sample, n: 1}
scenarios: [volunteering]
conditions: [{name: none, policy: none}, {name: moral, policy: moral}]
contrasts: [{condition: moral, against: none}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustProsim(t, "validate", f)
	out += mustProsim(t, "run", f, "--out", filepath.Join(dir, "run"))
	html, err := os.ReadFile(filepath.Join(dir, "run", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	out += string(html)
	for _, want := range []string{"1 agent x 1 scenario x 2 conditions x 1 replicate x 1 backend = 2 decisions", "Holm over the 1 row;", "n = 1 agent per bar", "(1 test)"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if bad := regexp.MustCompile(`\b1 (agents|scenarios|replicates|backends|rows|tests)\b`).FindString(out); bad != "" {
		t.Errorf("%q in:\n%s", bad, out)
	}
}

// validate of a population in dollars shown the built-in enforce frame (a fine of 1000) says
// so in a note after its verdict (QA7 repro-6); the verdict stays ok.
func TestValidateNotesYuanSizedAmounts(t *testing.T) {
	dir := t.TempDir()
	people := "id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n" +
		"1,female,33,married,4535,USD,college,nurse,3,3,3,3,3,3,3,3,3\n"
	exp := "name: x\nstudy: vignettes\nseed: 1\npopulation: {source: file, file: people.csv}\nscenarios: [helping]\n" +
		"conditions: [{name: a, policy: enforce}]\nbackends: [{provider: builtin}]\n"
	for name, body := range map[string]string{"people.csv": people, "x.yaml": exp} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := prosim(t, "validate", filepath.Join(dir, "x.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], ": ok (") ||
		!strings.HasPrefix(lines[1], "note: the population's currency is USD, but the amounts of built-in policy frame enforce (amount 1000) are sized for yuan") {
		t.Errorf("validate printed %q, want the verdict and a note on enforce's amount", out)
	}
}
