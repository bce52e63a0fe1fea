package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/yamlx"
)

// Every independent problem of a policy file is reported at once, in file order, each at
// its line; a text's references are checked without rendering it.
func TestEveryProblemOfAFile(t *testing.T) {
	src := `- id: bonus
  channel: bribe
  amount: -5
  strength: -1
  default: You get {{.amount}} {{.currency}}.
  texts:
    Volunteering: Paid.
    donating: A fine of {{.fine}} {{.currency}}.
- id: nudge
  channel: moral
  default: Please {{.amount}}.
- id: bonus
  channel: none
`
	_, err := Load([]byte(src), "pol.yaml")
	var es *yamlx.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want *yamlx.Errors, got %T %v", err, err)
	}
	want := []string{
		`pol.yaml:2:12: field [0].channel: unknown channel "bribe"`,
		`pol.yaml:3:11: field [0].amount: amount must be a number >= 0, got -5`,
		`pol.yaml:4:13: field [0].strength: strength must be a number >= 0, got -1`,
		`pol.yaml:7:5: field [0].texts.Volunteering: "Volunteering" is not a scenario id`,
		`pol.yaml:8:15: field [0].texts.donating: the text uses {{.fine}}; a policy text knows only {{.amount}} and {{.currency}}`,
		`pol.yaml:11:12: field [1].default: the text uses {{.amount}} but the frame sets no amount`,
		`pol.yaml:12:7: field [2].id: duplicate id "bonus" (first defined on line 1)`,
	}
	if len(es.Errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(es.Errs), len(want), err)
	}
	for i, w := range want {
		if got := es.Errs[i].Error(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got, w)
		}
	}
}

// A policy id R or pandas read as a missing value is refused: a condition is named by its
// policy when it has no name of its own (QA9 repro-10).
func TestIDReadAsMissing(t *testing.T) {
	_, err := Load([]byte("id: \"null\"\nchannel: moral\ndefault: Be good.\n"), "p.yaml")
	if w := `p.yaml:1:5: field id: id "null": R's read.csv and pandas' read_csv read it as a missing value`; err == nil || !strings.HasPrefix(err.Error(), w) {
		t.Errorf("error = %v, want %s...", err, w)
	}
}

// Values of the wrong type and unknown keys are reported with the checks of the rest of the
// file (a frame's unknown channel), in one pass; no check reads what could not be decoded (an
// amount of the wrong type is not "no amount", a misspelt channel not a missing one).
func TestDecodingProblemsBesideTheChecks(t *testing.T) {
	src := `- id: bonus
  channel: bribe
  amount: lots
  default: You get {{.amount}} {{.currency}}.
- nudge
- id: [x]
  channel: moral
  default: Be good.
- id: kind
  chanel: moral
  default: Be kind.
- id: fine
  channel: economic
  amount: 5
  default: A fine of {{.fine}}.
`
	_, err := Load([]byte(src), "pol.yaml")
	var es *yamlx.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want *yamlx.Errors, got %T %v", err, err)
	}
	want := []string{
		`pol.yaml:2:12: field [0].channel: unknown channel "bribe"`,
		`pol.yaml:3:11: field [0].amount: expected a number, got a string "lots"`,
		`pol.yaml:5:3: field [1]: expected a mapping`,
		`pol.yaml:6:7: field [2].id: expected a string`,
		`pol.yaml:10:3: field [3].chanel: unknown field (did you mean channel?)`,
		`pol.yaml:15:12: field [4].default: the text uses {{.fine}}`,
	}
	if len(es.Errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(es.Errs), len(want), err)
	}
	for i, w := range want {
		if got := es.Errs[i].Error(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got, w)
		}
	}
}
