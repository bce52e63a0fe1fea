package vignettes

import (
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/study"
)

// A custom vignette the behavioural model cannot rate is refused when the study is made (at
// validate and run), not recorded invalid decision by decision; an LLM needs no model: block.
func TestBuiltinBackendNeedsAModelBlock(t *testing.T) {
	scs, err := scenario.Load([]byte(`
- id: blood_drive
  kind: vignette
  text: Your workplace is holding a blood drive.
  question: How willing would you be to give blood?
  response:
    fields: [{name: willingness, kind: likert, min: 0, max: 10, low_label: not at all, high_label: very}]
- id: blood_modelled
  kind: vignette
  text: Your workplace is holding a blood drive.
  question: How willing would you be to give blood?
  response:
    fields: [{name: willingness, kind: likert, min: 0, max: 10, low_label: not at all, high_label: very}]
  model: {base: 4}
- id: lend_car
  kind: vignette
  text: A neighbour asks to borrow your car.
  question: What do you answer?
  response:
    fields: [{name: answer, kind: choice, options: ["yes", "no"]}]
  model: {base: 4}
`), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lib := scenario.NewLibrary()
	if err := lib.Add(scs...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		scenario, provider, want string
	}{
		{"blood_drive", "builtin", "scenarios[0]: scenario blood_drive has no model: block, which the builtin backend needs (base:"},
		{"lend_car", "builtin", `field "answer" (the model rates willingness and unfairness only)`},
		{"blood_modelled", "builtin", ""}, // a 0-10 scale is mapped from the model's 1-7
		{"blood_drive", "openai", ""},
		{"lend_car", "openai", ""},
	} {
		exp := &experiment.Experiment{Study: Name, Scenarios: []string{c.scenario},
			Conditions: []experiment.Condition{{Name: "none", Policy: "none"}},
			Backends:   []experiment.Backend{{Provider: c.provider}}}
		_, err := New(&study.Env{Exp: exp, Scenarios: lib})
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s on %s: error %v, want %q", c.scenario, c.provider, err, c.want)
		}
	}
}
