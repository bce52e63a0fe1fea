package tpp

import (
	"fmt"
	"io"
	"math"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/termtable"
)

func (r *results) summary(w io.Writer) error {
	if r.graded {
		return r.gradedSummary(w)
	}
	return r.binarySummary(w)
}

// binarySummary prints the Study 2 tables: punishment grid, comparison with the human
// reference, the logistic regression and emotion by inequity.
func (r *results) binarySummary(w io.Writer) error {
	for _, g := range r.Groups {
		fmt.Fprintf(w, "\nThird-party punishment, backend %s, condition %s\n", report.DescribeBackend(g.Backend), g.Condition)
		fmt.Fprintln(w, "Punishment rate by Player 2's share x (rows) and cost y (columns):")
		grid := [][]string{{"x\\y"}}
		for y := 0; y <= 9; y++ {
			grid[0] = append(grid[0], fmt.Sprint(y))
		}
		for x := 10; x <= 15; x++ {
			row := []string{fmt.Sprint(x)}
			for y := 0; y <= 9; y++ {
				row = append(row, rate(g.Grid.Rate[x-10][y]))
			}
			grid = append(grid, row)
		}
		if err := termtable.WriteRight(w, 1, grid); err != nil {
			return err
		}
		fmt.Fprintln(w, "Compared with 1,017 human adults in the same game (human_tpp reference):")
		rows := [][]string{{"by x", "model", "human", "diff", "n"}}
		for _, d := range g.Human.ByX {
			rows = append(rows, []string{fmt.Sprintf("x=%d", d.Level), rate(d.Model), fmt.Sprintf("%.3f", d.Human), signed(d.Diff), fmt.Sprint(d.N)})
		}
		rows = append(rows, []string{"RMSE (raw)", "", "", rmseText(g.Human.RMSEx), ""})
		rows = append(rows, []string{"by y (x<15)", "model", "human", "diff", "n"})
		for _, d := range g.Human.ByY {
			rows = append(rows, []string{fmt.Sprintf("y=%d", d.Level), rate(d.Model), fmt.Sprintf("%.3f", d.Human), signed(d.Diff), fmt.Sprint(d.N)})
		}
		rows = append(rows, []string{"RMSE (raw)", "", "", rmseText(g.Human.RMSEy), ""})
		if err := termtable.Write(w, 1, rows); err != nil {
			return err
		}
		if g.Logit != nil {
			fmt.Fprintf(w, "Logistic regression of punishment (n=%s, %s; SEs clustered by agent):\n", plural.Count(g.Logit.N, "trial"), plural.Count(g.Logit.NClusters, "agent"))
			for i, name := range g.Logit.Names {
				fmt.Fprintf(w, "  %-10s %8.3f  SE %.3f  z %7.2f  p %s  95%% CI [%.3f, %.3f]\n", name, g.Logit.Coef[i], g.Logit.SE[i], g.Logit.Z[i], pval(g.Logit.P[i]), g.Logit.CILow[i], g.Logit.CIHigh[i])
			}
		} else if g.FitErr != nil {
			fmt.Fprintf(w, "Logistic regression not fitted: %v\n", g.FitErr)
		}
		// A table, not a sentence: six numbers in one line ran past 80 columns mid-number.
		fmt.Fprintln(w, "Mean valence before choosing (-4..4) by Player 2's share x:")
		vs := [][]string{{"x"}, {"valence"}}
		for x := 10; x <= 15; x++ {
			vs[0] = append(vs[0], fmt.Sprint(x))
			vs[1] = append(vs[1], rate(g.ValenceByX[x-10]))
		}
		if err := termtable.WriteRight(w, 1, vs); err != nil {
			return err
		}
		if report.Behavioural(g.Backend) {
			// Same test as report.DescribeBackend: the label builtin is the behavioural model.
			fmt.Fprintln(w, "(The behavioural model's valence before choosing is the human curve by x, an input of the model: its agreement with human valence is by construction, not a finding.)")
		}
	}
	return nil
}

// gradedSummary prints mean punishment points by transfer next to Fehr & Fischbacher's human
// reference (0.28 x (50 - transfer)), and the share of agents who punish transfers below half.
func (r *results) gradedSummary(w io.Writer) error {
	for _, g := range r.Graded {
		fmt.Fprintf(w, "\nGraded third-party punishment, backend %s, condition %s\n", report.DescribeBackend(g.Backend), g.Condition)
		rows := [][]string{{"transfer", "mean points", "human (F&F 2004)", "n"}}
		for _, t := range g.Transfers {
			rows = append(rows, []string{fmt.Sprint(t.Transfer), rate(t.MeanPoints), fmt.Sprintf("%.2f", t.Human), fmt.Sprint(t.Decisions)})
		}
		if err := termtable.Write(w, 1, rows); err != nil {
			return err
		}
		if !math.IsNaN(g.RMSE) {
			fmt.Fprintf(w, "RMSE against the human reference: %.2f points\n", g.RMSE)
		}
		if g.Agents > 0 {
			fmt.Fprintf(w, "Agents who punish some transfer below half: %.2f (humans about %.2f)\n", g.Share(), game.HumanGraded.ShareWhoPunish)
		}
	}
	return nil
}

// rate is a number with two decimals, "-" for NaN.
func rate(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func signed(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%+.3f", v)
}

func pval(p float64) string {
	if p < 0.001 {
		return "<.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// rmseText is how the summary and the report print a raw RMSE against the human rates: three
// decimals, the rates' own (QA16: the report's two, 0.03, read unlike the summary's 0.035);
// n/a when there is none.
func rmseText(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", v)
}
