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
		by := map[int][]game.TPPOutcome{}
		for _, o := range g.Outcomes {
			by[o.Agent] = append(by[o.Agent], o)
		}
		agents := make([]int, 0, len(by))
		for a := range by {
			agents = append(agents, a)
		}
		sort.Ints(agents)
		pick := func(idx []int) []game.TPPOutcome {
			var os []game.TPPOutcome
			for _, i := range idx {
				os = append(os, by[agents[i]]...)
			}
			return os
		}
		// shares are the shares of agents in idx with a valid unfair trial who never / always punished one.
		shares := func(idx []int) (never, always float64) {
			var n float64
			for _, i := range idx {
				k, p := 0, 0
				for _, o := range by[agents[i]] {
					if o.Valid && o.Trial.X < 15 {
						k++
						if o.Punish {
							p++
						}
					}
				}
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
			{"tpp_rmse_by_x", func(idx []int) float64 { return game.CompareHuman(game.TPPGrid(pick(idx))).RMSEx }, src, true},
			{"tpp_rmse_by_y", func(idx []int) float64 { return game.CompareHuman(game.TPPGrid(pick(idx))).RMSEy }, src, true},
			{"tpp_never_punish", func(idx []int) float64 { n, _ := shares(idx); return n }, "no published human figure", false},
			{"tpp_always_punish", func(idx []int) float64 { _, a := shares(idx); return a }, "no published human figure", false},
		}
		all := make([]int, len(agents))
		for i := range all {
			all[i] = i
		}
		for _, m := range ms {
			row := scorecard.Row{Backend: g.Backend, Measure: m.name, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(),
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
