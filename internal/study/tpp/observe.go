package tpp

import (
	"errors"
	"fmt"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
)

// Streamed: Study 2's analysis reads the recorded trials once, in store order (cell, agent
// id, trial), from the pass that writes decisions.csv; with history the prompts read the
// replies as they come (Batch.Absorb, the sessions' outcomes), never the store. It keeps no
// row per trial: each session (an agent in a cell) keeps three bit masks of its trials, and
// each group (backend x condition) sums in store order what its means add; tpp_trials.csv is
// written from the same pass (study.DecisionTables).
var (
	_ study.Streamed       = (*tpp)(nil)
	_ study.DecisionTables = (*tpp)(nil)
)

// observed is what the analysis reads of the recorded trials: the sessions in store order
// (their masks hold the trials), and per group the sums that are added in store order.
type observed struct {
	cells  map[string]int // run id -> index in env.Cells
	agents map[int]int    // agent id -> index in env.Agents
	// order are the sessions (indexes into tpp.sessions) in the order their first trial was
	// observed: store order, as a session's trials are consecutive in it.
	order []int32
	// groups are the backends x conditions in the order first observed; group maps a key to
	// its index.
	group  map[[2]string]int
	groups []*groupSums
}

// groupSums are one group's sums over its observed trials, added in store order (so each
// equals the sum over the trials in that order, bit for bit).
type groupSums struct {
	key [2]string
	// binary: pre-choice valence of valid trials by x (10..15).
	valence, valenceN [6]float64
	// graded, by transfer index (game.GradedTransfers): points of valid decisions, their
	// count, and per agent id the running sum and count over its replicates.
	sum, n   [6]float64
	byAgent  [6]map[int]*agentSum
	punished map[int]bool // agent ids that assigned points to some transfer below 50
	agents   map[int]bool // agent ids with a valid decision on a transfer below 50
	// versions are the model versions of the valid trials (binary), for the scorecard.
	versions map[string]bool
}

type agentSum struct {
	sum float64
	n   int
}

// valueFields are the reply's fields tpp_trials.csv reads, in its column order.
func (s *tpp) valueFields() []string {
	if s.graded {
		return []string{"points"}
	}
	return binaryFields
}

// binaryFields are valueFields of the binary variant.
var binaryFields = []string{"choice", "valence_before", "arousal_before", "valence_after", "arousal_after"}

func (s *tpp) observed() *observed {
	if s.seen == nil {
		o := &observed{cells: map[string]int{}, agents: map[int]int{}, group: map[[2]string]int{}}
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

// locate finds a recorded trial's session and schedule position.
func (s *tpp) locate(d *store.Decision) (*session, int, error) {
	o := s.observed()
	ci, ok := o.cells[d.RunID]
	if !ok {
		return nil, 0, fmt.Errorf("decision of unknown run %q", d.RunID)
	}
	ai, ok := o.agents[d.AgentID]
	if !ok {
		return nil, 0, fmt.Errorf("decision of run %s: no agent with id %d", d.RunID, d.AgentID)
	}
	if d.Scenario != s.sc.ID {
		return nil, 0, fmt.Errorf("decision of run %s: scenario %q is not asked (the run asks %s)", d.RunID, d.Scenario, s.sc.ID)
	}
	ss := &s.sessions[ci*len(s.env.Agents)+ai]
	p := d.Trial - 1 // a schedule lists its trials by position
	if p < 0 || p >= len(ss.sched) {
		return nil, 0, fmt.Errorf("decision of run %s, agent %d: trial %d is not in the agent's schedule", d.RunID, d.AgentID, d.Trial)
	}
	return ss, p, nil
}

// sums are the group of a cell, made when first observed.
func (o *observed) sums(c *study.Cell) *groupSums {
	k := [2]string{c.Backend, c.Condition}
	i, ok := o.group[k]
	if !ok {
		i = len(o.groups)
		o.group[k] = i
		o.groups = append(o.groups, &groupSums{key: k, punished: map[int]bool{}, agents: map[int]bool{}, versions: map[string]bool{}})
	}
	return o.groups[i]
}

// Observe gathers one recorded trial for the analysis.
func (s *tpp) Observe(d store.Decision) error {
	ss, p, err := s.locate(&d)
	if err != nil {
		return err
	}
	o := s.observed()
	if ss.seen == 0 {
		o.order = append(o.order, int32(ss.ix(s)))
	}
	bit := uint64(1) << p
	if ss.seen&bit != 0 {
		return fmt.Errorf("decision of run %s, agent %d: trial %d observed twice", d.RunID, d.AgentID, d.Trial)
	}
	ss.seen |= bit
	g := o.sums(ss.cell)
	t := s.trialAt(ss, p)
	if s.graded {
		if !d.Reply.Valid() {
			return nil
		}
		ss.valid |= bit
		ti := int(ss.sched[p])
		pts := d.Reply.Values["points"] // 0 when absent, as the map reads
		g.sum[ti] += pts
		g.n[ti]++
		if g.byAgent[ti] == nil {
			g.byAgent[ti] = map[int]*agentSum{}
		}
		a := g.byAgent[ti][d.AgentID]
		if a == nil {
			a = &agentSum{}
			g.byAgent[ti][d.AgentID] = a
		}
		a.sum += pts
		a.n++
		if t.x < 50 {
			g.agents[d.AgentID] = true
			if pts > 0 {
				g.punished[d.AgentID] = true
			}
		}
		return nil
	}
	oc := outcomeOf(&d, t)
	if !oc.Valid {
		return nil
	}
	ss.valid |= bit
	g.versions[d.Reply.ModelVersion] = true
	if oc.Punish {
		ss.punished |= bit
	}
	g.valence[t.x-10] += oc.ValenceBefore
	g.valenceN[t.x-10]++
	return nil
}

// ix is the session's index in s.sessions.
func (ss *session) ix(s *tpp) int {
	o := s.observed()
	return o.cells[ss.cell.ID]*len(s.env.Agents) + ss.agent
}

// outcomeOf reads a binary trial's reply as the game scores it.
func outcomeOf(d *store.Decision, t trial) game.TPPOutcome {
	tr := game.Trial{Index: int(t.index), X: int(t.x), Y: int(t.y)}
	if !d.Reply.Valid() {
		return game.TPPOutcomeFrom(d.AgentID, tr, nil, errors.New(orDefault(d.Reply.Invalid, "invalid reply")))
	}
	return game.TPPOutcomeFrom(d.AgentID, tr, d.Reply.Values, nil)
}

// DecisionTables: tpp_trials.csv, one row per recorded trial, made from the trial's
// decision as the pass reads it; the factor columns last, as in decisions.csv.
func (s *tpp) DecisionTables() []study.DecisionTable {
	schema := TrialsSchema
	if s.graded {
		schema = GradedTrialsSchema
	}
	schema = study.WithFactorColumns(schema, s.env.Exp)
	fields := s.valueFields()
	return []study.DecisionTable{{Schema: schema, Rows: func(d store.Decision, emit func([]any) error) error {
		ss, p, err := s.locate(&d)
		if err != nil {
			return err
		}
		t := s.trialAt(ss, p)
		row := make([]any, 0, len(schema.Columns))
		row = append(row, ss.cell.ID, ss.cell.Condition, ss.cell.Replicate, d.AgentID, int(t.index))
		if s.graded {
			row = append(row, int(t.x))
		} else {
			row = append(row, int(t.x), int(t.y))
		}
		valid := d.Reply.Valid()
		for _, f := range fields {
			var v any
			if valid {
				v = d.Reply.Values[f] // 0 when absent, as the map reads
			}
			row = append(row, v)
		}
		row = append(row, valid, table.OneLine(d.Reply.Invalid), d.Reply.ModelVersion)
		for _, l := range ss.cell.Levels {
			row = append(row, l.Level)
		}
		return emit(row)
	}}}
}
