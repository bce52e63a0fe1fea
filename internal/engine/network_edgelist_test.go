package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// people writes a population file of the given ids (one line each, in this order).
func people(t *testing.T, dir string, ids ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n")
	for i, id := range ids {
		fmt.Fprintf(&b, "%s,female,%d,married,%d,EUR,college,nurse,3,3.5,3,3,3.5,3,2.5,3,3\n", id, 30+i, 20000+1000*i)
	}
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const edgeListExp = `name: edges
study: network
seed: 3
population: {source: file, file: people.csv}
network:
  graph: {type: edgelist, file: edges.csv}
  rounds: 2
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
backend: {provider: builtin}
`

// An edge list names agents by their ids, not by rank: a star centred on 101 in a population
// listed 107..101 (and an agent no edge names, 110) is drawn so in network_edges.csv and
// agents.csv, and an off-by-one id list is refused at the line of the id naming no agent.
func TestNetworkEdgeListIDs(t *testing.T) {
	dir := t.TempDir()
	people(t, dir, "107", "106", "105", "104", "103", "102", "101", "110")
	if err := os.WriteFile(filepath.Join(dir, "edges.csv"), []byte("source,target\n101,102\n103,101\n101,104\n101,105\n106,101\n101,107\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(edgeListExp), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(filepath.Join(dir, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	if _, err := Run(context.Background(), exp, Options{Out: out, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	edges := readCSV(t, filepath.Join(out, "results", "network_edges.csv"))
	if len(edges) != 7 {
		t.Fatalf("network_edges.csv: %v", edges)
	}
	for _, e := range edges[1:] {
		if (e[1] == "101") == (e[2] == "101") {
			t.Errorf("edge %v is not on the star's centre 101", e)
		}
	}
	agents := readCSV(t, filepath.Join(out, "results", "agents.csv"))
	col := columns(t, agents[0], "agent_id", "degree")
	want := map[string]string{"101": "6", "110": "0"}
	for _, a := range agents[1:] {
		w, ok := want[a[col["agent_id"]]]
		if !ok {
			w = "1"
		}
		if a[col["degree"]] != w {
			t.Errorf("agents.csv: agent %s has degree %s, want %s", a[col["agent_id"]], a[col["degree"]], w)
		}
	}

	// A text-id population's edge list may name its agents by their text ids (source_id):
	// it loads (the experiment's input check reads any ids) and runs, written by agent_id.
	people(t, dir, "r-01", "r-02", "r-03", "r-04", "r-05", "r-06", "r-07")
	if err := os.WriteFile(filepath.Join(dir, "edges.csv"), []byte("source,target\nr-07,r-01\nr-01,r-02\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(filepath.Join(dir, "s.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err = Run(context.Background(), exp, Options{Out: filepath.Join(dir, "run-text"), NoCache: true}); err != nil {
		t.Fatal(err)
	}
	if e := readCSV(t, filepath.Join(dir, "run-text", "results", "network_edges.csv")); len(e) != 3 || strings.Join(e[1][1:], ",")+" "+strings.Join(e[2][1:], ",") != "1,2 1,7" {
		t.Errorf("network_edges.csv of text ids: %v", e)
	}

	// Text ids are the positions 1..7: an edge list naming 2..8 is off by one.
	if err := os.WriteFile(filepath.Join(dir, "edges.csv"), []byte("source,target\n2,3\n3,4\n4,5\n5,6\n6,7\n7,8\n8,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(filepath.Join(dir, "s.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err = Run(context.Background(), exp, Options{Out: filepath.Join(dir, "run2"), NoCache: true}); err == nil || !strings.Contains(err.Error(), `edges.csv:7:3: field target: id "8" names no agent`) {
		t.Errorf("off-by-one ids: %v", err)
	}
}
