package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/store"
)

// TPPGroup is the Study 2 analysis of one backend x condition.
type TPPGroup struct {
	Backend, Condition string
	Outcomes           []game.TPPOutcome
	Grid               game.Grid
	Human              game.Comparison
	// Logit is punish ~ inequity (15 - x) + cost (y), SEs clustered by agent; nil if it
	// could not be fitted (FitErr says why).
	Logit  *analysis.LogitFit
	FitErr error
	// ValenceByX is the mean pre-choice valence (-4..4) at each x (10..15); NaN if none.
	ValenceByX [6]float64
}

// TPPGroups analyses a binary TPP run, per backend x condition.
func TPPGroups(r *Run) []TPPGroup {
	runOf := map[string]store.Run{}
	for _, x := range r.Runs {
		runOf[x.ID] = x
	}
	idx := map[[2]string]int{}
	var out []TPPGroup
	// Agents are clustered across replicates: (replicate, agent) pairs are not independent of
	// the agent, so the cluster is the agent.
	for _, d := range r.Decisions {
		if d.Scenario != game.ScenarioTPP {
			continue
		}
		run := runOf[d.RunID]
		k := [2]string{run.Backend, run.Condition}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, TPPGroup{Backend: k[0], Condition: k[1]})
		}
		t := game.Trial{Index: d.Trial, X: int(d.Params["x"]), Y: int(d.Params["y"])}
		var err error
		if !d.Reply.Valid() {
			err = fmt.Errorf("%s", d.Reply.Invalid)
		}
		out[i].Outcomes = append(out[i].Outcomes, game.TPPOutcomeFrom(d.AgentID, t, d.Reply.Values, err))
	}
	for i := range out {
		g := &out[i]
		g.Grid = game.TPPGrid(g.Outcomes)
		g.Human = game.CompareHuman(g.Grid)
		g.Logit, g.FitErr = tppLogit(g.Outcomes)
		var sum, n [6]float64
		for _, o := range g.Outcomes {
			if o.Valid {
				sum[o.Trial.X-10] += o.ValenceBefore
				n[o.Trial.X-10]++
			}
		}
		for x := range sum {
			g.ValenceByX[x] = math.NaN()
			if n[x] > 0 {
				g.ValenceByX[x] = sum[x] / n[x]
			}
		}
	}
	return out
}

func tppLogit(os []game.TPPOutcome) (*analysis.LogitFit, error) {
	var y, rows []float64
	var cl []int
	for _, o := range os {
		if !o.Valid {
			continue
		}
		p := 0.0
		if o.Punish {
			p = 1
		}
		y = append(y, p)
		rows = append(rows, float64(15-o.Trial.X), float64(o.Trial.Y))
		cl = append(cl, o.Agent)
	}
	if len(y) < 10 {
		return nil, fmt.Errorf("too few valid trials (%d)", len(y))
	}
	X := mat.NewDense(len(y), 2, rows)
	return analysis.Logistic(y, X, []string{"inequity", "cost"}, analysis.LogitOptions{Intercept: true, SE: analysis.Cluster, Clusters: cl})
}

// TPPSummary prints the Study 2 tables: punishment grid, comparison with the human reference,
// the logistic regression and emotion by inequity.
func TPPSummary(w io.Writer, r *Run) error {
	for _, g := range TPPGroups(r) {
		fmt.Fprintf(w, "\nThird-party punishment, backend %s, condition %s\n", describeBackend(g.Backend), g.Condition)
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
			vs = append(vs, fmt.Sprintf("x=%d: %s", x, num2(g.ValenceByX[x-10])))
		}
		fmt.Fprintf(w, "Mean valence before choosing (-4..4): %s\n", strings.Join(vs, ", "))
	}
	return nil
}

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

func num2(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func pval(p float64) string {
	if p < 0.001 {
		return "<.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// TPPGradedSummary prints mean punishment points by transfer next to Fehr & Fischbacher's
// human reference (0.28 x (50 - transfer)), and the share of agents who punish transfers
// below half.
func TPPGradedSummary(w io.Writer, r *Run) error {
	runOf := map[string]store.Run{}
	for _, x := range r.Runs {
		runOf[x.ID] = x
	}
	type key struct{ b, c string }
	type acc struct {
		sum, n   map[int]float64
		punished map[int]bool // agent punished some transfer below 50
		agents   map[int]bool
	}
	groups := map[key]*acc{}
	var order []key
	for _, d := range r.Decisions {
		if d.Scenario != game.ScenarioTPPGraded {
			continue
		}
		k := key{runOf[d.RunID].Backend, runOf[d.RunID].Condition}
		a, ok := groups[k]
		if !ok {
			a = &acc{map[int]float64{}, map[int]float64{}, map[int]bool{}, map[int]bool{}}
			groups[k] = a
			order = append(order, k)
		}
		if !d.Reply.Valid() {
			continue
		}
		t := int(d.Params["transfer"])
		p := d.Reply.Values["points"]
		a.sum[t] += p
		a.n[t]++
		if t < 50 {
			a.agents[d.AgentID] = true
			if p > 0 {
				a.punished[d.AgentID] = true
			}
		}
	}
	for _, k := range order {
		a := groups[k]
		fmt.Fprintf(w, "\nGraded third-party punishment, backend %s, condition %s\n", describeBackend(k.b), k.c)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "transfer\tmean points\thuman (F&F 2004)\tn\t")
		var model, human []float64
		for _, t := range game.GradedTransfers {
			m := math.NaN()
			if a.n[t] > 0 {
				m = a.sum[t] / a.n[t]
				model = append(model, m)
				human = append(human, game.HumanGradedPoints(t))
			}
			fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.0f\t\n", t, num2(m), game.HumanGradedPoints(t), a.n[t])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(model) > 0 {
			fmt.Fprintf(w, "RMSE against the human reference: %.2f points\n", analysis.RMSE(model, human))
		}
		if len(a.agents) > 0 {
			share := float64(len(a.punished)) / float64(len(a.agents))
			fmt.Fprintf(w, "Agents who punish some transfer below half: %.2f (humans about %.2f)\n", share, game.HumanGraded.ShareWhoPunish)
		}
	}
	return nil
}
