package network

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/yamlx"
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
	e, err := experiment.Parse([]byte(goodNetwork), "s3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	nw := ConfigOf(e)
	if nw.Graph.N != 104 || nw.Rounds != 7 || nw.Observation != "grounded" || nw.Contagion.Rule != "original" ||
		nw.Activation.Fraction == nil || *nw.Activation.Fraction != 0.3 || nw.Store != "full" {
		t.Errorf("defaults: %+v", nw)
	}
	q := InequityOf(&e.Conditions[0])
	if q.Target != "top" || q.By != "willingness" || q.From != 2 || q.To != 7 || !strings.Contains(q.Text, "stipend") {
		t.Errorf("reward preset: %+v", q)
	}
	if len(e.Conditions) != 2 || e.Conditions[1].Name != "control" || e.Conditions[1].Policy != "economic" || InequityOf(&e.Conditions[1]) != nil {
		t.Errorf("a control condition is added beside the inequity one: %+v", e.Conditions)
	}
	// The resolved config parses back to the same design (resume reads it).
	out, err := e.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := experiment.Parse(out, "resolved.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(e2.Conditions) != 2 || InequityOf(&e2.Conditions[0]).Text != q.Text {
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
		{"{preset: reward, k: 5}", "{preset: reward, k: 5, from: 1}", "round 1 is out of range 2..6"},
		{"{preset: reward, k: 5}", "{target: list, text: hi}", "required for target list"},
		{"scenario: volunteering", "scenario: volunteering\n  contagion: {rule: sis}", "network.contagion.recovery"},
		{"scenario: volunteering", "scenario: volunteering\n  spread_from: neighbours", "network.spread_from"},
		{"graph: {type: watts_strogatz, k: 6, p: 0.2}", "graph: {type: prosim104, per_replicate: true}", "network.graph.per_replicate"},
	}
	for _, c := range cases {
		src := strings.Replace(goodNetwork, c.from, c.to, 1)
		_, err := experiment.Parse([]byte(src), "s3.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
	// The population/graph mismatch names both fields and a line.
	src := strings.Replace(goodNetwork, "graph: {type: watts_strogatz, k: 6, p: 0.2}", "graph: {type: watts_strogatz, n: 90, k: 6, p: 0.2}", 1)
	_, err := experiment.Parse([]byte(src), "s3.yaml")
	if err == nil || !strings.Contains(err.Error(), "s3.yaml:6") || !strings.Contains(err.Error(), "network.graph.n") {
		t.Errorf("mismatch error: %v", err)
	}
}

// network.graph.file is resolved against the experiment file's directory, and Bundle copies
// it into the run directory's inputs/ (the block's Inputs), leaving the experiment alone; the
// bundled config loads from the run directory wherever that is.
func TestGraphFileIsResolvedAndBundled(t *testing.T) {
	src := t.TempDir()
	edges := "source,target\n1,2\n2,3\n3,1\n"
	if err := os.WriteFile(filepath.Join(src, "edges.csv"), []byte(edges), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := strings.Replace(goodNetwork, "graph: {type: watts_strogatz, k: 6, p: 0.2}", "graph: {type: edgelist, file: edges.csv}", 1)
	if err := os.WriteFile(filepath.Join(src, "s3.yaml"), []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(filepath.Join(src, "s3.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(src, "edges.csv")
	if f := ConfigOf(e).Graph.File; f != abs {
		t.Fatalf("graph.file resolved to %q, want %q", f, abs)
	}
	run := filepath.Join(t.TempDir(), "run")
	cfg, err := e.Bundle(run)
	if err != nil {
		t.Fatal(err)
	}
	if f := ConfigOf(e).Graph.File; f != abs {
		t.Errorf("Bundle changed the experiment's graph.file: %q", f)
	}
	if got, err := os.ReadFile(filepath.Join(run, experiment.InputsDir, "edges.csv")); err != nil || string(got) != edges {
		t.Errorf("inputs/edges.csv: %q, %v", got, err)
	}
	if !strings.Contains(string(cfg), "file: "+filepath.Join(experiment.InputsDir, "edges.csv")) {
		t.Errorf("the bundled config does not point at the copy:\n%s", cfg)
	}
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(run, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(moved, "config.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	e2, err := experiment.Load(filepath.Join(moved, "config.yaml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, cfg)
	}
	if f, want := ConfigOf(e2).Graph.File, filepath.Join(moved, experiment.InputsDir, "edges.csv"); f != want {
		t.Errorf("graph.file %q, want %q", f, want)
	}
	if q := InequityOf(&e2.Conditions[0]); q == nil || q.Preset != "reward" || q.K != 5 {
		t.Errorf("inequity after the round trip: %+v", q)
	}
}

// A null block is an absent one, and another study's block, or inequity, is an error at its
// line. Decoding errors inside an inequity name its path.
func TestBlockPresenceAndOwnership(t *testing.T) {
	base := "name: s3\nstudy: network\nseed: 3\npopulation: {source: prosim104}\n"
	for _, c := range []struct{ src, want string }{
		{base, "s3.yaml: field network: required for study: network"},
		{base + "network:\n", "s3.yaml:5:10: field network: required for study: network"},
		{strings.Replace(base, "study: network", "study: vignettes", 1) + "scenarios: [helping]\nnetwork:\n  graph: {type: x}\n", "s3.yaml:6:1: field network: only for study: network"},
		{strings.Replace(base, "study: network", "study: vignettes", 1) + "scenarios: [helping]\nconditions:\n  - {policy: moral, inequity: {preset: reward}}\n", "s3.yaml:7:21: field conditions[0].inequity: only for study: network"},
		{strings.Replace(goodNetwork, "k: 5}", "k: many}", 1), "s3.yaml:9:77: field conditions[0].inequity.k: expected a whole number"},
		{strings.Replace(goodNetwork, "k: 5}", "kk: 5}", 1), "s3.yaml:9:74: field conditions[0].inequity.kk: unknown field"},
	} {
		_, err := experiment.Parse([]byte(c.src), "s3.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q for\n%s", err, c.want, c.src)
		}
	}
	// An empty network: key under study vignettes is as if absent (as before the move).
	if _, err := experiment.Parse([]byte(strings.Replace(base, "study: network", "study: vignettes", 1)+"scenarios: [helping]\nnetwork:\n"), "s3.yaml"); err != nil {
		t.Errorf("an empty network: key under study vignettes: %v", err)
	}
}

func TestGraphDescribe(t *testing.T) {
	for g, want := range map[Graph]string{
		{Type: "barabasi_albert", M: 3}:              "barabasi_albert graph (n 1000000, m 3 edges per new node)",
		{Type: "watts_strogatz", K: 4, P: 0.2}:       "watts_strogatz graph (n 1000000, k 4, rewiring p 0.2)",
		{Type: "erdos_renyi", M: 50}:                 "erdos_renyi graph (n 1000000, 50 edges)",
		{Type: "edgelist", File: "inputs/edges.csv"}: "edgelist graph (n 1000000, file inputs/edges.csv)",
		{Type: "prosim104"}:                          "prosim104 graph (n 1000000)",
	} {
		if got := g.Describe(1000000); got != want {
			t.Errorf("%+v: %q, want %q", g, got, want)
		}
	}
}

// An inequity's agents may name an agent_id with a zero fraction (3.0, pasted from pandas), as
// population files and edge lists read it; 3.5 is no agent id.
func TestAgentRefWholeNumberFloat(t *testing.T) {
	var v struct {
		Agents []AgentRef `yaml:"agents"`
	}
	if err := yamlx.Decode([]byte("agents: [3, 4.0, p1]\n"), "a.yaml", &v); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v.Agents); got != "[3 4 p1]" {
		t.Errorf("agents %s, want [3 4 p1]", got)
	}
	if err := yamlx.Decode([]byte("agents: [3.5]\n"), "a.yaml", &v); err == nil || !strings.Contains(err.Error(), "expected an agent id") {
		t.Errorf("3.5: %v", err)
	}
}
