package tpp

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/report"
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
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "x\\y\t")
		for y := 0; y <= 9; y++ {
			fmt.Fprintf(tw, "%d\t", y)
		}
		fmt.Fprintln(tw)
		for x := 10; x <= 15; x++ {
			fmt.Fprintf(tw, "%d\t", x)
			for y := 0; y <= 9; y++ {
				fmt.Fprintf(tw, "%s\t", rate(g.Grid.Rate[x-10][y]))
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "Compared with 1,017 human adults in the same game (human_tpp reference):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "by x\tmodel\thuman\tdiff\tn\t")
		for _, d := range g.Human.ByX {
			fmt.Fprintf(tw, "x=%d\t%s\t%.3f\t%s\t%d\t\n", d.Level, rate(d.Model), d.Human, signed(d.Diff), d.N)
		}
		fmt.Fprintf(tw, "RMSE\t\t\t%.3f\t\t\n", g.Human.RMSEx)
		fmt.Fprintln(tw, "by y (x<15)\tmodel\thuman\tdiff\tn\t")
		for _, d := range g.Human.ByY {
			fmt.Fprintf(tw, "y=%d\t%s\t%.3f\t%s\t%d\t\n", d.Level, rate(d.Model), d.Human, signed(d.Diff), d.N)
		}
		fmt.Fprintf(tw, "RMSE\t\t\t%.3f\t\t\n", g.Human.RMSEy)
		if err := tw.Flush(); err != nil {
			return err
		}
		if g.Logit != nil {
			fmt.Fprintf(w, "Logistic regression of punishment (n=%d trials, %d agents; SEs clustered by agent):\n", g.Logit.N, g.Logit.NClusters)
			for i, name := range g.Logit.Names {
				fmt.Fprintf(w, "  %-10s %8.3f  SE %.3f  z %7.2f  p %s  95%% CI [%.3f, %.3f]\n", name, g.Logit.Coef[i], g.Logit.SE[i], g.Logit.Z[i], pval(g.Logit.P[i]), g.Logit.CILow[i], g.Logit.CIHigh[i])
			}
		} else if g.FitErr != nil {
			fmt.Fprintf(w, "Logistic regression not fitted: %v\n", g.FitErr)
		}
		var vs []string
		for x := 10; x <= 15; x++ {
			vs = append(vs, fmt.Sprintf("x=%d: %s", x, rate(g.ValenceByX[x-10])))
		}
		fmt.Fprintf(w, "Mean valence before choosing (-4..4): %s\n", strings.Join(vs, ", "))
		if g.Backend == "builtin" {
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
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "transfer\tmean points\thuman (F&F 2004)\tn\t")
		for _, t := range g.Transfers {
			fmt.Fprintf(tw, "%d\t%s\t%.2f\t%d\t\n", t.Transfer, rate(t.MeanPoints), t.Human, t.Decisions)
		}
		if err := tw.Flush(); err != nil {
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
