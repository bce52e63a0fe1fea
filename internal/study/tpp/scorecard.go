package tpp

import (
	"math"
	"sort"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
)

const scoreIntro = "Each backend's punishment in the control condition against the 1,017 adults of the same game: RMSE of the punishment rate by Player 2's share x (costs pooled) and by cost y (unfair shares pooled) against the human curves, and the individual-level shares of agents who never punished an unfair share (x < 15) and who punished every unfair share they met (no human figure is published for these two)."

// scorecardRows scores each backend's binary TPP in the control condition (the first); the
// unit of the bootstrap is the agent, with all its trials and replicates.
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
		// shares are the shares of agents in idx with a valid unfair trial who never / always punished one.
		shares := func(idx []int) (never, always float64) {
			var n float64
			for _, i := range idx {
				k, p := units[i].k, units[i].p
				if k == 0 {
					continue
				}
				n++
				if p == 0 {
					never++
				}
				if p == k {
					always++
				}
			}
			if n == 0 {
				return math.NaN(), math.NaN()
			}
			return never / n, always / n
		}
		src := game.HumanTPP.Source
		ms := []struct {
			name   string
			f      func(idx []int) float64
			ref    string
			fitted bool
		}{
			{"tpp_rmse_by_x", func(idx []int) float64 { return game.CompareHuman(pick(idx)).RMSEx }, src, true},
			{"tpp_rmse_by_y", func(idx []int) float64 { return game.CompareHuman(pick(idx)).RMSEy }, src, true},
			{"tpp_never_punish", func(idx []int) float64 { n, _ := shares(idx); return n }, "no published human figure", false},
			{"tpp_always_punish", func(idx []int) float64 { _, a := shares(idx); return a }, "no published human figure", false},
		}
		all := make([]int, len(agents))
		for i := range all {
			all[i] = i
		}
		for _, m := range ms {
			row := scorecard.Row{Backend: g.Backend, ModelVersion: scorecard.Versions(g.versions), Measure: m.name, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(),
				Human: math.NaN(), Reference: m.ref, Fitted: m.fitted}
			if len(agents) > 0 {
				row.Value = m.f(all)
				row.Lo, row.Hi = scorecard.Bootstrap(len(agents), seed.Derive(*s.env.Exp.Seed, "scorecard", g.Backend, m.name), m.f)
			}
			out = append(out, row)
		}
	}
	return out
}

// counts are an agent's valid trials and punishments by (x, y).
type counts struct{ N, Punish [6][10]int }
