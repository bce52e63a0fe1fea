package network

import (
	"fmt"
	"math"

	"github.com/prosim/prosim/internal/report"
)

// twinFigures fills the section's effects and contagion charts and tables of comparison c:
// the same rows as the summary (Comparison.Effects, Comparison.Contagion).
func (r *results) twinFigures(c *Comparison, f *figComparison, sfx string) {
	rounds := c.shownRounds()
	f.EffHead = []string{"group", effPairsHead}
	f.ContHead = []string{"group"}
	for _, t := range rounds {
		f.EffHead = append(f.EffHead, fmt.Sprintf("r%d", t))
		f.ContHead = append(f.ContHead, fmt.Sprintf("r%d", t))
	}
	for _, unfair := range []bool{false, true} {
		name, sc := "willingness", r.s.wScale
		if unfair {
			name, sc = "unfairness", r.s.uScale
		}
		sm := report.SmallMultiples{Title: "Effect on " + name + " against the control twin" + sfx, XLabel: "Round (day)",
			YLabel: fmt.Sprintf("Inequity minus twin (points, %s)", sc.span()), XTicks: roundTicks(c.Rounds), LegendTitle: "Estimate"}
		var rows [][]string
		for g := range eDist2Changed { // the exposure groups; the split of distance 2 is in the table
			// One panel per group, so the CIs of neighbouring groups do not overlap.
			ser := report.Series{Name: "effect, 95% CI", Color: report.Palette[0], Marker: "circle"}
			for t := 1; t <= c.Rounds; t++ {
				if e, ok := c.Effect(g, t, unfair); ok {
					ser.X = append(ser.X, float64(t))
					ser.Y, ser.Lo, ser.Hi = append(ser.Y, e.Effect), append(ser.Lo, e.Lo), append(ser.Hi, e.Hi)
				}
			}
			if len(ser.X) > 0 {
				zero := report.Series{Name: "no effect", X: []float64{0.5, float64(c.Rounds) + 0.5}, Y: []float64{0, 0}, Color: "#888888", Dashed: true, Marker: "none", Reference: true}
				sm.Panels = append(sm.Panels, report.LineChart{Title: effGroupNames[g], Series: []report.Series{zero, ser}})
			}
		}
		for g := range nEffGroups {
			if n, cells, ok := c.effectLine(g, unfair, rounds); ok {
				rows = append(rows, append([]string{effGroupNames[g], n}, cells...))
			}
		}
		if unfair {
			f.UEffects, f.UEffRows = sm, rows
		} else {
			f.Effects, f.EffRows = sm, rows
		}
	}
	f.EffectNote = fmt.Sprintf("Each cell is the %s, with its 95%% percentile CI from a two-way bootstrap (%d resamples) that resamples replicates and, independently, agents (above %d agents, blocks of agents); the same numbers as the printed summary and results/%s.csv. The column %q counts the pairs of each round with both decisions valid; a range gives the fewest and the most of the rounds shown (a round without any is a \"-\" and counts 0): the distance_2_changed and distance_2_unchanged groups are re-formed every round, as each distance-2 agent x replicate pair is in one of them according to its distance-1 neighbours the round before.",
		effectEstimand, c.BootReps, maxBuckets, EffectsSchema.Name, effPairsHead)
	if note := c.roundsNote(); note != "" {
		f.EffectNote += " The " + note + "."
	}

	// Contagion: the all-agents curve beside its placebo, then by group; each axis fitted
	// to its data (a share under 8% is not drawn on 0-100%).
	x := func(g int) report.Series {
		return report.Series{Name: groupKeys[g], Color: report.Palette[g%len(report.Palette)], Marker: "circle"}
	}
	pct0 := func(v float64) string { return fmt.Sprintf("%.3g%%", 100*v) }
	all, pl := x(gAll), report.Series{Name: "placebo", Color: "#555555", Dashed: true, Marker: "open"}
	all.Name = c.Inequity
	var byGroup []report.LineChart // one panel per group: ten overlaid lines could not be read
	top := 0.0
	for _, g := range []int{gVictims, gDist1, gDist2, gDist3, gUnreachable} {
		s, p := x(gAll), pl
		s.Name = c.Inequity
		top := 0.0
		for t := c.From; t <= c.Rounds; t++ {
			if row, ok := c.ContagionAt(g, t); ok {
				s.X, s.Y = append(s.X, float64(t)), append(s.Y, row.Share)
				p.X, p.Y = append(p.X, float64(t)), append(p.Y, row.PlaceboShare)
				top = math.Max(top, math.Max(nz(row.Share), nz(row.PlaceboShare)))
			}
		}
		if len(s.X) > 0 {
			// Each panel's axis fits its group: 60% of victims and 3% at distance 2 on one axis
			// would flatten distance 2.
			byGroup = append(byGroup, report.LineChart{Title: groupKeys[g], Series: []report.Series{p, s}, Y0: 0, Y1: niceTop(top)})
		}
	}
	for t := c.From; t <= c.Rounds; t++ {
		if row, ok := c.ContagionAt(gAll, t); ok {
			all.X, all.Y = append(all.X, float64(t)), append(all.Y, row.Share)
			pl.X, pl.Y = append(pl.X, float64(t)), append(pl.Y, row.PlaceboShare)
			top = math.Max(top, math.Max(nz(row.Share), nz(row.PlaceboShare)))
		}
	}
	f.Contagion = report.LineChart{Title: "Contagion curve beside its placebo" + sfx, XLabel: "Round (day)", YLabel: "Agents affected (% of all)",
		Y0: 0, Y1: niceTop(top), XTicks: roundTicks(c.Rounds), YFormat: pct0, Series: []report.Series{pl, all}} // the placebo first, under the inequity line
	f.ByGroup = report.SmallMultiples{Title: "Affected by exposure group" + sfx, XLabel: "Round (day)", YLabel: "Agents affected (% of group)",
		XTicks: roundTicks(c.Rounds), YFormat: pct0, Panels: byGroup, LegendTitle: "Labelled on", Columns: 3}
	f.ContRows = contagionRows(c, rounds)
	test, perm := "permutation p-value of spread at that distance", fmt.Sprintf("%d random placements of as many victims in each replicate", c.Perms)
	if c.SignFlip {
		test = "p-value of spread at that distance from " + signFlipName
	}
	switch {
	case c.Perms == noPlacements:
		perm = noPlacementsWhy
	case c.SignFlip:
		perm = c.signFlipRef()
	case c.Perms == 0:
		perm = "read back from results/" + ContagionSchema.Name + ".csv"
	}
	f.ContNote = fmt.Sprintf("Each cell: the %s, the placebo's share in parentheses, and the one-sided %s, on the willingness effect (%s). The same numbers as the printed summary and results/%s.csv.",
		contagionEstimand, test, perm, ContagionSchema.Name)
}

func nz(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// niceTop is the axis top for shares up to v: the next of 1, 2, 2.5, 5 x 10^k above v (with
// a little room), at most 100%, and 1% when there is nothing to show.
func niceTop(v float64) float64 {
	if v <= 0 {
		return 0.01
	}
	v *= 1.1
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return math.Min(1, m*p)
		}
	}
	return 1
}
