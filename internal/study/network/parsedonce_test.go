package network

import (
	"os"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/persona"
)

// The edge list CheckInputs read when the experiment was loaded is the one the run builds its
// graph of: the file is parsed once (a large one was parsed twice at start-up). Taken once, it
// is not kept: a second build reads the file again.
func TestEdgeListParsedOnceFromLoadToRun(t *testing.T) {
	file := edgeFile(t, "source,target\n1,2\n2,3\n")
	cfg := &Config{Graph: Graph{Type: "edgelist", File: file}}
	if err := cfg.CheckInputs(func() []persona.Persona { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil { // what the run builds can only come from Load's read
		t.Fatal(err)
	}
	agents := agentsWith([]int{1, 2, 3}, nil)
	g, err := buildGraph(cfg.Graph, agents, 1) // as New does: the Graph passed by value
	if err != nil {
		t.Fatalf("the run read the file again: %v", err)
	}
	if g.NumEdges() != 2 || !g.HasEdge(0, 1) || !g.HasEdge(1, 2) {
		t.Errorf("wrong graph: %d edges", g.NumEdges())
	}
	if _, err := buildGraph(cfg.Graph, agents, 1); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a second build: err %v, want the file read again (and missing)", err)
	}
	// A bad file is reported by CheckInputs and nothing is kept for the run.
	bad := &Config{Graph: Graph{Type: "edgelist", File: edgeFile(t, "source,target\n1\n")}}
	if err := bad.CheckInputs(func() []persona.Persona { return nil }); err == nil || bad.Graph.parsed != nil {
		t.Errorf("bad file: err %v, kept %v", err, bad.Graph.parsed)
	}
}
