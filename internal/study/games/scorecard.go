package games

import (
	"context"
	"math"
	"slices"
	"sort"

	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
)

// scorecardRows compares each backend's dictator gifts in the control condition (the first:
// the human figures were measured without a policy frame) with the human distribution. The
// unit of the bootstrap is the agent: its replicates stay together.
func (s *gamesStudy) scorecardRows(r *results) ([]scorecard.Row, error) {
	ref, err := scorecard.HumanDictator()
	if err != nil {
		return nil, err
	}
	h := game.HumanDictator
	control := s.env.Exp.Conditions[0].Name
	var out []scorecard.Row
	for _, b := range s.scoredBackends() {
		for _, in := range r.inst {
			if in.Game != "dictator" {
				continue
			}
			by := map[int][]float64{} // agent -> gift shares
			versions := map[string]bool{}
			if b == scorecard.Baseline {
				if by, err = s.baselineGifts(r, in, control); err != nil {
					return nil, err
				}
				versions[behavioral.Version] = true
			}
			for _, g := range r.ms {
				if g.cell.Backend != b || g.cell.Condition != control || g.in.Name != in.Name {
					continue
				}
				for _, rw := range g.m.rows() {
					if rw.role == "dictator" && rw.valid {
						by[rw.agent] = append(by[rw.agent], rw.choice/in.Endowment)
						versions[rw.version] = true
					}
				}
			}
			agents := make([]int, 0, len(by))
			for a := range by {
				agents = append(agents, a)
			}
			sort.Ints(agents)
			// dist is the decile distribution of the gifts of the agents idx; nothing, half
			// the shares giving nothing and exactly half.
			stats := func(idx []int) (dist []float64, nothing, half float64) {
				dist = make([]float64, len(ref.Share))
				var n float64
				for _, i := range idx {
					for _, v := range by[agents[i]] {
						dist[int(math.Round(10*v))]++
						n++
						if v == 0 {
							nothing++
						}
						if v == 0.5 {
							half++
						}
					}
				}
				return dist, nothing / n, half / n
			}
			all := make([]int, len(agents))
			for i := range all {
				all[i] = i
			}
			measures := []struct {
				name   string
				f      func(idx []int) float64
				human  float64
				fitted bool
			}{
				{"dictator_js_distance", func(idx []int) float64 {
					d, _, _ := stats(idx)
					v, err := scorecard.JSDistance(d, ref.Proportion)
					if err != nil {
						return math.NaN()
					}
					return v
				}, math.NaN(), true},
				{"dictator_wasserstein", func(idx []int) float64 {
					d, _, _ := stats(idx)
					v, err := scorecard.Wasserstein(d, ref.Proportion, ref.Share)
					if err != nil {
						return math.NaN()
					}
					return v
				}, math.NaN(), true},
				{"dictator_give_nothing", func(idx []int) float64 { _, z, _ := stats(idx); return z }, h.GiveNothing, false},
				{"dictator_give_half", func(idx []int) float64 { _, _, x := stats(idx); return x }, h.GiveHalf, false},
			}
			prefix := ""
			if in.Name != "dictator" {
				prefix = in.Name + ":"
			}
			for _, m := range measures {
				row := scorecard.Row{Backend: b, ModelVersion: scorecard.Versions(versions), Measure: prefix + m.name, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(),
					Human: m.human, Reference: ref.Source, Fitted: m.fitted}
				if len(agents) > 0 {
					row.Value = m.f(all)
					row.Lo, row.Hi = scorecard.Bootstrap(len(agents), seed.Derive(*s.env.Exp.Seed, "scorecard", b, in.Name, m.name), m.f)
				}
				out = append(out, row)
			}
		}
	}
	return out, nil
}

const scoreIntro = "Each backend's dictator gifts in the control condition against the human distribution: Jensen-Shannon distance between the gift distributions by decile of the pie (0 = identical, 1 = disjoint; base-2 logarithms), Wasserstein distance (how far, in shares of the pie, the gifts must move to match the human ones), and the shares of dictators giving nothing and exactly half."

// scoredBackends are the run's backends, and the behavioural model's baseline when none of
// them is the behavioural model.
func (s *gamesStudy) scoredBackends() []string {
	if s.env.Estimate || len(s.env.Cells) == 0 ||
		slices.ContainsFunc(s.env.Exp.Backends, func(b experiment.Backend) bool { return b.Provider == "builtin" }) {
		return s.env.Backends
	}
	return append(slices.Clone(s.env.Backends), scorecard.Baseline)
}

// baselineGifts are the behavioural model's dictator gifts (shares of the endowment, by
// agent) in the control condition, computed in the analysis so the scorecard shows its value
// beside each LLM's: the first backend's control cells (the first combination of factor
// levels) asked again of the embedded model with the very requests and seeds the run used.
// The model reads the structured situation only: milliseconds.
func (s *gamesStudy) baselineGifts(r *results, in GameInstance, control string) (map[int][]float64, error) {
	first := s.env.Cells[0]
	m := behavioral.New()
	by := map[int][]float64{}
	for _, g := range r.ms {
		if g.cell.Backend != first.Backend || g.cell.Condition != control || g.in.Name != in.Name || !slices.Equal(g.cell.Levels, first.Levels) {
			continue
		}
		d, ok := g.m.(*dictatorM)
		if !ok {
			continue
		}
		base := d.gameBase // a copy: ask records the key it makes in the copy, not the run's machine
		for _, id := range base.ids {
			build, _ := base.ask("dictator", id, 1, g.in.Index, terms(g.in), nil, "")
			t, err := build()
			if err != nil {
				return nil, err
			}
			rep, err := m.Decide(context.Background(), t.Req)
			if err != nil {
				return nil, err
			}
			if rep = t.Split(rep)[0]; rep.Valid() {
				by[id] = append(by[id], rep.Values["give"]/in.Endowment)
			}
		}
	}
	return by, nil
}
