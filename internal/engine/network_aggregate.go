package engine

// Study 3 with network.store: summary. Nothing is recorded per decision: each round is asked
// in memory (memRound) and folded into per-round aggregates by exposure group, for populations
// too large for a row per agent per round. The world's rules and seeds are those of the full
// mode, so the aggregates equal what the full mode's rows would give (a test checks it). Such a
// run cannot be resumed mid-run: `prosim resume` runs it again from round 1, with the same
// results; LLM replies then come from the response cache, so no call is paid twice.

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/prosim/prosim/internal/experiment"
)

// RoundSummaryFile is the summary mode's per-round aggregate, in results/.
const RoundSummaryFile = "rounds_summary.csv"

// RoundSummaryColumns is the header of results/rounds_summary.csv: one row per inequity run,
// round and exposure group (the victims, distance 1, 2, 3+ from them, and "all"), beside the
// same agents in the control run of the same backend, replicate and policy.
var RoundSummaryColumns = []string{"run_id", "condition", "control_run_id", "replicate", "round", "exposure_group",
	"agents", "valid", "mean_willingness", "mean_unfairness", "share_affected", "share_treated",
	"control_valid", "control_mean_willingness", "control_mean_unfairness", "control_share_affected"}

// summaryOnly reports whether the experiment keeps per-round aggregates only.
func (r *Runner) summaryOnly() bool {
	return r.exp.Study == experiment.StudyNetwork && r.exp.Network != nil && r.exp.Network.Store == "summary"
}

// aggCell accumulates one (run, round, group) of one side.
type aggCell struct {
	agents, valid, affected, treated int
	sumW, sumU                       float64
}

func (c *aggCell) add(x netRow) {
	c.agents++
	if x.affected {
		c.affected++
	}
	if x.treated {
		c.treated++
	}
	if x.valid {
		c.valid++
		c.sumW += float64(x.w)
		c.sumU += float64(x.u)
	}
}

// pair is one inequity world and its control world (same backend, replicate and policy).
type pair struct {
	w, ctrl *netWorld
	// cells[t-1][g]: g 0..3 exposure groups, 4 all agents; tr the inequity run, co the control.
	tr, co [][5]aggCell
	// pending keeps the rounds before the group is chosen (their rows cannot be grouped yet).
	pending [][2][]netRow
	// The placebo contagion state of the control run (see placeboAffected) and its count of
	// affected agents by round.
	plState    []bool
	plPrevRows []netRow
	placebo    []int
}

// runNetworkAggregate runs every round in memory and writes the aggregates.
func (r *Runner) runNetworkAggregate(ctx context.Context, s *netStudy, worlds []*netWorld) error {
	var pairs []*pair
	for _, w := range worlds {
		if w.cond.iv == nil {
			continue
		}
		for _, c := range worlds {
			if controlOf(c, w) {
				pairs = append(pairs, &pair{w: w, ctrl: c, tr: make([][5]aggCell, s.cfg.Rounds), co: make([][5]aggCell, s.cfg.Rounds)})
				break
			}
		}
	}
	workers := max(1, r.exp.Concurrency)
	for t := 1; t <= s.cfg.Rounds; t++ {
		rows := make(map[*netWorld][]netRow, len(worlds))
		for _, w := range worlds {
			if err := w.begin(t, s.activation(w.rep, t), r.income); err != nil {
				return err
			}
			mk, err := r.netRequests(w, t, w.run.backend.cfg.Provider != "builtin")
			if err != nil {
				return err
			}
			out := make([]netRow, 0, w.n)
			err = memRound(ctx, w, t, r.agents, w.run.backend.be, workers, mk, func(x netRow) { out = append(out, x) })
			if err != nil {
				return fmt.Errorf("run %s: %w", w.run.ID, err)
			}
			rows[w] = out
			r.asked += w.n
			if r.prog != nil {
				r.prog.add(w.n)
			}
		}
		for _, p := range pairs {
			var k int
			p.plState, k = placeboStep(s.contagion(p.w.rep), t, p.plPrevRows, rows[p.ctrl], p.w.exposures, p.plState)
			p.plPrevRows = rows[p.ctrl]
			p.placebo = append(p.placebo, k)
			p.pending = append(p.pending, [2][]netRow{rows[p.w], rows[p.ctrl]})
			if p.w.dist == nil {
				continue // the group is chosen at round From: keep the rows until then
			}
			for _, pr := range p.pending {
				for i, x := range pr[0] {
					c := pr[1][i]
					g := -1
					if d := p.w.dist[x.agent]; d >= 0 {
						g = groupOf(d)
					}
					if g >= 0 {
						p.tr[x.round-1][g].add(x)
						p.co[c.round-1][g].add(c)
					}
					p.tr[x.round-1][4].add(x)
					p.co[c.round-1][4].add(c)
				}
			}
			p.pending = nil
		}
	}
	return r.writeAggregate(s, pairs)
}

// writeAggregate writes results/rounds_summary.csv and the Study 3 summary (without the
// mediation analysis, which needs per-agent rows).
func (r *Runner) writeAggregate(s *netStudy, pairs []*pair) error {
	dir := filepath.Join(r.dir, "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	groups := []string{"victims", "distance_1", "distance_2", "distance_3plus", "all"}
	mean := func(sum float64, n int) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatFloat(sum/float64(n), 'f', 4, 64)
	}
	share := func(k, n int) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatFloat(float64(k)/float64(n), 'f', 4, 64)
	}
	if err := writeCSV(filepath.Join(dir, RoundSummaryFile), func(cw *csv.Writer) error {
		if err := cw.Write(RoundSummaryColumns); err != nil {
			return err
		}
		for _, p := range pairs {
			for t := range p.tr {
				for g, name := range groups {
					a, c := p.tr[t][g], p.co[t][g]
					if a.agents == 0 {
						continue
					}
					rec := []string{p.w.run.ID, p.w.run.Condition, p.ctrl.run.ID, strconv.Itoa(p.w.rep), strconv.Itoa(t + 1), name,
						strconv.Itoa(a.agents), strconv.Itoa(a.valid), mean(a.sumW, a.valid), mean(a.sumU, a.valid),
						share(a.affected, a.agents), share(a.treated, a.agents),
						strconv.Itoa(c.valid), mean(c.sumW, c.valid), mean(c.sumU, c.valid), share(c.affected, c.agents)}
					if err := cw.Write(rec); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	cmps := r.aggCompare(s, pairs)
	if err := writeContagion(dir, cmps); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, NetworkSummaryFile), func(f io.Writer) error {
		r.aggValidity(f, pairs)
		return r.writeNetSummary(f, s, cmps)
	})
}

// aggValidity writes the validity of a summary run, since no decision is in the run database
// to count it from.
func (r *Runner) aggValidity(f io.Writer, pairs []*pair) {
	fmt.Fprintf(f, "network.store: summary: %d decisions made in memory, aggregated by round and exposure group in results/%s\n", r.asked, RoundSummaryFile)
	fmt.Fprintln(f, "Validity by run (all rounds):")
	seen := map[string]bool{}
	for _, p := range pairs {
		for _, side := range []struct {
			w     *netWorld
			cells [][5]aggCell
		}{{p.w, p.tr}, {p.ctrl, p.co}} {
			if seen[side.w.run.ID] {
				continue
			}
			seen[side.w.run.ID] = true
			valid := 0
			for t := range side.cells {
				valid += side.cells[t][4].valid
			}
			n := side.w.n * len(side.cells)
			fmt.Fprintf(f, "  %s: %d valid, %d invalid (%.1f%% valid)\n", side.w.run.ID, valid, n-valid, 100*float64(valid)/float64(n))
		}
	}
	fmt.Fprintln(f)
}

// aggCompare turns the aggregates into the comparisons the summary prints, pooled over
// replicates exactly as netCompare pools agent-runs.
func (r *Runner) aggCompare(s *netStudy, pairs []*pair) []*NetComparison {
	R := s.cfg.Rounds
	var out []*NetComparison
	byKey := map[string]*NetComparison{}
	type sums struct {
		tr, co  [][5]aggCell
		placebo []int
	}
	acc := map[*NetComparison]*sums{}
	for _, p := range pairs {
		key := p.w.run.Backend + "\x00" + p.w.run.Condition
		cmp, ok := byKey[key]
		if !ok {
			cmp = &NetComparison{Condition: p.w.run.Condition, Control: p.ctrl.run.Condition, From: p.w.cond.iv.From, Rounds: R,
				Backend: p.w.run.Backend, Inequity: p.w.run.Condition,
				MediationErr: "not computed with network.store: summary, which keeps no per-agent rows (use store: full)"}
			if len(r.backends) > 1 {
				cmp.Condition = p.w.run.Backend + " " + cmp.Condition
			}
			byKey[key] = cmp
			out = append(out, cmp)
			acc[cmp] = &sums{tr: make([][5]aggCell, R), co: make([][5]aggCell, R), placebo: make([]int, R)}
		}
		a := acc[cmp]
		for t, k := range p.placebo {
			a.placebo[t] += k
		}
		for t := range R {
			for g := range 5 {
				x, c := p.tr[t][g], p.co[t][g]
				a.tr[t][g].agents += x.agents
				a.tr[t][g].valid += x.valid
				a.tr[t][g].affected += x.affected
				a.tr[t][g].sumW += x.sumW
				a.tr[t][g].sumU += x.sumU
				a.co[t][g].valid += c.valid
				a.co[t][g].sumW += c.sumW
				a.co[t][g].sumU += c.sumU
			}
		}
		for g := range 4 {
			cmp.Agents[g] += p.tr[0][g].agents
		}
	}
	ratio := func(v float64, n int) float64 {
		if n == 0 {
			return math.NaN()
		}
		return v / float64(n)
	}
	for _, cmp := range out {
		a := acc[cmp]
		for g := range 4 {
			for t := range R {
				x, c := a.tr[t][g], a.co[t][g]
				cmp.W[g] = append(cmp.W[g], ratio(x.sumW, x.valid))
				cmp.U[g] = append(cmp.U[g], ratio(x.sumU, x.valid))
				cmp.CW[g] = append(cmp.CW[g], ratio(c.sumW, c.valid))
				cmp.CU[g] = append(cmp.CU[g], ratio(c.sumU, c.valid))
			}
			last := a.tr[R-1][g]
			cmp.AffectedByDist[g] = ratio(float64(last.affected), last.agents)
		}
		for t := range R {
			all := a.tr[t][4]
			cmp.Affected = append(cmp.Affected, ratio(float64(all.affected), all.agents))
			cmp.Placebo = append(cmp.Placebo, ratio(float64(a.placebo[t]), all.agents))
		}
	}
	return out
}
