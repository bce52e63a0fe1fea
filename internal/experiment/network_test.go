package experiment

import (
	"strings"
	"testing"
)

const goodNetwork = `name: s3
study: network
seed: 3
population: {source: prosim104}
network:
  graph: {type: watts_strogatz, k: 6, p: 0.2}
  scenario: volunteering
conditions:
  - {name: reward_inequity, policy: economic, inequity: {preset: reward, k: 5}}
`

func TestNetworkDefaults(t *testing.T) {
	e, err := Parse([]byte(goodNetwork), "s3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	nw := e.Network
	if nw.Graph.N != 104 || nw.Rounds != 7 || nw.Observation != "grounded" || nw.Contagion.Rule != "original" ||
		nw.Activation.Fraction == nil || *nw.Activation.Fraction != 0.3 || nw.Store != "full" {
		t.Errorf("defaults: %+v", nw)
	}
	q := e.Conditions[0].Inequity
	if q.Target != "top" || q.By != "willingness" || q.From != 2 || q.To != 7 || !strings.Contains(q.Text, "stipend") {
		t.Errorf("reward preset: %+v", q)
	}
	if len(e.Conditions) != 2 || e.Conditions[1].Name != "control" || e.Conditions[1].Policy != "economic" || e.Conditions[1].Inequity != nil {
		t.Errorf("a control condition is added beside the inequity one: %+v", e.Conditions)
	}
	// The resolved config parses back to the same design (resume reads it).
	out, err := e.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Parse(out, "resolved.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(e2.Conditions) != 2 || e2.Conditions[0].Inequity.Text != q.Text {
		t.Errorf("round trip: %+v", e2.Conditions)
	}
}

func TestNetworkErrors(t *testing.T) {
	cases := []struct{ from, to, want string }{
		{"population: {source: prosim104}", "population: {source: sample, n: 50}\nnetwork_x: 1", "unknown field"},
		{"graph: {type: watts_strogatz, k: 6, p: 0.2}", "graph: {type: watts_strogatz, n: 90, k: 6, p: 0.2}", "population.n is 104"},
		{"graph: {type: watts_strogatz, k: 6, p: 0.2}", "graph: {type: star}", "unknown graph type"},
		{"graph: {type: watts_strogatz, k: 6, p: 0.2}", "graph: {type: watts_strogatz, k: 5}", "even"},
		{"scenario: volunteering", "scenario: volunteering\n  observation: gossip", "network.observation"},
		{"scenario: volunteering", "scenario: donating", "preset reward has no text"},
		{"{preset: reward, k: 5}", "{preset: reward, k: 5, from: 1}", "from must be >= 2"},
		{"{preset: reward, k: 5}", "{target: list, text: hi}", "required for target list"},
		{"scenario: volunteering", "scenario: volunteering\n  contagion: {rule: sis}", "network.contagion.recovery"},
	}
	for _, c := range cases {
		src := strings.Replace(goodNetwork, c.from, c.to, 1)
		_, err := Parse([]byte(src), "s3.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
	// The population/graph mismatch names both fields and a line.
	src := strings.Replace(goodNetwork, "graph: {type: watts_strogatz, k: 6, p: 0.2}", "graph: {type: watts_strogatz, n: 90, k: 6, p: 0.2}", 1)
	_, err := Parse([]byte(src), "s3.yaml")
	if err == nil || !strings.Contains(err.Error(), "s3.yaml:6") || !strings.Contains(err.Error(), "network.graph.n") {
		t.Errorf("mismatch error: %v", err)
	}
}
