package tpp

import (
	"fmt"

	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// Streamed: Study 2's analysis reads the recorded trials once, in store order (cell, agent
// id, trial), from the pass that writes decisions.csv; with history the prompts read the
// replies as they come (Batch.Absorb, the sessions' outcomes), never the store.
var _ study.Streamed = (*tpp)(nil)

// observed is what the analysis reads of the recorded trials: one small record per trial
// (the trial-level logit, the participant means and tpp_trials.csv need each), with the
// reply's values in a fixed array and its strings interned.
type observed struct {
	cells   map[string]int // run id -> index in env.Cells
	agents  map[int]int    // agent id -> index in env.Agents
	strs    map[string]string
	records []record
}

// valueFields are the reply's fields the analysis reads, in record.vals order.
func (s *tpp) valueFields() []string {
	if s.graded {
		return []string{"points"}
	}
	return []string{"choice", "valence_before", "arousal_before", "valence_after", "arousal_after"}
}

func (s *tpp) observed() *observed {
	if s.seen == nil {
		o := &observed{cells: map[string]int{}, agents: map[int]int{}, strs: map[string]string{}}
		for i, c := range s.env.Cells {
			o.cells[c.ID] = i
		}
		for i, a := range s.env.Agents {
			o.agents[a.ID] = i
		}
		s.seen = o
	}
	return s.seen
}

// intern keeps one copy of a repeated string (model versions, invalid reasons).
func (o *observed) intern(v string) string {
	if v == "" {
		return ""
	}
	if x, ok := o.strs[v]; ok {
		return x
	}
	o.strs[v] = v
	return v
}

// Observe gathers one recorded trial for the analysis.
func (s *tpp) Observe(d store.Decision) error {
	o := s.observed()
	ci, ok := o.cells[d.RunID]
	if !ok {
		return fmt.Errorf("decision of unknown run %q", d.RunID)
	}
	ai, ok := o.agents[d.AgentID]
	if !ok {
		return fmt.Errorf("decision of run %s: no agent with id %d", d.RunID, d.AgentID)
	}
	if d.Scenario != s.sc.ID {
		return fmt.Errorf("decision of run %s: scenario %q is not asked (the run asks %s)", d.RunID, d.Scenario, s.sc.ID)
	}
	ss := &s.sessions[ci*len(s.env.Agents)+ai]
	p := d.Trial - 1 // a schedule lists its trials by position
	if p < 0 || p >= len(ss.sched) || int(ss.sched[p].index) != d.Trial {
		return fmt.Errorf("decision of run %s, agent %d: trial %d is not in the agent's schedule", d.RunID, d.AgentID, d.Trial)
	}
	r := record{cell: ss.cell, agent: d.AgentID, trial: ss.sched[p], valid: d.Reply.Valid(),
		reason: o.intern(d.Reply.Invalid), version: o.intern(d.Reply.ModelVersion)}
	if r.valid {
		for i, f := range s.valueFields() {
			if v, ok := d.Reply.Values[f]; ok {
				r.vals[i], r.has = v, r.has|1<<i
			}
		}
	}
	o.records = append(o.records, r)
	return nil
}
