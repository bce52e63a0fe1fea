package network

import (
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// An inequity block's from, to and text are reported in one pass, each at its line, and a
// text naming an unknown parameter is said as the scenario files say it (qa11: three passes,
// the template's problem in text/template's words and only once the network was built).
func TestInequityProblemsInOnePass(t *testing.T) {
	src := `name: s3
study: network
population: {source: prosim104}
network:
  graph: {type: prosim104}
  rounds: 4
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
  - name: a
    policy: economic
    inequity: {target: list, agents: [3], from: 1, to: 7, text: "x {{.amont}}"}
  - name: b
    policy: economic
    inequity: {target: list, agents: [3], text: "x {{.amount"}
`
	_, err := experiment.Parse([]byte(src), "s3.yaml")
	lines(t, err,
		`s3.yaml: 4 problems:`,
		`  s3.yaml:12:49: field conditions[1].inequity.from: round 1 is out of range 2..3: the affected label needs a round before the unfair treatment (to measure the noise band) and 2 rounds from its start (a fall 2 rounds running)`,
		`  s3.yaml:12:56: field conditions[1].inequity.to: round 7 is out of range 2..4`,
		`  s3.yaml:12:65: field conditions[1].inequity.text: {{.amont}} is not a parameter of the inequity text (it has {{.amount}}, {{.currency}})`,
		`  s3.yaml:15:49: field conditions[2].inequity.text: "{{.amount" is not closed: write {{.amount}}`,
	)
}
