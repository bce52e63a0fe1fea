package tpp

import (
	"math"
	"sort"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
)

const scoreIntro = "Each backend's punishment in the control condition against the 1,017 adults of the same game: RMSE of the punishment rate by Player 2's share x (costs pooled) and by cost y (unfair shares pooled) against the human curves, and the individual-level shares of agents who never punished an unfair share (x < 15) and who punished every unfair share they met (no human figure is published for these two)."

// scorecardRows scores each backend's binary TPP in the control condition (the first); the
// unit of the RMSEs' bootstrap (bias-corrected values) is the agent, with all its trials and
// replicates; the shares of agents have Wilson intervals (an agent is one answer).
func (s *tpp) scorecardRows(groups []Group) []scorecard.Row {
	control := s.env.Exp.Conditions[0].Name
	var out []scorecard.Row
	for _, g := range groups {
		if g.Condition != control {
			continue
		}
		// Each agent's trials are summed once: its grid of counts, and its valid unfair trials
		// (k) and those punished (p). A resample adds the grids of its agents (integer counts,
		// so the rates are those of the pooled trials, bit for bit) instead of gathering trials.
		type unit struct {
			grid counts
			k, p int
		}
		byAgent := map[int]*unit{}
		for _, ss := range g.sessions {
			id := s.env.Agents[ss.agent].ID
			u := byAgent[id]
			if u == nil {
				u = &unit{}
				byAgent[id] = u
			}
			s.eachValid([]*session{ss}, func(_ *session, t trial, punished bool) {
				x, y := int(t.x)-game.TPPMinX, int(t.y)-game.TPPMinY
				u.grid.N[x][y]++
				if punished {
					u.grid.Punish[x][y]++
				}
				if t.x < 15 {
					u.k++
					if punished {
						u.p++
					}
				}
			})
		}
		agents := make([]int, 0, len(byAgent))
		for a := range byAgent {
			agents = append(agents, a)
		}
		sort.Ints(agents)
		units := make([]unit, len(agents))
		for i, a := range agents {
			units[i] = *byAgent[a]
		}
		pick := func(idx []int) game.Grid {
			var sum game.Grid
			for _, i := range idx {
				u := &units[i].grid
				for x := range sum.N {
					for y := range sum.N[x] {
						sum.N[x][y] += u.N[x][y]
						sum.Punish[x][y] += u.Punish[x][y]
					}
				}
			}
			for x := range sum.Rate {
				for y := range sum.Rate[x] {
					sum.Rate[x][y] = math.NaN() // as game.TPPGrid: no valid trial
					if n := sum.N[x][y]; n > 0 {
						sum.Rate[x][y] = float64(sum.Punish[x][y]) / float64(n)
					}
				}
			}
			return sum
		}
		// never and always count the agents with a valid unfair trial (n) who never / always
		// punished one.
		var never, always, n int
		for _, u := range units {
			if u.k == 0 {
				continue
			}
			n++
			if u.p == 0 {
				never++
			}
			if u.p == u.k {
				always++
			}
		}
		src := game.HumanTPP.Source
		ms := []struct {
			name string
			f    func(idx []int) float64
		}{
			{"tpp_rmse_by_x", func(idx []int) float64 { return game.CompareHuman(pick(idx)).RMSEx }},
			{"tpp_rmse_by_y", func(idx []int) float64 { return game.CompareHuman(pick(idx)).RMSEy }},
		}
		row := func(measure, estimand, ref string) scorecard.Row {
			return scorecard.Row{Backend: g.Backend, ModelVersion: scorecard.Versions(g.versions), Measure: measure, Estimand: estimand,
				Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Human: math.NaN(), Reference: ref}
		}
		for _, m := range ms {
			rw := row(m.name, scorecard.EstCurveRMSE, src)
			rw.Fitted = true
			// The seed names no backend: the baseline's figures are a builtin run's, and the
			// backends' values are corrected with the same resamples of the agents.
			rw.Value, rw.Lo, rw.Hi = scorecard.BootstrapDistance(len(agents), seed.Derive(*s.env.Exp.Seed, "scorecard", m.name), m.f)
			if !math.IsNaN(rw.Lo) {
				rw.Method = scorecard.BootMethod
			}
			out = append(out, rw)
		}
		// The shares of agents: one answer per agent (never, always, or neither), so Wilson over
		// agents, which a bootstrap would collapse to a point at 0 or 1.
		for _, m := range []struct {
			name string
			k    int
		}{{"tpp_never_punish", never}, {"tpp_always_punish", always}} {
			rw := row(m.name, scorecard.EstAgentShares, "no published human figure")
			if n > 0 {
				rw.Value = float64(m.k) / float64(n)
				rw.Lo, rw.Hi = analysis.ProportionCI(m.k, n, 0.95)
				rw.Method = scorecard.WilsonAgents
			}
			out = append(out, rw)
		}
	}
	return out
}

// counts are an agent's valid trials and punishments by (x, y).
type counts struct{ N, Punish [6][10]int }
