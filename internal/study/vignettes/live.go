package vignettes

import (
	"fmt"
	"math"

	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/study"
)

// LiveEstimates are the cell means of vignette_means.csv over the decisions recorded so far
// (handed to Observe), computed by the analysis's own agentMeans and cells.
func (s *vignettes) LiveEstimates() (*study.Estimates, error) {
	gs := groups(s.items)
	e := &study.Estimates{
		Title: gs[0].m.What() + " by scenario x condition, so far",
		Note: "Provisional: vignette_means.csv's " + estimand + " with its 95% interval over agents (its ci_method: an expanded percentile bootstrap, or Wilson for a share of agents who answered once), over the decisions recorded so far " +
			"(an agent's replicates averaged first). The results page gives the final table and the contrasts once the run is complete.",
		Head: []string{"backend", "scenario", "condition", "agents", "mean", "95% CI"},
	}
	if len(gs) > 1 { // several measures: each row names its field (vignette_means.csv's column)
		e.Title = "Means (shares for choice options) by scenario x field x condition, so far"
		e.Head = []string{"backend", "scenario", "field", "condition", "agents", "mean", "95% CI"}
	}
	order, counts, am, once := s.agentMeans()
	for _, c := range s.cells(order, counts, am, once) {
		mean, ci := "-", "-"
		if !math.IsNaN(c.Mean) {
			mean = report.F2(c.Mean)
		}
		if c.Method != "" {
			ci = fmt.Sprintf("[%s, %s]", report.F2(c.Lo), report.F2(c.Hi))
		}
		row := []string{c.Backend, c.Scenario, c.Condition, fmt.Sprint(c.Agents), mean, ci}
		if len(gs) > 1 {
			row = []string{c.Backend, c.Scenario, c.Field, c.Condition, fmt.Sprint(c.Agents), mean, ci}
		}
		e.Rows = append(e.Rows, row)
	}
	return e, nil
}
