package network

import (
	"fmt"
	"os"
	"strconv"

	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/yamlx"
)

// readEdgeList reads an edge list onto the population: node i is agent i, whatever order
// the file's ids come in. An id names the agent whose agent_id it is (an integer) or else
// whose source_id it is (the population file's text ids); an agent no edge names is isolated.
// An id naming no agent, or naming one agent by agent_id and another by source_id, is an
// error at the line where it first appears; every such id is reported. The file is parsed
// here unless loading the experiment parsed it already (parsed: see Config.CheckInputs).
func readEdgeList(file string, parsed *parsedEdges, agents []persona.Persona) (*network.Graph, error) {
	res := parsed.take(file)
	if res == nil {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if res, err = network.ImportEdgeList(f, file); err != nil {
			return nil, err
		}
	}
	byID := make(map[int]int, len(agents))
	bySource := map[string]int{}
	for i, a := range agents {
		byID[a.ID] = i
		if a.SourceID != "" {
			bySource[a.SourceID] = i
		}
	}
	nodeOf := make([]int, len(res.IDs)) // the file's node -> the agent's position
	bad := yamlx.NewList(file)          // every bad id, by line (up to yamlx.MaxErrors)
	for x, id := range res.IDs {
		byAgentID, okA := -1, false
		if v, err := strconv.Atoi(id); err == nil {
			byAgentID, okA = byID[v]
		}
		bySrc, okS := bySource[id]
		switch {
		case okA && okS && byAgentID != bySrc:
			bad.Add(&yamlx.Error{File: file, Line: res.Lines[x], Msg: fmt.Sprintf("id %q is ambiguous: it is the agent_id of one agent and the source_id of another (agent_id %d); write agent_ids throughout", id, agents[bySrc].ID)})
		case okA:
			nodeOf[x] = byAgentID
		case okS:
			nodeOf[x] = bySrc
		default:
			bad.Add(&yamlx.Error{File: file, Line: res.Lines[x], Msg: fmt.Sprintf("id %q names no agent", id)})
		}
	}
	if err := bad.Err(); err != nil {
		return nil, fmt.Errorf("%w\n  the edge list's ids must be the population's agent ids (%s)", err, idsHint(agents))
	}
	edges := make([][2]int, 0, res.Graph.NumEdges())
	for u, v := range res.Graph.Edges() {
		edges = append(edges, [2]int{nodeOf[u], nodeOf[v]})
	}
	return network.FromEdges(len(agents), edges)
}

// idsHint says what the population's ids look like, for an edge-list id naming no agent.
func idsHint(agents []persona.Persona) string {
	if len(agents) == 0 {
		return "the population is empty"
	}
	lo, hi := agents[0].ID, agents[0].ID
	text := 0
	for _, a := range agents {
		lo, hi = min(lo, a.ID), max(hi, a.ID)
		if a.SourceID != "" {
			text++
		}
	}
	s := fmt.Sprintf("agent_id %d..%d", lo, hi)
	if hi-lo+1 != len(agents) {
		s = fmt.Sprintf("%d agent_ids within %d..%d", len(agents), lo, hi)
	}
	if text > 0 {
		s += fmt.Sprintf(", or the source_id, e.g. %q", agents[0].SourceID)
	}
	return s
}
