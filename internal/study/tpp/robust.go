package tpp

import (
	"slices"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/robust"
)

// slopeEstimand is how a slope of robustness.csv is estimated and judged.
const slopeEstimand = "coefficient of the logistic regression punish ~ inequity (15 - x) + cost (y), SEs clustered by agent; significant when its Wald p < 0.05"

// slopes are the claims Study 2's robustness checks: the logit's two slopes.
var slopes = []struct{ coef, claim string }{{"inequity", "inequity slope (log-odds per $ below an equal split)"}, {"cost", "cost slope (log-odds per $ of cost)"}}

// coefOf is a fitted coefficient as an estimate; None when the fit failed.
func coefOf(f *analysis.LogitFit, name string) robust.Estimate {
	if f == nil {
		return robust.None
	}
	i := slices.Index(f.Names, name)
	if i < 0 {
		return robust.None
	}
	return robust.Estimate{Value: f.Coef[i], Lo: f.CILow[i], Hi: f.CIHigh[i], P: f.P[i]}
}

// robustness refits each group's logit within each level of each factor (binary variant):
// do the inequity and cost slopes keep their sign and significance in every level?
func (s *tpp) robustness(groups []Group) []robust.Row {
	fs := s.env.Exp.Factors.List()
	if len(fs) == 0 || s.graded {
		return nil
	}
	var out []robust.Row
	for _, g := range groups {
		for _, sl := range slopes {
			claim := robust.Claim{Backend: g.Backend, Condition: g.Condition, Name: sl.claim, Estimand: slopeEstimand, Pooled: coefOf(g.Logit, sl.coef)}
			for _, f := range fs {
				for _, l := range f.Levels {
					// The group's trials in the cells at level l of factor f.
					fit, _ := s.logit(g.sessions, func(c *study.Cell) bool { return c.Level(f.Name) == l })
					out = append(out, robust.Row{Claim: claim, Factor: f.Name, Level: l, Within: coefOf(fit, sl.coef)})
				}
			}
		}
	}
	return out
}
