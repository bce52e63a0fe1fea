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

// obsAt is a rating with its place in design order (cell, agent, scenario, measure).
type obsAt struct {
	at [4]int
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
	ms, ok := s.byScenario[d.Scenario]
	if !ok {
		return fmt.Errorf("decision of run %s: scenario %q is not asked", d.RunID, d.Scenario)
	}
	// A decision counts once in each of its scenario's measures: invalid in all of them when
	// the reply is (or, never expected of a valid reply, when it lacks the field).
	for mi, m := range ms {
		ck := cellKey{c.cell.Backend, d.Scenario, m.Field, c.cell.Condition}
		cs := o.counts[ck]
		v, has := m.value(d.Reply.Values)
		if !d.Reply.Valid() || !has {
			cs.Invalid++
			continue
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
			o.obs = append(o.obs, obsAt{at: [4]int{c.ord, ai, slices.Index(s.env.Exp.Scenarios, d.Scenario), mi},
				obs: obs{c.cell.Backend, d.Scenario, m.Field, c.cell.Condition, d.AgentID, lv, v}})
		}
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
		for _, it := range s.items {
			ck := cellKey{c.Backend, it.Scenario, it.m.Field, c.Condition}
			if o.counts[ck] == nil {
				o.counts[ck] = &Cell{Backend: ck.b, Scenario: ck.s, Field: ck.f, Condition: ck.c}
				o.sums[ck] = map[int]sumN{}
			}
		}
	}
	s.seen = o
	return o
}
