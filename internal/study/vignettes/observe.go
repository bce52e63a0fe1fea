package vignettes

import (
	"fmt"
	"slices"

	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// observed is what the analysis reads of the recorded decisions, gathered by Observe in one
// pass over the store: per cell and agent the sum and count of valid ratings (Study 1 needs
// no more of a decision), the decision counts, and with factors each valid rating.
type observed struct {
	cells  map[string]cellAt // by run id
	agents map[int]int       // agent id -> index in env.Agents
	sums   map[cellKey]map[int]sumN
	counts map[cellKey]*Cell
	obs    []obsAt // with factors only
}

type cellAt struct {
	cell *study.Cell
	ord  int // index in env.Cells
}

// sumN is a running sum of an agent's ratings in a cell, in design order (the order the
// store gives them), and how many were added.
type sumN struct {
	sum float64
	n   int
}

// obsAt is a rating with its place in design order (cell, agent, scenario).
type obsAt struct {
	at [3]int
	obs
}

// Streamed: Study 1 reads its replies after its one step, from the store.
var _ study.Streamed = (*vignettes)(nil)

// Observe gathers one recorded decision for the analysis.
func (s *vignettes) Observe(d store.Decision) error {
	o := s.observed()
	c, ok := o.cells[d.RunID]
	if !ok {
		return fmt.Errorf("decision of unknown run %q", d.RunID)
	}
	ck := cellKey{c.cell.Backend, d.Scenario, c.cell.Condition}
	cs, ok := o.counts[ck]
	if !ok {
		return fmt.Errorf("decision of run %s: scenario %q is not asked", d.RunID, d.Scenario)
	}
	v, has := d.Reply.Values[field]
	if !d.Reply.Valid() || !has {
		cs.Invalid++
		return nil
	}
	cs.Valid++
	byAgent := o.sums[ck]
	x := byAgent[d.AgentID]
	x.sum += v
	x.n++
	byAgent[d.AgentID] = x
	if len(c.cell.Levels) > 0 {
		lv := make([]string, len(c.cell.Levels))
		for i, l := range c.cell.Levels {
			lv[i] = l.Level
		}
		ai, ok := o.agents[d.AgentID]
		if !ok {
			ai = d.AgentID
		}
		o.obs = append(o.obs, obsAt{at: [3]int{c.ord, ai, slices.Index(s.env.Exp.Scenarios, d.Scenario)},
			obs: obs{c.cell.Backend, d.Scenario, c.cell.Condition, d.AgentID, lv, v}})
	}
	return nil
}

// observed returns the gathered replies, set up on first use with a count for every
// backend x scenario x condition of the design.
func (s *vignettes) observed() *observed {
	if s.seen != nil {
		return s.seen
	}
	o := &observed{cells: map[string]cellAt{}, agents: map[int]int{}, sums: map[cellKey]map[int]sumN{}, counts: map[cellKey]*Cell{}}
	if len(s.env.Exp.Factors.List()) > 0 { // the order of the ratings matters only with factors
		for i, a := range s.env.Agents {
			o.agents[a.ID] = i
		}
	}
	for i, c := range s.env.Cells {
		o.cells[c.ID] = cellAt{c, i}
		for _, sc := range s.env.Exp.Scenarios {
			ck := cellKey{c.Backend, sc, c.Condition}
			if o.counts[ck] == nil {
				o.counts[ck] = &Cell{Backend: ck.b, Scenario: ck.s, Condition: ck.c}
				o.sums[ck] = map[int]sumN{}
			}
		}
	}
	s.seen = o
	return o
}
