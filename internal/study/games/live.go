package games

import (
	"github.com/prosim/prosim/internal/study"
)

// LiveEstimates are each game's headline measures (the mean choice of each role, the
// overview chart's bars) over the rounds played so far, from analyze, as Analyze computes them.
func (s *gamesStudy) LiveEstimates() (*study.Estimates, error) {
	r := s.analyze()
	if err := s.spill.Err(); err != nil {
		return nil, err
	}
	e := &study.Estimates{
		Title: "Main estimates per game, so far",
		Note: "Provisional: each game's mean choice per role as a share of the endowment, with its 95% interval (games_stats.csv's ci_method: an expanded percentile bootstrap over agents, replicates averaged, or over group-runs), " +
			"over the decisions of the rounds recorded so far; the human reference beside it. The results page gives every measure once the run is complete.",
		Head: []string{"group", "game", "measure", "this run (95% CI)", "n", "human reference"},
	}
	for _, g := range r.groups {
		for _, st := range g.Stats {
			if !st.Headline {
				continue
			}
			e.Rows = append(e.Rows, []string{r.seriesLabel(g), st.Game, st.Measure, pctCI(st.Mean, st.Lo, st.Hi), st.count(), st.HumanText})
		}
	}
	return e, nil
}
