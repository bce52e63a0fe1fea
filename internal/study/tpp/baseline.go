package tpp

import (
	"context"
	"slices"

	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/scorecard"
)

// baseline is the behavioural model's control-condition group, computed in the analysis when
// no backend of the run is the behavioural model, so the scorecard shows its value beside
// each LLM's: the trials of the first backend's control cells (the first combination of
// factor levels), asked of the embedded model with the very requests and seeds the run used.
// The model reads the structured situation only, so this costs a few milliseconds per
// thousand trials. nil with a builtin backend, in the graded variant, or on an estimate.
func (s *tpp) baseline() (*Group, error) {
	if s.graded || s.env.Estimate || len(s.env.Cells) == 0 ||
		slices.ContainsFunc(s.env.Exp.Backends, func(b experiment.Backend) bool { return b.Provider == "builtin" }) {
		return nil, nil
	}
	control, first := s.env.Exp.Conditions[0].Name, s.env.Cells[0]
	m := behavioral.New()
	g := &Group{Backend: scorecard.Baseline, Condition: control, Label: label(scorecard.Baseline, control, false),
		versions: map[string]bool{behavioral.Version: true}}
	for i := range s.sessions {
		ss := &s.sessions[i]
		c := ss.cell
		if c.Backend != first.Backend || c.Condition != control || !slices.Equal(c.Levels, first.Levels) {
			continue
		}
		// The model's answers in a session of their own (its masks), as Observe reads a reply.
		b := &session{cell: c, agent: ss.agent, sched: ss.sched}
		for p := range ss.sched {
			t := s.trialAt(ss, p)
			tk, err := s.task(ss, t)
			if err != nil {
				return nil, err
			}
			rep, err := m.Decide(context.Background(), tk.Req)
			if err != nil {
				return nil, err
			}
			tr := game.Trial{Index: int(t.index), X: int(t.x), Y: int(t.y)}
			o := game.TPPOutcomeFrom(s.env.Agents[ss.agent].ID, tr, rep.Values, nil)
			b.seen |= 1 << p
			if o.Valid {
				b.valid |= 1 << p
				if o.Punish {
					b.punished |= 1 << p
				}
			}
		}
		g.sessions = append(g.sessions, b)
	}
	return g, nil
}
