package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The library list fits a 100-column terminal, and names the way to see one scenario.
func TestScenariosListFits(t *testing.T) {
	out := prosimAt(t, 100, "scenarios")
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimRight(line, " "); len(line) > 100 { // termtable pads the last column too
			t.Errorf("%d columns: %q", len(line), line)
		}
	}
	for _, want := range []string{"volunteering", "ultimatum_responder", "economic", "prosim scenarios ID", "valence_before,arousal_be..."} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

// Written to a pipe or a file (no terminal width), the list keeps every cell whole: a table
// other tools can read (QA: columns were cut with "..." in a pipe).
func TestScenariosListWholeInAPipe(t *testing.T) {
	out := mustProsim(t, "scenarios")
	if strings.Contains(out, "...") {
		t.Errorf("a cell is cut in a pipe:\n%s", out)
	}
	for _, want := range []string{"valence_before,arousal_before,choice,valence_after,arousal_after", "Third-party punishment with punishment points"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

// prosim scenarios ID prints the request a run sends: the persona, the scenario, the chosen
// policy's text and the answer instructions, for a user's own scenario and policy too.
func TestScenarioShowsFullPrompt(t *testing.T) {
	out := mustProsim(t, "scenarios", "volunteering", "--policy", "moral")
	for _, want := range []string{"--- system ---", "You are a ", "Answer every question as this person would",
		"--- prompt ---", "looking for volunteers", "caring for the neighbourhood is everyone's responsibility", `{"willingness": <integer 1-7>}`} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if none := mustProsim(t, "scenarios", "volunteering"); strings.Contains(none, "everyone's responsibility") {
		t.Error("the default policy (none) shows the moral text")
	}
	if other := mustProsim(t, "scenarios", "volunteering", "--seed", "2"); other == mustProsim(t, "scenarios", "volunteering") {
		t.Error("--seed does not change the persona")
	}

	dir := t.TempDir()
	files := userPathFiles()
	for _, name := range []string{"blood.yaml", "policies.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out = mustProsim(t, "scenarios", "blood_drive", "--file", filepath.Join(dir, "blood.yaml"),
		"--policy-file", filepath.Join(dir, "policies.yaml"), "--policy", "paid_leave")
	for _, want := range []string{"blood drive this afternoon", "about 45 minutes", "200 yuan meal allowance"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	for args, want := range map[string]string{
		"scenarios volunteering --policy nope": "--policy nope: unknown policy",
		"scenarios nope":                       `unknown scenario "nope"`,
	} {
		if _, err := prosim(t, strings.Fields(args)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("prosim %s: %v, want %q", args, err, want)
		}
	}
}

// Listing and showing run no backend, so a scenario only an LLM can answer (no model: block,
// or a field the behavioural model does not rate) is shown; an omitted title is marked, not
// left blank (QA: showing one failed with "builtin backend needs").
func TestScenarioShowsLLMOnlyScenario(t *testing.T) {
	file := filepath.Join(t.TempDir(), "llm.yaml")
	if err := os.WriteFile(file, []byte(`
- id: blood_drive
  kind: vignette
  text: Your workplace is holding a blood drive.
  question: How willing would you be to give blood?
  response:
    fields: [{name: willingness, kind: likert, min: 1, max: 7, low_label: not at all, high_label: very}]
- id: lend_car
  title: Lending the car
  kind: vignette
  text: A neighbour asks to borrow your car.
  question: What do you answer?
  response:
    fields: [{name: answer, kind: choice, options: ["yes", "no"]}]
  model: {base: 4}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for id, wants := range map[string][]string{
		"blood_drive": {"blood_drive (vignette; ", "--- prompt ---", "holding a blood drive"},
		"lend_car":    {"lend_car: Lending the car (vignette; ", "--- prompt ---", "borrow your car", `{"answer":`},
	} {
		out := mustProsim(t, "scenarios", id, "--file", file)
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("scenarios %s lacks %q:\n%s", id, w, out)
			}
		}
	}
	list := mustProsim(t, "scenarios", "--file", file)
	if !regexp.MustCompile(`(?m)^blood_drive +vignette +willingness +- \(llm\.yaml\)`).MatchString(list) {
		t.Errorf("the untitled scenario's row:\n%s", list)
	}
}

// One scenario shown whole escapes what would turn the terminal's text around (U+202E) or
// break its lines, in the title and the prompt alike; the prompt keeps its own lines (QA5:
// only the list was escaped).
func TestScenarioShownEscapesControls(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtl.yaml")
	if err := os.WriteFile(file, []byte("- id: giving\n  title: \"Giving \\u202eblood\"\n  kind: vignette\n  text: \"A drive \\u202eat work.\"\n  question: Would you give?\n  response:\n    fields: [{name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustProsim(t, "scenarios", "giving", "--file", file)
	if strings.ContainsRune(out, '\u202e') {
		t.Errorf("a right-to-left override reached the terminal:\n%s", out)
	}
	for _, want := range []string{`giving: Giving \u202eblood (vignette; `, `A drive \u202eat work.`, "--- prompt ---\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}

// A scenario's cost is a template like its text: shown rendered with the scenario's parameters
// and the shown persona's currency (QA7 repro-15: "About {{.minutes}} minutes" was printed as
// written); one that refers to no parameter is an error at its line, as the text's would be.
func TestScenarioCostRendered(t *testing.T) {
	dir := t.TempDir()
	scen := func(cost string) string {
		return "- id: snow\n  kind: vignette\n  text: Snow, {{.minutes}} minutes.\n  question: Would you shovel?\n" +
			"  cost: " + cost + "\n  params: {minutes: 40}\n" +
			"  response:\n    fields: [{name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]\n"
	}
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(scen("About {{.minutes}} minutes and 5 {{.currency}} of salt.")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(scen("About {{.hours}} hours.")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustProsim(t, "scenarios", "snow", "--file", good)
	if !strings.Contains(out, "\ncost: About 40 minutes and 5 yuan of salt.\n") {
		t.Errorf("the cost is not rendered:\n%s", out)
	}
	_, err := prosim(t, "scenarios", "snow", "--file", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:5:9: field [0].cost: {{.hours}} is not a parameter") {
		t.Errorf("an unknown parameter in the cost: %v", err)
	}
}

// The examples of prosim scenarios --help run as written with the files of docs/scenarios.md
// (my_scenarios.yaml, my_policies.yaml): the help named a policy the docs do not define
// (paid_leave, not blood_leave: QA14 F14).
func TestScenariosHelpExamplesRun(t *testing.T) {
	md, err := os.ReadFile("../../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, b := range regexp.MustCompile("(?s)```yaml\n# (my_\\w+\\.yaml)\n(.*?)```").FindAllStringSubmatch(string(md), -1) {
		if err := os.WriteFile(filepath.Join(dir, b[1]), []byte(b[2]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	n := 0
	for line := range strings.Lines(scenariosCmd().Example) {
		args := strings.Fields(line)
		if len(args) == 0 || args[0] != "prosim" {
			continue
		}
		n++
		if out, err := prosim(t, args[1:]...); err != nil {
			t.Errorf("%s: %v\n%s", strings.TrimSpace(line), err, out)
		}
	}
	if n != 3 {
		t.Fatalf("%d examples run, want 3", n)
	}
}
