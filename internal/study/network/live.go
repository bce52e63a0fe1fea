package network

import (
	"fmt"

	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
)

// LiveEstimates are the twin effects on willingness by exposure group (network_effects.csv)
// at the last round every world has finished, with their bootstrap CIs: twinStats's effects
// over the rounds folded so far, with the seed Analyze gives them.
func (s *netStudy) LiveEstimates() (*study.Estimates, error) {
	done := max(s.round-1, 0) // s.round is being asked, unless the study ended
	if s.done {
		done = s.round
	}
	e := &study.Estimates{
		Title: "Effect on willingness by exposure group, so far",
		Note: fmt.Sprintf("Provisional: network_effects.csv's %s, at the last round every world has finished (%d of %d), "+
			"with its %g%% bootstrap interval over replicates x agents. The results page gives every round, unfairness, contagion and the placebo once the run is complete.",
			effectEstimand, done, s.cfg.Rounds, 100*effectLevel),
		Head: []string{"inequity", "group", "round", pairsHead, "effect (inequity - control)", "95% CI"},
	}
	if s.agg == nil {
		return e, nil
	}
	for _, c := range s.compare(s.agg.pairs) {
		var aggs []*twinAgg
		for _, p := range s.agg.pairs {
			w := s.worlds[p.w]
			if w.cell.Backend == c.Backend && w.cell.Condition == c.Inequity && w.dist != nil {
				aggs = append(aggs, p.tw)
			}
		}
		last := map[int]EffectRow{}
		for _, r := range effects(aggs, c.Rounds, seed.Derive(s.seed, "effects", c.Label)) {
			if !r.Unfair {
				last[r.G] = r // rows come in round order: the last one stays
			}
		}
		for g := range nEffGroups {
			r, ok := last[g]
			if !ok {
				continue
			}
			e.Rows = append(e.Rows, []string{c.Label, effGroupNames[g], fmt.Sprint(r.Round), fmt.Sprint(r.NAgents), signed(r.Effect), ci(r.Lo, r.Hi)})
		}
	}
	return e, nil
}

func ci(lo, hi float64) string {
	if lo != lo || hi != hi {
		return "-"
	}
	return fmt.Sprintf("[%s, %s]", signed(lo), signed(hi))
}
