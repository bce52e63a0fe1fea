package engine

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/policy"
)

// RoundColumns is the header of results/rounds.csv: one row per agent per round per run.
// exposure_distance is 0 for the condition's victims (its target group, chosen at round from),
// 1, 2, ... for the others, on every row of the run including rounds before from (which give
// the baseline), and empty in a control condition (and for agents no victim can reach); treated is 1 when the policy treated
// the agent unfairly that round; willingness and unfairness are empty when the decision was
// invalid (valid 0, with its reason).
var RoundColumns = []string{"run_id", "condition", "replicate", "agent_id", "round", "willingness", "unfairness",
	"exposure_distance", "affected", "treated", "valid", "invalid_reason"}

// NetworkSummaryFile is the Study 3 summary that the engine writes and `prosim report` prints.
const NetworkSummaryFile = "network_summary.txt"

// netRun is one run's rows, replayed from the journal by the world's rules.
type netRun struct {
	w    *netWorld
	rows [][]netRow // [round-1][node]
	// exposures[round-1][node]: activated neighbours treated unfairly or affected the round
	// before, as the contagion rule saw them.
	exposures [][]int32
}

// replayNetwork recomputes every run's world round by round from the recorded decisions.
// It is a pure function of the journal, so a resumed run writes identical files.
func (r *Runner) replayNetwork() (*netStudy, []*netRun, error) {
	s, err := r.netSetup()
	if err != nil {
		return nil, nil, err
	}
	out := make([]*netRun, len(r.runs))
	for i := range r.runs {
		w := s.newWorld(&r.runs[i], len(r.agents), s.cfg.History)
		nr := &netRun{w: w}
		for t := 1; t <= s.cfg.Rounds; t++ {
			if err := w.begin(t, s.activation(w.rep, t), r.income); err != nil {
				return nil, nil, err
			}
			nr.exposures = append(nr.exposures, slices.Clone(w.exposures))
			rows := make([]netRow, 0, w.n)
			w.end(t, r.netGet(w, t), func(row netRow) { rows = append(rows, row) })
			nr.rows = append(nr.rows, rows)
		}
		out[i] = nr
	}
	return s, out, nil
}

// writeNetworkResults writes results/rounds.csv and results/network_summary.txt.
func (r *Runner) writeNetworkResults(dir string) error {
	s, runs, err := r.replayNetwork()
	if err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, "rounds.csv"), func(w *csv.Writer) error {
		if err := w.Write(RoundColumns); err != nil {
			return err
		}
		for _, nr := range runs {
			run := nr.w.run
			for _, rows := range nr.rows {
				for _, x := range rows {
					rec := []string{run.ID, run.Condition, strconv.Itoa(run.Replicate), strconv.Itoa(r.agents[x.agent].ID),
						strconv.Itoa(x.round), i8(x.w), i8(x.u), "", b01(x.affected), b01(x.treated), b01(x.valid), oneLine(x.reason)}
					if d := nr.w.dist; d != nil && d[x.agent] >= 0 {
						rec[7] = strconv.Itoa(int(d[x.agent]))
					}
					if err := w.Write(rec); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	cmps := r.netCompare(s, runs)
	if err := r.writeNetworkFiles(dir, s, cmps); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, NetworkSummaryFile), func(f io.Writer) error {
		return r.writeNetSummary(f, s, cmps)
	})
}

func i8(v int8) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(int(v))
}

// Exposure groups of the summary.
var netGroups = []string{"victims", "distance 1", "distance 2", "distance 3+"}

func groupOf(d int32) int {
	switch {
	case d < 0:
		return -1
	case d >= 3:
		return 3
	}
	return int(d)
}

// acc accumulates a mean.
type acc struct {
	sum float64
	n   int
}

func (a *acc) add(v float64) { a.sum += v; a.n++ }
func (a acc) mean() float64 {
	if a.n == 0 {
		return math.NaN()
	}
	return a.sum / float64(a.n)
}

// NetComparison is one inequity condition against its control, by exposure group.
type NetComparison struct {
	Condition, Control string
	// Backend and Inequity are the backend and the inequity condition's name (Condition is
	// prefixed with the backend when there are several).
	Backend, Inequity string
	From, Rounds      int
	// Agents[g] is the group size summed over replicates (agent-runs); W/U[g][t-1] the treated
	// condition's mean, CW/CU[g][t-1] the control's mean over the same agents.
	Agents       [4]int
	W, U, CW, CU [4][]float64
	Affected     []float64 // share of agents affected by round (treated condition)
	// Placebo is the share the contagion rule would call affected in the control run, given
	// the control agents' own ratings and the inequity run's exposures: what noise and
	// structure alone produce (nil when not computed: network.store summary).
	Placebo        []float64
	AffectedByDist [4]float64
	Mediation      *analysis.MediationResult
	MediationErr   string
}

// controlOf reports whether c is the control world of inequity world w: no inequity, same
// backend, replicate and policy.
func controlOf(c, w *netWorld) bool {
	return c.cond.iv == nil && c.run.Backend == w.run.Backend && c.run.Replicate == w.run.Replicate && c.run.Policy == w.run.Policy
}

// controlRun is the control run of inequity world w, or nil.
func controlRun(runs []*netRun, w *netWorld) *netRun {
	for _, c := range runs {
		if controlOf(c.w, w) {
			return c
		}
	}
	return nil
}

// netCompare builds the comparisons of every inequity condition with its control (same
// backend, replicate and policy). The control's agents are grouped by the inequity run's
// exposure distance ("the same positions").
func (r *Runner) netCompare(s *netStudy, runs []*netRun) []*NetComparison {
	R := s.cfg.Rounds
	byKey := map[string]*NetComparison{}
	var out []*NetComparison
	type medRow struct {
		x, m, y float64
		c       int
	}
	med := map[*NetComparison][]medRow{}
	for _, nr := range runs {
		w := nr.w
		if w.cond.iv == nil {
			continue
		}
		ctrl := controlRun(runs, w)
		if ctrl == nil {
			continue
		}
		key := w.run.Backend + "\x00" + w.run.Condition
		cmp, ok := byKey[key]
		if !ok {
			cmp = &NetComparison{Condition: w.run.Condition, Control: ctrl.w.run.Condition, From: w.cond.iv.From, Rounds: R,
				Backend: w.run.Backend, Inequity: w.run.Condition}
			if len(r.backends) > 1 {
				cmp.Condition = w.run.Backend + " " + cmp.Condition
			}
			byKey[key] = cmp
			out = append(out, cmp)
		}
		_ = cmp
	}
	// Accumulate over replicates.
	type accs struct{ w, u, cw, cu [4][]acc }
	all := map[*NetComparison]*accs{}
	aff := map[*NetComparison][]acc{}
	placebo := map[*NetComparison][]acc{}
	affD := map[*NetComparison]*[4]acc{}
	for _, nr := range runs {
		w := nr.w
		if w.cond.iv == nil {
			continue
		}
		cmp := byKey[w.run.Backend+"\x00"+w.run.Condition]
		ctrl := controlRun(runs, w)
		if cmp == nil || ctrl == nil {
			continue
		}
		a := all[cmp]
		if a == nil {
			a = &accs{}
			for g := range 4 {
				a.w[g], a.u[g], a.cw[g], a.cu[g] = make([]acc, R), make([]acc, R), make([]acc, R), make([]acc, R)
			}
			all[cmp] = a
			aff[cmp] = make([]acc, R)
			placebo[cmp] = make([]acc, R)
			affD[cmp] = &[4]acc{}
		}
		for t, v := range placeboAffected(s.contagion(w.rep), ctrl, nr.exposures) {
			placebo[cmp][t].add(v)
		}
		for u := range w.n {
			if w.dist == nil {
				break
			}
			if g := groupOf(w.dist[u]); g >= 0 {
				cmp.Agents[g]++
			}
		}
		for t := 1; t <= R; t++ {
			rows, crow := nr.rows[t-1], ctrl.rows[t-1]
			for u := range rows {
				x, c := rows[u], crow[u]
				aff[cmp][t-1].add(b2f(x.affected))
				if w.dist == nil || w.dist[u] < 0 {
					continue
				}
				g := groupOf(w.dist[u])
				if t == R {
					affD[cmp][g].add(b2f(x.affected))
				}
				if x.valid {
					a.w[g][t-1].add(float64(x.w))
					a.u[g][t-1].add(float64(x.u))
				}
				if c.valid {
					a.cw[g][t-1].add(float64(c.w))
					a.cu[g][t-1].add(float64(c.u))
				}
				// Mediation sample: distance-1 agents from the first treated round on, in the
				// inequity run (x=1) and the control run (x=0).
				if w.dist[u] == 1 && t >= cmp.From {
					if x.valid {
						med[cmp] = append(med[cmp], medRow{1, float64(x.u), float64(x.w), u})
					}
					if c.valid {
						med[cmp] = append(med[cmp], medRow{0, float64(c.u), float64(c.w), u})
					}
				}
			}
		}
	}
	for _, cmp := range out {
		a := all[cmp]
		if a == nil {
			continue
		}
		for g := range 4 {
			for t := range R {
				cmp.W[g] = append(cmp.W[g], a.w[g][t].mean())
				cmp.U[g] = append(cmp.U[g], a.u[g][t].mean())
				cmp.CW[g] = append(cmp.CW[g], a.cw[g][t].mean())
				cmp.CU[g] = append(cmp.CU[g], a.cu[g][t].mean())
			}
			cmp.AffectedByDist[g] = affD[cmp][g].mean()
		}
		for t := range R {
			cmp.Affected = append(cmp.Affected, aff[cmp][t].mean())
			cmp.Placebo = append(cmp.Placebo, placebo[cmp][t].mean())
		}
		rows := med[cmp]
		x, m, y, cl := make([]float64, len(rows)), make([]float64, len(rows)), make([]float64, len(rows)), make([]int, len(rows))
		for i, row := range rows {
			x[i], m[i], y[i], cl[i] = row.x, row.m, row.y, row.c
		}
		res, err := analysis.Mediation(x, m, y, cl, analysis.MediationOptions{Reps: 2000, Seed: derive(s.seed, "mediation", cmp.Condition)})
		if err != nil {
			cmp.MediationErr = err.Error()
		} else {
			cmp.Mediation = res
		}
	}
	return out
}

// placeboAffected applies the contagion rule to a control run's own ratings with the exposures
// of its inequity run, round by round, as netWorld.end does, and returns the share affected by
// round: the baseline that noise and the exposure structure alone give the contagion curve.
func placeboAffected(cont policy.Contagion, ctrl *netRun, exposures [][]int32) []float64 {
	var out []float64
	var prev []bool
	var prevRows []netRow
	for t, rows := range ctrl.rows {
		var k int
		prev, k = placeboStep(cont, t+1, prevRows, rows, exposures[t], prev)
		prevRows = rows
		out = append(out, float64(k)/float64(len(rows)))
	}
	return out
}

// placeboStep is round t of placeboAffected: the placebo states after the round (from those
// before it, prev, nil in round 1) and how many are affected.
func placeboStep(cont policy.Contagion, t int, prevRows, rows []netRow, exposures []int32, prev []bool) ([]bool, int) {
	next := make([]bool, len(rows))
	k := 0
	for u, c := range rows {
		a := policy.AgentRound{Exposures: int(exposures[u]), W: float64(c.w), U: float64(c.u)}
		if prev != nil {
			p := prevRows[u]
			a.PrevAffected, a.PrevW, a.PrevU = prev[u], float64(p.w), float64(p.u)
		}
		next[u] = cont.Next(a, u, t)
		if !c.valid && cont.Rule != policy.RuleSIS {
			next[u] = a.PrevAffected
		}
		if next[u] {
			k++
		}
	}
	return next, k
}

// writeNetSummary writes the Study 3 summary of comparisons already made.
func (r *Runner) writeNetSummary(w io.Writer, s *netStudy, cmps []*NetComparison) error {
	st := s.stats
	path := fmt.Sprintf("%.3f", st.MeanPathLength)
	if st.PathSampled {
		path += fmt.Sprintf(" (sampled from %d sources)", st.PathSources)
	}
	fmt.Fprintf(w, "Network (%s): N=%d, edges=%d, mean degree %.2f, clustering %.3f, mean path length %s, components %d\n",
		s.cfg.Graph.Type, st.N, st.Edges, st.MeanDegree, st.Clustering, path, st.Components)
	fmt.Fprintf(w, "Rounds %d, scenario %s, observation %s, contagion rule %s\n", s.cfg.Rounds, s.sc.ID, s.cfg.Observation, s.cfg.Contagion.Rule)
	return r.writeComparisons(w, cmps)
}

// writeComparisons prints each inequity condition against its control.
func (r *Runner) writeComparisons(w io.Writer, cmps []*NetComparison) error {
	if len(cmps) == 0 {
		fmt.Fprintln(w, "No inequity condition: nothing to compare.")
		return nil
	}
	for _, c := range cmps {
		fmt.Fprintf(w, "\n%s vs %s (same agents), unfair treatment from round %d\n", c.Condition, c.Control, c.From)
		for _, f := range []struct {
			name      string
			tr, cntrl [4][]float64
		}{{"willingness", c.W, c.CW}, {"unfairness", c.U, c.CU}} {
			tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
			hdr := []string{"mean " + f.name, "agent-runs"}
			for t := 1; t <= c.Rounds; t++ {
				hdr = append(hdr, fmt.Sprintf("r%d", t))
			}
			hdr = append(hdr, fmt.Sprintf("diff r%d-%d", c.From, c.Rounds))
			fmt.Fprintln(tw, strings.Join(hdr, "\t")+"\t")
			for g, name := range netGroups {
				if c.Agents[g] == 0 {
					continue
				}
				line := []string{name, strconv.Itoa(c.Agents[g])}
				cline := []string{"  control", ""}
				var d acc
				for t := 0; t < c.Rounds; t++ {
					line = append(line, f2(f.tr[g][t]))
					cline = append(cline, f2(f.cntrl[g][t]))
					if t+1 >= c.From && !math.IsNaN(f.tr[g][t]) && !math.IsNaN(f.cntrl[g][t]) {
						d.add(f.tr[g][t] - f.cntrl[g][t])
					}
				}
				line = append(line, signed(d.mean()))
				cline = append(cline, "")
				fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
				fmt.Fprintln(tw, strings.Join(cline, "\t")+"\t")
			}
			tw.Flush()
		}
		var curve []string
		for _, v := range c.Affected {
			curve = append(curve, fmt.Sprintf("%.0f%%", 100*v))
		}
		fmt.Fprintf(w, "Affected (contagion curve, share of all agents by round): %s\n", strings.Join(curve, " "))
		if c.Placebo != nil {
			var pl []string
			for _, v := range c.Placebo {
				pl = append(pl, fmt.Sprintf("%.0f%%", 100*v))
			}
			fmt.Fprintf(w, "Placebo (the rule applied to the control's own ratings with the same exposures):  %s\n", strings.Join(pl, " "))
		}
		fmt.Fprintln(w, "  (an exposed agent whose ratings move the wrong way by noise alone counts as affected and then exposes its\n  neighbours; the placebo is what that alone gives: the effect is the gap between the two curves)")
		var byd []string
		for g, name := range netGroups {
			if c.Agents[g] > 0 {
				byd = append(byd, fmt.Sprintf("%s %.0f%%", name, 100*c.AffectedByDist[g]))
			}
		}
		fmt.Fprintf(w, "Affected at the last round by group: %s\n", strings.Join(byd, ", "))
		if m := c.Mediation; m != nil {
			fmt.Fprintf(w, "Mediation (distance-1 agents, rounds %d-%d, inequity vs control): exposure -> unfairness -> willingness\n", c.From, c.Rounds)
			fmt.Fprintf(w, "  a (exposure->unfairness) %.3f (SE %.3f), b (unfairness->willingness) %.3f (SE %.3f)\n", m.A, m.SEA, m.B, m.SEB)
			fmt.Fprintf(w, "  indirect a*b %.3f, 95%% bootstrap CI [%.3f, %.3f] (clustered by agent, %d clusters, %d resamples); direct %.3f, total %.3f; n=%d\n",
				m.Indirect, m.BootLow, m.BootHigh, m.NClusters, m.BootReps, m.CPrime, m.C, m.N)
		} else {
			fmt.Fprintf(w, "Mediation: not estimable (%s)\n", c.MediationErr)
		}
	}
	return nil
}

func f2(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func signed(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%+.2f", v)
}
