package experiment

import (
	"strings"
	"testing"
)

// A policy's texts key is checked against the scenarios of the library and the experiment's
// files: a misspelt one is an error at its line (QA9 repro-4: the default text was shown
// instead); one a scenario file with problems may define is left to that file's errors.
func TestPolicyTextsKeysNameScenarios(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	const scen = `- id: blood_drive
  kind: vignette
  text: Giving blood.
  question: How willing?
  response:
    fields:
      - {name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}
`
	write("scen.yaml", scen)
	pol := write("pol.yaml", "id: blood_leave\nchannel: economic\namount: 5\ndefault: Generic.\ntexts:\n  blod_drive: Specific.\n  helping: For helping.\n")
	exp := write("exp.yaml", "name: e\nstudy: vignettes\npopulation: {source: sample, n: 2}\nscenario_files: [scen.yaml]\npolicy_files: [pol.yaml]\nscenarios: [blood_drive]\nconditions: [{name: none, policy: none}, {name: leave, policy: blood_leave}]\n")
	_, err := Load(exp)
	want := pol + ":6:3: field texts.blod_drive: no scenario blod_drive in the library or the scenario files (did you mean blood_drive?)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("missing %q in\n%v", want, err)
	}
	if strings.Contains(err.Error(), "helping") {
		t.Errorf("a built-in scenario's key reported:\n%v", err)
	}
	// The same key while the scenario file does not load: its own problem only.
	write("scen.yaml", strings.Replace(scen, "blood_drive", "blod_drive", 1)+"  model: {base: 9}\n")
	_, err = Load(exp)
	if err == nil || strings.Contains(err.Error(), "texts.blod_drive") || !strings.Contains(err.Error(), "model.base") {
		t.Errorf("want the scenario file's problem only, got\n%v", err)
	}
}
