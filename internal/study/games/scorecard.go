package games

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
)

// scorecardRows compares each backend's dictator gifts in the control condition (the first:
// the human figures were measured without a policy frame) with the human distribution, in the
// dictator games of the standard framing only (customFraming: the human figures are of it). The
// distances are the scorecard's own, bias-corrected and bootstrapped over agents (an agent's
// replicates stay together); the shares giving nothing and half are games_stats.csv's,
// estimate and interval (the baseline's computed by the same dictatorStats).
func (s *gamesStudy) scorecardRows(r *results) ([]scorecard.Row, error) {
	ref, err := scorecard.HumanDictator()
	if err != nil {
		return nil, err
	}
	control := s.env.Exp.Conditions[0].Name
	var out []scorecard.Row
	for _, b := range s.scoredBackends() {
		for _, in := range r.inst {
			if in.Game != "dictator" || customFraming(in) != "" {
				continue
			}
			var rows []gameRow // the valid dictator decisions scored
			var own []GameStat // games_stats' statistics of them
			if b == scorecard.Baseline {
				if rows, err = s.baselineRows(r, in, control); err != nil {
					return nil, err
				}
				own = dictatorStats(in, rows, s.statsSeed(b, control, in.Name), s.giftStep(in))
			} else {
				for _, g := range r.ms {
					if g.cell.Backend != b || g.cell.Condition != control || g.in.Name != in.Name {
						continue
					}
					for rw := range g.m.rows() {
						if rw.role == "dictator" && rw.valid {
							rows = append(rows, gameRow{row: rw, runID: g.cell.ID, game: in.Name})
						}
					}
				}
				for _, g := range r.groups {
					if g.Backend == b && g.Condition == control {
						for _, st := range g.Stats {
							if st.Game == in.Name {
								own = append(own, st)
							}
						}
					}
				}
			}
			by := map[int][]float64{} // agent -> gift shares
			versions := map[string]bool{}
			for _, rw := range rows {
				by[rw.agent] = append(by[rw.agent], rw.choice/in.Endowment)
				versions[rw.version] = true
			}
			agents := make([]int, 0, len(by))
			for a := range by {
				agents = append(agents, a)
			}
			sort.Ints(agents)
			// dist is the decile distribution of the gifts of the agents idx.
			dist := func(idx []int) []float64 {
				d := make([]float64, len(ref.Share))
				for _, i := range idx {
					for _, v := range by[agents[i]] {
						d[int(math.Round(10*v))]++
					}
				}
				return d
			}
			distances := []struct {
				name string
				f    func(idx []int) float64
			}{
				{"dictator_js_distance", func(idx []int) float64 {
					v, err := scorecard.JSDistance(dist(idx), ref.Proportion)
					if err != nil {
						return math.NaN()
					}
					return v
				}},
				{"dictator_wasserstein", func(idx []int) float64 {
					v, err := scorecard.Wasserstein(dist(idx), ref.Proportion, ref.Share)
					if err != nil {
						return math.NaN()
					}
					return v
				}},
			}
			prefix := ""
			if in.Name != "dictator" {
				prefix = in.Name + ":"
			}
			row := func(measure string) scorecard.Row {
				return scorecard.Row{Backend: b, ModelVersion: scorecard.Versions(versions), Measure: prefix + measure,
					Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Human: math.NaN(), Reference: ref.Source}
			}
			for _, m := range distances {
				rw := row(m.name)
				rw.Estimand, rw.Fitted = scorecard.EstDistance, true
				// The seed names no backend: the baseline's figures are a builtin run's, and the
				// backends' values are corrected with the same resamples of the agents.
				rw.Value, rw.Lo, rw.Hi = scorecard.BootstrapDistance(len(agents), seed.Derive(*s.env.Exp.Seed, "scorecard", in.Name, m.name), m.f)
				if !math.IsNaN(rw.Lo) {
					rw.Method = scorecard.BootMethod
				}
				out = append(out, rw)
			}
			for _, m := range []struct{ name, stat string }{{"dictator_give_nothing", measGaveNothing}, {"dictator_give_half", measGaveHalf}} {
				if m.stat == measGaveHalf && !halfGiftable(in.Endowment, s.giftStep(in)) {
					continue // no gift can be half: not a finding about behaviour (unscored says so)
				}
				rw := row(m.name)
				rw.Estimand = estDecisions
				for _, st := range own {
					if st.Measure == m.stat {
						rw.Value, rw.Lo, rw.Hi, rw.Method, rw.Human = st.Mean, st.Lo, st.Hi, st.Method, st.Human
					}
				}
				out = append(out, rw)
			}
		}
	}
	return out, nil
}

// unscored says which dictator games the scorecard leaves out, as custom framings, and whose
// dictator_give_half it leaves out, as no gift can be half the endowment; "" when none.
func (s *gamesStudy) unscored(r *results) string {
	var out, half []string
	for _, in := range r.inst {
		if in.Game == "dictator" && customFraming(in) == "" && !halfGiftable(in.Endowment, s.giftStep(in)) {
			half = append(half, fmt.Sprintf("%s (endowment %g)", in.Name, in.Endowment))
		}
	}
	var note string
	if len(half) > 0 {
		note = "Not scored, dictator_give_half of " + strings.Join(half, ", ") + ": no gift can be exactly half the endowment."
	}
	for _, in := range r.inst {
		if f := customFraming(in); in.Game == "dictator" && f != "" {
			if f != in.Name {
				f = in.Name + " (" + f + ")"
			}
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return note
	}
	return strings.TrimSpace("Not scored, as custom framings (the human figures are of the standard game): " + strings.Join(out, ", ") + ". " + note)
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

// baselineRows are the behavioural model's valid dictator decisions in the control condition, computed in the analysis so the scorecard shows its value
// beside each LLM's: the first backend's control cells (the first combination of factor
// levels) asked again of the embedded model with the very requests and seeds the run used.
// The model reads the structured situation only: milliseconds.
func (s *gamesStudy) baselineRows(r *results, in GameInstance, control string) ([]gameRow, error) {
	first := s.env.Cells[0]
	m := behavioral.New()
	var rows []gameRow
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
			build, _ := base.ask("dictator", id, 1, g.in.Index, func() (map[string]float64, map[string]float64) { return terms(g.in), nil }, "")
			t, err := build.build()
			if err != nil {
				return nil, err
			}
			rep, err := m.Decide(context.Background(), t.Req)
			if err != nil {
				return nil, err
			}
			if rep = t.Split(rep)[0]; rep.Valid() {
				rows = append(rows, gameRow{row: row{round: 1, agent: id, role: "dictator", choice: rep.Values["give"], valid: true, version: rep.ModelVersion},
					runID: g.cell.ID, game: in.Name})
			}
		}
	}
	return rows, nil
}
