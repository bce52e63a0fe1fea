package tpp

import (
	"fmt"

	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/study"
)

// LiveEstimates are the analysis's punishment rates by inequity (binary trials) or mean
// points by transfer (graded), over the trials recorded so far: the groups are computed by
// binaryGroups and gradedGroups, as Analyze computes them.
func (s *tpp) LiveEstimates() (*study.Estimates, error) {
	multi := len(s.env.Exp.Conditions) > 1
	if s.graded {
		e := &study.Estimates{
			Title: "Punishment points by transfer, so far",
			Note: "Provisional: for each group and transfer, the mean over agents of each agent's mean points over the trials recorded so far, " +
				"with its 95% interval, an expanded percentile bootstrap over agents (the results page's graded table, on part of the data).",
			Head: []string{"group", "transfer", "agents", "mean points", "95% CI"},
		}
		for _, g := range s.gradedGroups(multi) {
			for _, t := range g.Transfers {
				e.Rows = append(e.Rows, []string{g.Label, fmt.Sprint(t.Transfer), fmt.Sprint(t.Agents), report.F2(t.AgentMean), ci(t.Lo, t.Hi, t.Agents)})
			}
		}
		return e, nil
	}
	e := &study.Estimates{
		Title: "Punishment rate by inequity, so far",
		Note: "Provisional: for each group and inequity (dollars below an equal split, 15 - x), the share of valid trials recorded so far in which the agent punished, " +
			"every cost pooled, with its 95% interval over agents (tpp_rates.csv's ci_method: a bootstrap resampling agents with their trials, which are correlated; " +
			"Wilson over agents at a rate of 0 or 1) (the results page's rates by x, on part of the data).",
		Head: []string{"group", "inequity 15 - x ($)", "valid trials", "punishment rate", "95% CI over agents"},
	}
	for _, g := range s.binaryGroups(multi) {
		for x := len(g.ByX) - 1; x >= 0; x-- { // inequity ascending
			r := g.ByX[x]
			if r.Trials == 0 {
				continue
			}
			e.Rows = append(e.Rows, []string{g.Label, fmt.Sprint(5 - x), fmt.Sprint(r.Trials), report.F2(r.Rate), ci(r.Lo, r.Hi, 2)})
		}
	}
	return e, nil
}

func ci(lo, hi float64, n int) string {
	if n < 2 || lo != lo || hi != hi {
		return "-"
	}
	return fmt.Sprintf("[%s, %s]", report.F2(lo), report.F2(hi))
}
