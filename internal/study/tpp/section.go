package tpp

import (
	_ "embed"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/report"
)

//go:embed section.html.tmpl
var sectionSrc string

var sectionTmpl = template.Must(template.New("study2").Funcs(report.Funcs).Parse(sectionSrc))

type heat struct {
	Chart  report.HeatMap
	Label  string
	Trials int
}

// view is what the section template draws; every number comes from results.
type view struct {
	Binary       bool
	Source       string
	Heat         []heat
	ByX, ByY     report.LineChart
	RateMethods  string // the rates' interval methods: "expanded percentile bootstrap over agents"
	RMSE, Means  [][]string
	Logit        [][]string
	LogitNotes   []string
	Graded       *report.LineChart
	GradedSource string
	None         bool
}

func (r *results) section(fig *report.Figures) (template.HTML, error) {
	v := view{Binary: len(r.Groups) > 0, Source: game.HumanTPP.Source, GradedSource: game.HumanGraded.Source}
	if v.Binary {
		r.binaryView(&v)
	}
	if len(r.Graded) > 0 {
		c := r.gradedChart()
		v.Graded = &c
	}
	v.None = !v.Binary && v.Graded == nil
	return report.Exec(sectionTmpl, v, fig)
}

func (r *results) binaryView(v *view) {
	var byX, byY []report.Series
	var methods []string
	for gi, g := range r.Groups {
		hm := report.HeatMap{
			Title:  "Punishment rate by share and cost: " + g.Label,
			XLabel: "Cost of punishing y ($)",
			YLabel: "Player 2's share x of $30 ($)",
			ZLabel: "Punishment rate (% of trials)",
			Z0:     0, Z1: 1, ZFormat: func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
		}
		for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
			hm.XCats = append(hm.XCats, fmt.Sprint(y))
		}
		totalN := 0
		for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
			lab := fmt.Sprint(x)
			if x == game.TPPMaxX {
				lab += " (fair)"
			}
			hm.YCats = append(hm.YCats, lab)
			row := make([]float64, 0, 10)
			for y := 0; y < 10; y++ {
				row = append(row, g.Grid.Rate[x-game.TPPMinX][y])
				totalN += g.Grid.N[x-game.TPPMinX][y]
			}
			hm.Z = append(hm.Z, row)
		}
		v.Heat = append(v.Heat, heat{Chart: hm, Label: g.Label, Trials: totalN})

		col := report.Palette[gi%len(report.Palette)]
		sx := report.Series{Name: g.Label, Color: col}
		for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
			rt := g.ByX[x-game.TPPMinX]
			sx.X, sx.Y, sx.Lo, sx.Hi = append(sx.X, float64(game.TPPMaxX-x)), append(sx.Y, rt.Rate), append(sx.Lo, rt.Lo), append(sx.Hi, rt.Hi)
		}
		byX = append(byX, sx)
		for _, rt := range append(g.ByX[:], g.ByY[:]...) {
			if rt.Method != "" && !slices.Contains(methods, rt.Method) {
				methods = append(methods, rt.Method)
			}
		}
		sy := report.Series{Name: g.Label, Color: col}
		for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
			rt := g.ByY[y-game.TPPMinY]
			sy.X, sy.Y, sy.Lo, sy.Hi = append(sy.X, float64(y)), append(sy.Y, rt.Rate), append(sy.Lo, rt.Lo), append(sy.Hi, rt.Hi)
		}
		byY = append(byY, sy)
		v.RMSE = append(v.RMSE, []string{g.Label, rmseText(g.Human.RMSEx), rmseText(g.Human.RMSEy)})
		m := g.Means
		v.Means = append(v.Means, []string{m.Group, report.F2(m.UnfairLow), report.F2(m.UnfairHigh), report.F2(m.FairLow), report.F2(m.FairHigh), fmt.Sprint(m.N)})

		if g.Logit == nil {
			if g.FitErr != nil {
				v.LogitNotes = append(v.LogitNotes, fmt.Sprintf("%s: not fitted (%v)", g.Label, g.FitErr))
			}
			continue
		}
		l := g.Logit
		for i, name := range l.Names {
			v.Logit = append(v.Logit, []string{g.Label, name, fmt.Sprintf("%.3f", l.Coef[i]), fmt.Sprintf("%.3f", l.SE[i]), fmt.Sprintf("%.2f", l.Z[i]), pval(l.P[i]),
				fmt.Sprintf("[%.3f, %.3f]", l.CILow[i], l.CIHigh[i]), fmt.Sprintf("%d / %d", l.N, l.NClusters)})
		}
	}
	for _, h := range game.HumanTPP.Groups {
		v.Means = append(v.Means, []string{"reference: " + h.Group, report.F2(h.UnfairLow), report.F2(h.UnfairHigh), report.F2(h.FairLow), report.F2(h.FairHigh), fmt.Sprint(h.N)})
	}
	hx := report.Series{Name: "Humans (n = 1,017)", Color: report.HumanColor, Dashed: true, Marker: "open", Reference: true}
	for x := game.TPPMinX; x < game.TPPMaxX; x++ {
		hx.X, hx.Y = append(hx.X, float64(game.TPPMaxX-x)), append(hx.Y, game.HumanTPP.RateByX[x])
	}
	hy := report.Series{Name: "Humans (n = 1,017)", Color: report.HumanColor, Dashed: true, Marker: "open", Reference: true}
	for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
		hy.X, hy.Y = append(hy.X, float64(y)), append(hy.Y, game.HumanTPP.RateByY[y])
	}
	v.RateMethods = "none: fewer than 2 agents with a valid answer"
	if len(methods) > 0 {
		slices.Sort(methods)
		v.RateMethods = strings.Join(methods, " or ")
	}
	pct := func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
	v.ByX = report.LineChart{
		Title:  "Punishment rises with inequity",
		XLabel: "Inequity 15 - x ($ below an equal split; 0 = fair control)",
		YLabel: "Punishment rate (% of trials)",
		X0:     0, X1: 5, Y0: 0, Y1: 1, XTicks: []float64{0, 1, 2, 3, 4, 5}, YFormat: pct,
		Series: append(byX, hx),
	}
	v.ByY = report.LineChart{
		Title:  "Punishment falls with cost",
		XLabel: "Cost of punishing y ($ of the agent's $10)",
		YLabel: "Punishment rate (% of trials)",
		X0:     0, X1: 9, Y0: 0, Y1: 1, XTicks: []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, YFormat: pct,
		Series: append(byY, hy),
	}
}

func (r *results) gradedChart() report.LineChart {
	var ss []report.Series
	for gi, g := range r.Graded {
		s := report.Series{Name: g.Label, Color: report.Palette[gi%len(report.Palette)]}
		for _, t := range g.Transfers {
			s.X, s.Y, s.Lo, s.Hi = append(s.X, float64(t.Transfer)), append(s.Y, t.AgentMean), append(s.Lo, t.Lo), append(s.Hi, t.Hi)
		}
		ss = append(ss, s)
	}
	h := report.Series{Name: "Humans (Fehr & Fischbacher 2004)", Color: report.HumanColor, Dashed: true, Marker: "open", Reference: true}
	for _, t := range game.GradedTransfers {
		h.X, h.Y = append(h.X, float64(t)), append(h.Y, game.HumanGradedPoints(t))
	}
	return report.LineChart{
		Title:  "Graded punishment by the dictator's transfer",
		XLabel: "Transfer to the recipient (MU of 100)",
		YLabel: "Mean punishment points (MU, 0-50)",
		X0:     0, X1: 50, Y0: 0, Y1: 50, XTicks: []float64{0, 10, 20, 30, 40, 50},
		Series: append(ss, h),
	}
}
