package network

import (
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// settingsExp is a network experiment on 50 sampled agents; tests replace its lines.
const settingsExp = `name: s3
study: network
seed: 9
population: {source: sample, n: 50}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.5}
  rounds: 5
  scenario: donating
conditions:
  - {name: control, policy: enforce}
  - name: t
    policy: enforce
    inequity: {target: list, agents: [1, 2, 3], from: 2, text: "Your voucher was withheld."}
`

func parseSettings(t *testing.T, repl ...string) (*experiment.Experiment, error) {
	t.Helper()
	src := settingsExp
	for i := 0; i < len(repl); i += 2 {
		if !strings.Contains(src, repl[i]) {
			t.Fatalf("no %q in the experiment", repl[i])
		}
		src = strings.Replace(src, repl[i], repl[i+1], 1)
	}
	return experiment.Parse([]byte(src), "s3.yaml")
}

// The affected label measures its noise band on the rounds before the unfair treatment and
// needs two rounds from its start: a from leaving no round before it, or fewer than two from
// it, would label nobody by construction (QA7 repro-1: from: 1 gave "affected 0.0%"). A
// custom inequity without from starts at round 2, as the presets do.
func TestInequityFromLeavesRoundsForTheLabel(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"from: 2", "from: 1", "s3.yaml:13:55: field conditions[1].inequity.from: round 1 is out of range 2..4: the affected label needs a round before"},
		{"from: 2", "from: 5", "s3.yaml:13:55: field conditions[1].inequity.from: round 5 is out of range 2..4"},
		{"from: 2", "from: 0", "field conditions[1].inequity.from: round 0 is out of range 2..4"},
		{"rounds: 5", "rounds: 2", "s3.yaml:13:55: field conditions[1].inequity.from: network.rounds 2 leaves no room for unfair treatment"},
		{"from: 2", "from: 3, to: 0", "field conditions[1].inequity.to: round 0 is out of range 3..5"},
	} {
		_, err := parseSettings(t, c.from, c.to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.to, err, c.want)
		}
	}
	e, err := parseSettings(t, "from: 2, ", "")
	if err != nil {
		t.Fatal(err)
	}
	if q := InequityOf(&e.Conditions[1]); q.From != 2 || q.To != 5 {
		t.Errorf("default rounds %d-%d, want 2-5", q.From, q.To)
	}
}

// A zero written is not a default, a graph parameter of another type is not ignored, and an
// inequity group of the whole population leaves nobody to spread to: each is an error at its
// line, all at once (QA7 repro-2).
func TestNetworkNothingAcceptedSilently(t *testing.T) {
	_, err := parseSettings(t,
		"graph: {type: watts_strogatz, k: 4, p: 0.5}", "graph: {type: watts_strogatz, k: 4, p: 0.5, m: 3, file: x.csv}",
		"rounds: 5", "rounds: 0",
		"{target: list, agents: [1, 2, 3], from: 2,", "{target: lowest_income, k: 500, from: 2,")
	lines(t, err,
		`s3.yaml: 4 problems:`,
		`  s3.yaml:6:50: field network.graph.m: not used by type watts_strogatz (it takes n, k, p and per_replicate)`,
		`  s3.yaml:6:59: field network.graph.file: not used by type watts_strogatz (it takes n, k, p and per_replicate)`,
		`  s3.yaml:7:11: field network.rounds: 0 is out of range 1..1000 (leave it out for 7)`,
		`  s3.yaml:13:42: field conditions[1].inequity.k: k=500 must be less than the population's 50 agents`,
	)
	for _, c := range []struct{ from, to, want string }{
		{"k: 4, p: 0.5}", "k: 0, p: 0.5}", "s3.yaml:6:36: field network.graph.k: must be an even number >= 2 (got 0)"},
		{"graph: {type: watts_strogatz, k: 4, p: 0.5}", "graph: {type: barabasi_albert, m: 0}", "field network.graph.m: must be >= 1 (got 0)"},
		{"graph: {type: watts_strogatz, k: 4, p: 0.5}", "graph: {type: barabasi_albert, p: 0}", "field network.graph.p: not used by type barabasi_albert (it takes n, m and per_replicate)"},
		{"graph: {type: watts_strogatz, k: 4, p: 0.5}", "graph: {type: prosim104, k: 4}", "field network.graph.k: not used by type prosim104"},
		{"scenario: donating", "scenario: donating\n  contagion: {rule: threshold, threshold: 0}", "field network.contagion.threshold: must be >= 1 (got 0)"},
		{"{target: list, agents: [1, 2, 3],", "{target: degree, k: 50,", "field conditions[1].inequity.k: k=50 must be less than the population's 50 agents"},
		{"{target: list, agents: [1, 2, 3],", "{preset: burden, target: top, k: 0,", "field conditions[1].inequity.k: 0 is out of range: the group size of target top is >= 1"},
		{"{target: list, agents: [1, 2, 3],", "{target: top, by: happiness, k: 3,", `field conditions[1].inequity.by: unknown value "happiness" (want willingness or unfairness)`},
		// No default graph parameters (QA8 repro-1: p left out ran a ring lattice).
		{"k: 4, p: 0.5}", "k: 4}", "field network.graph: watts_strogatz needs p, the rewiring probability"},
		{"k: 4, p: 0.5}", "p: 0.5}", "field network.graph: watts_strogatz needs k, each node's ring neighbours"},
		{"graph: {type: watts_strogatz, k: 4, p: 0.5}", "graph: {type: barabasi_albert}", "field network.graph: barabasi_albert needs m, the edges each new node makes"},
	} {
		_, err := parseSettings(t, c.from, c.to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.to, err, c.want)
		}
	}
	if _, err := parseSettings(t, "{target: list, agents: [1, 2, 3],", "{target: degree, k: 49,"); err != nil {
		t.Errorf("k one less than the population: %v", err)
	}
}

// Every id of inequity.agents naming no agent is reported at its own entry, with the other
// problems of the file, in one validate (QA7 repro-5).
func TestInequityAgentsEveryIDAtItsEntry(t *testing.T) {
	_, err := parseSettings(t,
		"  - {name: control, policy: enforce}", "  - {name: control, policy: enforce}\n  - {name: a, policy: enforce, inequity: {target: random, k: 5, from: 9, text: x}}",
		"agents: [1, 2, 3]", "agents: [0, 51, 3, P00003, 3]")
	lines(t, err,
		`s3.yaml: 5 problems:`,
		`  s3.yaml:11:71: field conditions[1].inequity.from: round 9 is out of range 2..4`,
		`  s3.yaml:14:39: field conditions[2].inequity.agents[0]: no agent with id "0" (the population's agent_ids are 1..50)`,
		`  s3.yaml:14:42: field conditions[2].inequity.agents[1]: no agent with id "51"`,
		`  s3.yaml:14:49: field conditions[2].inequity.agents[3]: no agent with id "P00003"`,
		`  s3.yaml:14:57: field conditions[2].inequity.agents[4]: agent 3 is listed twice (also agents[2])`,
	)
}

// The design table and the summary describe an inequity by its settings (QA7 repro-7: a
// custom one showed as "inequity " and its last round nowhere).
func TestInequityLabel(t *testing.T) {
	for repl, want := range map[string]string{
		"{target: list, agents: [1, 2, 3], from: 2,":           "list 1, 2, 3, rounds 2-5",
		"{target: lowest_income, k: 12, from: 2, to: 4,":       "lowest_income k=12, rounds 2-4",
		"{target: lowest_income, from: 3,":                     "lowest_income (the lowest quintile), rounds 3-5",
		"{preset: reward, k: 5, from: 2,":                      "reward: top k=5 by willingness, rounds 2-5",
		"{target: list, agents: [1,2,3,4,5,6,7,8,9], from: 2,": "list 1, 2, 3, 4, 5, 6, 7, 8, ... (9 agents), rounds 2-5",
		"{target: all, from: 4,":                               "all, rounds 4-5",
	} {
		e, err := parseSettings(t, "{target: list, agents: [1, 2, 3], from: 2,", repl)
		if err != nil {
			t.Fatal(err)
		}
		if got := InequityOf(&e.Conditions[1]).Label(); got != want {
			t.Errorf("%s: %q, want %q", repl, got, want)
		}
	}
	// The resolved config writes agent_ids as numbers and text ids as text, as given.
	e, err := parseSettings(t, "agents: [1, 2, 3]", "agents: [1, 12]")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Resolved()
	if err != nil || !strings.Contains(string(out), "agents:\n        - 1\n        - 12\n") {
		t.Errorf("resolved config (%v):\n%s", err, out)
	}
	c := &Comparison{Treatment: "lowest_income k=12, rounds 2-4", From: 2, To: 4, Rounds: 6}
	if got, want := c.Heading(), "inequity lowest_income k=12, rounds 2-4 (rounds 5-6 after it)"; got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
}
