package network

import (
	"fmt"

	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/yamlx"
)

// readEdgeList reads an edge list onto the population: node i is agent i, whatever order
// the file's ids come in. An id names the agent whose agent_id it is (an integer) or else
// whose source_id it is (the population file's text ids); an agent no edge names is isolated.
// An id naming no agent, or naming one agent by agent_id and another by source_id, is an
// error at the line where it first appears, reported with the file's other problems. The file
// is parsed here unless loading the experiment parsed it already (parsed: see
// Config.CheckInputs).
func readEdgeList(file string, parsed *parsedEdges, agents []persona.Persona) (*network.Graph, error) {
	m := newAgentIDs(agents)
	res := parsed.take(file)
	if res == nil {
		var err error
		if res, err = importEdgeList(file, m); err != nil {
			return nil, err
		}
	} else {
		// Read without the agents (its lines are sound): its ids are checked here.
		bad := yamlx.NewList(file)
		res.CheckIDs(bad, file, m.check)
		if err := m.hint(bad.Err()); err != nil {
			return nil, err
		}
	}
	nodeOf := make([]int, len(res.IDs)) // the file's node -> the agent's position
	for x, id := range res.IDs {
		nodeOf[x] = m.agent(id)
	}
	edges := make([][2]int, 0, res.Graph.NumEdges())
	for u, v := range res.Graph.Edges() {
		edges = append(edges, [2]int{nodeOf[u], nodeOf[v]})
	}
	return network.FromEdges(len(agents), edges)
}

// importEdgeList reads file, its ids checked by m (nil: not checked) with its other problems.
func importEdgeList(file string, m *agentIDs) (*network.EdgeListImport, error) {
	f, err := yamlx.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var check func(string) string
	if m != nil {
		m.bad = 0
		check = m.check
	}
	r, _, err := f.Limit(network.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	res, err := network.ImportEdgeListChecked(r, file, check)
	return res, m.hint(err)
}

// hint adds to err, when m found ids naming no agent, what the ids must be.
func (m *agentIDs) hint(err error) error {
	if err != nil && m != nil && m.bad > 0 {
		return fmt.Errorf("%w\n  the edge list's ids must be the population's agent ids (%s)", err, idsHint(m.agents))
	}
	return err
}

// agentIDs matches an edge list's ids to the agents: by agent_id, else by source_id.
type agentIDs struct {
	agents   []persona.Persona
	byID     map[int]int
	bySource map[string]int
	bad      int // ids checked that name no agent, or two
}

func newAgentIDs(agents []persona.Persona) *agentIDs {
	m := &agentIDs{agents: agents, byID: make(map[int]int, len(agents)), bySource: map[string]int{}}
	for i, a := range agents {
		m.byID[a.ID] = i
		if a.SourceID != "" {
			m.bySource[a.SourceID] = i
		}
	}
	return m
}

// resolve is the position of the agent id names (-1 for none) and the problem with id, if any.
func (m *agentIDs) resolve(id string) (int, string) {
	byAgentID, okA := -1, false
	if v, ok := persona.WholeNumber(id); ok { // 3, or 3.0 as pandas writes it: as the population file reads ids
		byAgentID, okA = m.byID[v]
	}
	bySrc, okS := m.bySource[id]
	switch {
	case okA && okS && byAgentID != bySrc:
		return -1, fmt.Sprintf("id %q is ambiguous: it is the agent_id of one agent and the source_id of another (agent_id %d); write agent_ids throughout", yamlx.Clip(id), m.agents[bySrc].ID)
	case okA:
		return byAgentID, ""
	case okS:
		return bySrc, ""
	}
	return -1, fmt.Sprintf("id %q names no agent", yamlx.Clip(id))
}

// check is the problem with id ("" for none), counted in bad.
func (m *agentIDs) check(id string) string {
	_, msg := m.resolve(id)
	if msg != "" {
		m.bad++
	}
	return msg
}

// agent is the position of the agent id names; id was checked.
func (m *agentIDs) agent(id string) int {
	i, _ := m.resolve(id)
	return i
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
		s += fmt.Sprintf(", or the source_id, e.g. %q", yamlx.Clip(agents[0].SourceID))
	}
	return s
}
