package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/yamlx"
)

func agentsWith(ids []int, sources []string) []persona.Persona {
	as := make([]persona.Persona, len(ids))
	for i, id := range ids {
		as[i].ID = id
		if sources != nil {
			as[i].SourceID = sources[i]
		}
	}
	return as
}

func edgeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edges.csv")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An edge list's ids are the agents' ids, not ranks: a star centred on 101 in a population
// listed 107..101 is centred on the last agent, and an agent no edge names is isolated.
func TestEdgeListIDsAreAgentIDs(t *testing.T) {
	agents := agentsWith([]int{107, 106, 105, 104, 103, 102, 101, 110}, nil)
	g, err := readEdgeList(edgeFile(t, "source,target\n101,102\n101,103\n104,101\n101,105\n101,106\n107,101\n"), nil, agents)
	if err != nil {
		t.Fatal(err)
	}
	if g.N() != 8 || g.NumEdges() != 6 {
		t.Fatalf("N %d E %d", g.N(), g.NumEdges())
	}
	for i, a := range agents {
		want := 1
		switch a.ID {
		case 101:
			want = 6
		case 110:
			want = 0
		}
		if g.Degree(i) != want {
			t.Errorf("agent %d: degree %d, want %d", a.ID, g.Degree(i), want)
		}
	}
	if !g.HasEdge(6, 0) || g.HasEdge(0, 1) {
		t.Error("the star is not centred on agent 101")
	}
}

// A population with text ids is named by its text ids (source_id) or its agent ids (the
// positions 1..n), which network_edges.csv writes.
func TestEdgeListTextIDs(t *testing.T) {
	agents := agentsWith([]int{1, 2, 3, 4}, []string{"r-01", "r-02", "r-03", "r-04"})
	for _, in := range []string{"source,target\nr-01,r-03\nr-03,r-04\n", "source,target\n1,3\n3,4\n", "source,target\nr-01,3\n4,r-03\n"} {
		g, err := readEdgeList(edgeFile(t, in), nil, agents)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if g.NumEdges() != 2 || !g.HasEdge(0, 2) || !g.HasEdge(2, 3) || g.Degree(1) != 0 {
			t.Errorf("%q: wrong graph", in)
		}
	}
}

// An id naming no agent is refused at the line it first appears on, every such id listed;
// an id that is one agent's agent_id and another's source_id is refused as ambiguous.
func TestEdgeListUnknownIDs(t *testing.T) {
	agents := agentsWith([]int{1, 2, 3, 4, 5, 6, 7}, []string{"r-01", "r-02", "r-03", "r-04", "r-05", "r-06", "r-07"})
	// The off-by-one id list of a 1..7 population: 8 is no agent.
	_, err := readEdgeList(edgeFile(t, "source,target\n2,3\n3,4\n4,5\n5,6\n6,7\n7,8\n8,2\nr-09,2\n"), nil, agents)
	if err == nil {
		t.Fatal("an id naming no agent was accepted")
	}
	for _, want := range []string{`edges.csv:7:3: field target: id "8" names no agent`, `edges.csv:9:1: field source: id "r-09" names no agent`, `agent_id 1..7, or the source_id, e.g. "r-01"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Text ids against a population of whole-number ids: the error says which ids to use.
	_, err = readEdgeList(edgeFile(t, "source,target\nr-01,r-02\n"), nil, agentsWith([]int{107, 106, 101}, nil))
	if err == nil || !strings.Contains(err.Error(), `edges.csv:2:1: field source: id "r-01" names no agent`) || !strings.Contains(err.Error(), "must be the population's agent ids (3 agent_ids within 101..107)") || strings.Contains(err.Error(), "ImportEdgeList") {
		t.Errorf("text ids, numeric population: %v", err)
	}
	amb := agentsWith([]int{1, 2, 3}, []string{"x", "3", "y"})
	if _, err := readEdgeList(edgeFile(t, "source,target\n1,x\n3,y\n"), nil, amb); err == nil || !strings.Contains(err.Error(), `edges.csv:3:1: field source: id "3" is ambiguous`) {
		t.Errorf("ambiguous id: %v", err)
	}
	// "2" is agent 2's agent_id and its source_id: one agent, no clash.
	if _, err := readEdgeList(edgeFile(t, "source,target\n1,2\n"), nil, agentsWith([]int{1, 2}, []string{"a", "2"})); err != nil {
		t.Errorf("an id naming one agent both ways: %v", err)
	}
}

// A first line both of whose ids name no agent may be a header of a name prosim does not read:
// the error says which headers are read, whether the file was parsed here or when the
// experiment was loaded; a real header, or a first line with one known id, gets no such hint.
func TestEdgeListUnreadHeader(t *testing.T) {
	agents := agentsWith([]int{1, 2, 3}, nil)
	file := edgeFile(t, "a,b\n1,2\n2,3\n")
	res, err := importEdgeList(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, parsed := range map[string]*parsedEdges{"parsed here": nil, "parsed at load": {file: file, res: res}} {
		_, err := readEdgeList(file, parsed, agents)
		if err == nil || !strings.Contains(err.Error(), "edges.csv:1: if this line is a header, name its columns source,target or from,to") {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, text := range []string{"source,target\na,b\n1,2\n", "1,b\n1,2\n"} {
		if _, err := readEdgeList(edgeFile(t, text), nil, agents); err == nil || strings.Contains(err.Error(), "header") {
			t.Errorf("%q: want an unknown id without the header hint, got %v", text, err)
		}
	}
}

// An edge list is bounded like every input file: a larger regular file is refused before it is
// read, and a stream is cut at the limit, both saying the limit (QA5: edge lists had none).
func TestEdgeListSizeLimit(t *testing.T) {
	defer func(n int64) { network.MaxFileBytes = n }(network.MaxFileBytes)
	network.MaxFileBytes = 1 << 20
	agents := agentsWith([]int{1, 2}, nil)
	big := strings.Repeat("1,2\n", (2<<20)/4)
	_, err := readEdgeList(edgeFile(t, big), nil, agents)
	if err == nil || !strings.Contains(err.Error(), "edges.csv: file is larger than the limit of 1 MiB (2 MiB)") {
		t.Fatalf("a 2 MiB file: %v", err)
	}
	r := &yamlx.Capped{R: strings.NewReader(big), Left: network.MaxFileBytes, Limit: network.MaxFileBytes}
	if _, err := network.ImportEdgeList(r, "pipe"); err == nil || !strings.Contains(err.Error(), "file is larger than the limit of 1 MiB") {
		t.Fatalf("a 2 MiB stream: %v", err)
	}
	if _, err := readEdgeList(edgeFile(t, "1,2\n"), nil, agents); err != nil {
		t.Fatal(err)
	}
}

// Ids written with a zero fraction (pandas writes 3.0 for an integer column with a missing
// value) name the agent with that agent_id, as the population file reads them; 3.5 names none.
func TestEdgeListPandasWholeNumberIDs(t *testing.T) {
	agents := agentsWith([]int{1, 2, 3, 4}, nil)
	g, err := readEdgeList(edgeFile(t, "source,target\n1.0,3.0\n3,4.00\n"), nil, agents)
	if err != nil {
		t.Fatal(err)
	}
	if g.NumEdges() != 2 || !g.HasEdge(0, 2) || !g.HasEdge(2, 3) {
		t.Error("1.0 and 3.0 did not name agents 1 and 3")
	}
	if _, err := readEdgeList(edgeFile(t, "source,target\n1,3.5\n"), nil, agents); err == nil || !strings.Contains(err.Error(), `id "3.5" names no agent`) {
		t.Errorf("3.5: %v", err)
	}
}
