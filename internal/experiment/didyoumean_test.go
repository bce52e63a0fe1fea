package experiment

import "testing"

// A misspelt scenario id or policy name gets a suggestion, as a misspelt field name does, when
// one of the library's is close; an id close to none keeps the pointer to the lists.
func TestUnknownIDsSuggestAClose(t *testing.T) {
	src := `name: s
study: vignettes
seed: 1
population: {source: sample, n: 5}
scenarios: [helpng, zzzzzz]
conditions:
  - {name: none, policy: none}
  - {name: m, policy: morale}
  - {name: q, policy: qqqqqq}
`
	_, err := Parse([]byte(src), "exp.yaml")
	wantLines(t, err,
		`exp.yaml: 4 problems:`,
		`  exp.yaml:5:13: field scenarios[0]: unknown scenario "helpng" (did you mean helping?)`,
		"  exp.yaml:5:21: field scenarios[1]: unknown scenario \"zzzzzz\" (see `prosim scenarios`, or add it with scenario_files)",
		`  exp.yaml:8:23: field conditions[1].policy: unknown policy "morale" (did you mean moral?)`,
		"  exp.yaml:9:23: field conditions[2].policy: unknown policy \"qqqqqq\" (see `prosim scenarios`, or add it with policy_files)",
	)
}
