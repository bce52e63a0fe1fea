package network

import (
	"fmt"
	"slices"

	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/robust"
	"github.com/prosim/prosim/internal/yamlx"
)

// design: Study 3 varies the scenario's wording, the persona's rendering, the system line
// and the temperature. Each level's inequity cells are paired with the control of the same
// level, and the effects on victims and at distance 1 are re-estimated within each level
// (results/robustness.csv).
var design = study.Design{Factors: []string{"wording", "persona", "system", "temperature"}}

// checkFactors checks the levels that depend on the scenario: every problem at once.
func (s *netStudy) checkFactors() error {
	l := yamlx.NewList(s.env.Doc.Name())
	for i, w := range s.env.Exp.Factors.Wording {
		if _, ok := s.sc.Worded(w); !ok {
			l.Add(s.env.Errorf(fmt.Sprintf("factors.wording[%d]", i), "scenario %s has no wording %q (it has %v; add variants: to its YAML)", s.sc.ID, w, s.sc.Wordings()))
		}
	}
	return l.Err()
}

// robustGroups are the effects whose conclusions robustness.csv checks.
var robustGroups = []int{eVictim, eDist1}

// robustness re-estimates the last day's willingness effects on victims and at distance 1
// within each level of each factor: the twin-design effect and its two-way bootstrap CI
// (effects) over the pairs of that level. Only when the pairs' accumulators are in memory
// (a run, or a replay of a full-store run): a summary run's replay has none.
func (s *netStudy) robustness(cmps []*Comparison, pairs []*pairAgg) []robust.Row {
	fs := s.env.Exp.Factors.List()
	if len(fs) == 0 || s.agg == nil {
		return nil
	}
	last := func(es []EffectRow, g int) robust.Estimate {
		i := slices.IndexFunc(es, func(e EffectRow) bool { return e.G == g && e.Round == s.cfg.Rounds && !e.Unfair })
		if i < 0 {
			return robust.None
		}
		return robust.Estimate{Value: es[i].Effect, Lo: es[i].Lo, Hi: es[i].Hi, P: robust.None.P}
	}
	const estimand = effectEstimand + "; willingness on the last day; significant when its 95% bootstrap CI excludes 0"
	var out []robust.Row
	for _, c := range cmps {
		var within [][]robust.Estimate // by factor-level (in order), then group
		for _, f := range fs {
			for _, l := range f.Levels {
				var aggs []*twinAgg
				for _, p := range pairs {
					w := s.env.Cells[p.w]
					if w.Backend == c.Backend && w.Condition == c.Inequity && w.Level(f.Name) == l {
						aggs = append(aggs, p.tw)
					}
				}
				es := effects(aggs, c.Rounds, seed.Derive(s.seed, "effects", c.Label, f.Name, l))
				var row []robust.Estimate
				for _, g := range robustGroups {
					row = append(row, last(es, g))
				}
				within = append(within, row)
			}
		}
		for gi, g := range robustGroups {
			claim := robust.Claim{Backend: c.Backend, Condition: c.Inequity, Estimand: estimand, Pooled: last(c.Effects, g),
				Name: fmt.Sprintf("willingness effect on %s, day %d", effGroupNames[g], c.Rounds)}
			k := 0
			for _, f := range fs {
				for _, l := range f.Levels {
					out = append(out, robust.Row{Claim: claim, Factor: f.Name, Level: l, Within: within[k][gi]})
					k++
				}
			}
		}
	}
	return out
}
