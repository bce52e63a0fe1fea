package network

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/robust"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// Estimand of every trajectory number: a round's mean over the group's agent x replicate
// pairs (each agent counts once per replicate, its group fixed within the replicate), pooled
// over replicates; invalid decisions are left out of the means.
const estimand = "mean over agent x replicate pairs"

// mediationLevel is the CI level of the mediation (analysis.MediationOptions.Level 0);
// mediationReps its bootstrap resamples and Monte Carlo draws.
const (
	mediationLevel = 0.95
	mediationReps  = 2000
)

// Comparison is one inequity condition (of one backend) against its control, pooled over
// replicates: the numbers the summary, the tables and the report all print.
type Comparison struct {
	Backend, Inequity, Control string
	// Label is the inequity condition, prefixed with the backend when there are several.
	Label string
	// Treatment is the inequity's settings in words (Inequity.Label); From and To its rounds.
	Treatment        string
	From, To, Rounds int
	Replicates       int
	Cells            cells // pooled over replicates
	// The twin design (twinstats.go): effects against the control twin with bootstrap CIs
	// (BootReps resamples), the contagion label's shares beside the placebo's with
	// p-values of spread: on the behavioural model a permutation test over where the victims
	// sit (Perms placements), on other backends (SignFlip) a sign-flip test over replicates
	// (Perms sign patterns, the observed among them); Perms is noPlacements on every backend
	// when every agent is a victim (no test run), 0 when read back from a summary run's tables.
	Effects      []EffectRow
	Contagion    []ContagionRow
	BootReps     int
	Perms        int
	SignFlip     bool
	Mediation    *analysis.MediationResult
	MediationErr string
}

// Heading says what the inequity is and when, for the summary and the report: "inequity
// lowest_income k=12, rounds 2-4 (rounds 5-6 after it)".
func (c *Comparison) Heading() string {
	s := "inequity " + c.Treatment
	switch {
	case c.To == c.Rounds-1:
		s += fmt.Sprintf(" (round %d after it)", c.Rounds)
	case c.To < c.Rounds:
		s += fmt.Sprintf(" (rounds %d-%d after it)", c.To+1, c.Rounds)
	}
	return s
}

// Pairs is the group's size summed over replicates: its agent x replicate pairs.
func (c *Comparison) Pairs(g int) int { return c.Cells[0][g][0].Agents }

// Mean is the mean willingness (u false) or unfairness of group g in round t (from 1), of the
// inequity run (ctrl false) or its control; NaN without a valid decision.
func (c *Comparison) Mean(g, t int, ctrl, unfair bool) float64 {
	s := c.Cells[t-1][g][b2i(ctrl)]
	if s.Valid == 0 {
		return math.NaN()
	}
	if unfair {
		return s.SumU / float64(s.Valid)
	}
	return s.SumW / float64(s.Valid)
}

// Share is the share of group g's agent x replicate pairs of the inequity run the contagion label marks
// affected in round t (label.go).
func (c *Comparison) Share(g, t int) float64 {
	s := c.Cells[t-1][g][0]
	return ratio(float64(s.Affected), s.Agents)
}

// RuleShare is the share of group g's agent x replicate pairs of the inequity run in the contagion rule's
// affected state after round t.
func (c *Comparison) RuleShare(g, t int) float64 {
	s := c.Cells[t-1][g][0]
	return ratio(float64(s.Rule), s.Agents)
}

// Diff is the mean over rounds From..Rounds of the inequity-control difference.
func (c *Comparison) Diff(g int, unfair bool) float64 {
	var sum float64
	var n int
	for t := c.From; t <= c.Rounds; t++ {
		a, b := c.Mean(g, t, false, unfair), c.Mean(g, t, true, unfair)
		if !math.IsNaN(a) && !math.IsNaN(b) {
			sum += a - b
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// groups are the exposure groups with agents (all excluded).
func (c *Comparison) groups() []int {
	var out []int
	for g := range gAll {
		if c.Pairs(g) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// results is Study 3's analysis.
type results struct {
	s     *netStudy
	pairs []*pairAgg
	Cmps  []*Comparison
	// Drawing is the network coloured by final state (full store only).
	Drawing  *report.NetworkChart
	DrawNote string
}

// compare pools the pairs by backend and inequity condition.
func (s *netStudy) compare(pairs []*pairAgg) []*Comparison {
	var out []*Comparison
	byKey := map[string]*Comparison{}
	for _, p := range pairs {
		w, ctrl := s.env.Cells[p.w], s.env.Cells[p.ctrl]
		key := w.Backend + "\x00" + w.Condition
		c, ok := byKey[key]
		if !ok {
			c = &Comparison{Backend: w.Backend, Inequity: w.Condition, Control: ctrl.Condition, Label: w.Condition, SignFlip: !s.builtin(w.Backend),
				Treatment: s.conds[w.Condition].label, From: s.conds[w.Condition].iv.From, To: s.conds[w.Condition].iv.To, Rounds: s.cfg.Rounds, Cells: make(cells, s.cfg.Rounds)}
			if len(s.env.Backends) > 1 {
				c.Label = w.Backend + " " + w.Condition
			}
			byKey[key] = c
			out = append(out, c)
		}
		c.Replicates++
		for t := range p.cells {
			for g := range nGroups {
				c.Cells[t][g][0].plus(p.cells[t][g][0])
				c.Cells[t][g][1].plus(p.cells[t][g][1])
			}
		}
	}
	return out
}

// mediation estimates exposure -> unfairness -> willingness on the distance-1 agents from
// the first treated round on: their rows of the inequity run (x=1) and of the control (x=0),
// clustered by agent (full store only: it needs per-agent rows).
func (s *netStudy) mediation(cmps []*Comparison, pairs []*pairAgg) {
	type medRow struct {
		x, m, y float64
		c       int
	}
	med := map[*Comparison][]medRow{}
	near := map[*Comparison]int{} // distance-1 agents, over the replicates
	for _, p := range pairs {
		w := s.worlds[p.w]
		var cmp *Comparison
		for _, c := range cmps {
			if c.Backend == w.cell.Backend && c.Inequity == w.cell.Condition {
				cmp = c
			}
		}
		if w.dist == nil {
			continue
		}
		for _, d := range w.dist {
			if d == 1 {
				near[cmp]++
			}
		}
		for t := 1; t <= s.cfg.Rounds; t++ {
			if t < cmp.From {
				continue // no row of the round is read
			}
			rows, err := s.roundRows(p.w, t)
			if err != nil {
				s.spill.Fail(err)
				return
			}
			crow, err := s.roundRows(p.ctrl, t)
			if err != nil {
				s.spill.Fail(err)
				return
			}
			for u := range rows {
				if w.dist[u] != 1 || t < cmp.From {
					continue
				}
				x, c := rows[u], crow[u]
				if x.valid {
					med[cmp] = append(med[cmp], medRow{1, float64(x.u), float64(x.w), u})
				}
				if c.valid {
					med[cmp] = append(med[cmp], medRow{0, float64(c.u), float64(c.w), u})
				}
			}
		}
	}
	for _, cmp := range cmps {
		rows := med[cmp]
		switch {
		case near[cmp] == 0:
			// Everyone treated (target: all) or no victim with a neighbour: nobody to compare.
			cmp.MediationErr = "no distance-1 agents"
			continue
		case len(rows) == 0:
			cmp.MediationErr = "no valid replies of distance-1 agents"
			continue
		}
		x, m, y, cl := make([]float64, len(rows)), make([]float64, len(rows)), make([]float64, len(rows)), make([]int, len(rows))
		for i, r := range rows {
			x[i], m[i], y[i], cl[i] = r.x, r.m, r.y, r.c
		}
		res, err := analysis.Mediation(x, m, y, cl, analysis.MediationOptions{Reps: mediationReps, Seed: seed.Derive(s.seed, "mediation", cmp.Label)})
		if err != nil {
			cmp.MediationErr = err.Error()
		} else {
			cmp.Mediation = res
		}
	}
}

func (s *netStudy) Analyze() (*study.Analysis, error) {
	r := &results{s: s}
	if s.agg != nil {
		r.pairs = s.agg.pairs
	} else {
		// A summary run replayed for its report: read back the aggregates it wrote.
		var err error
		if r.pairs, err = s.readAggregates(); err != nil {
			return nil, err
		}
	}
	r.Cmps = s.compare(r.pairs)
	if s.agg != nil {
		for _, c := range r.Cmps {
			var aggs []*twinAgg
			var dists [][]int32
			for _, p := range r.pairs {
				w := s.worlds[p.w]
				if w.cell.Backend == c.Backend && w.cell.Condition == c.Inequity && w.dist != nil {
					aggs, dists = append(aggs, p.tw), append(dists, w.dist)
				}
			}
			s.twinStats(c, aggs, dists)
		}
	} else if err := s.readTwin(r.Cmps); err != nil {
		return nil, err
	}
	if s.summary {
		for _, c := range r.Cmps {
			c.MediationErr = "not computed with network.store: summary, which keeps no per-agent rows (use store: full)"
		}
	} else {
		s.mediation(r.Cmps, r.pairs)
		r.Drawing, r.DrawNote = r.drawing()
		if err := s.spill.Err(); err != nil {
			return nil, err
		}
	}
	a := &study.Analysis{
		Summary:  r.summary,
		Files:    []study.File{{Name: SummaryFile, Write: r.summaryFile}},
		Sections: []report.Section{{ID: "study3", Title: "Study 3: policy-induced inequity on a network", Render: r.section}},
		About:    r.about(),
	}
	if !s.summary {
		a.Tables = append(a.Tables, r.roundsTable(), r.edgesTable(), r.mediationTable())
	}
	a.Tables = append(a.Tables, r.effectsTable(), r.contagionTable())
	if s.summary {
		a.Tables = append(a.Tables, r.roundsSummaryTable()) // the aggregates a summary run's report reads back
	}
	a.Tables = append(a.Tables, r.groupsTable())
	robust.Attach(a, s.robustness(r.Cmps, r.pairs), s.env.Exp.Backends)
	return a, nil
}

// about is what the report's design table says of Study 3.
func (r *results) about() report.About {
	nw := r.s.cfg
	a := report.About{Title: "Study 3, policy-induced inequity on a network (network)",
		Rows: [][2]string{{"Network", fmt.Sprintf("%s, %s, scenario %s, observation %s, contagion rule %s",
			nw.Graph.Describe(r.s.g.N()), plural.Count(nw.Rounds, "round"), nw.Scenario, nw.Observation, nw.Contagion.Rule)}}}
	if r.s.summary {
		var b strings.Builder
		r.validity(&b)
		a.Unrecorded = &report.Unrecorded{
			Population: "decisions aggregated in memory (network.store: summary), not recorded per agent",
			Recorded:   "none per decision (network.store: summary): aggregates in results/" + RoundsSummarySchema.Name + ".csv",
			Validity:   strings.Join(strings.Fields(b.String()), " "),
		}
	}
	return a
}

// SummaryFile is the text summary kept in results/ (the report's validity of a summary run
// reads its first paragraph).
const SummaryFile = "network_summary.txt"

// summary is what the run prints: a blank line, then the summary file's text.
func (r *results) summary(w io.Writer) error {
	fmt.Fprintln(w)
	return r.summaryFile(w)
}

func (r *results) summaryFile(w io.Writer) error {
	s := r.s
	if s.summary {
		r.validity(w)
	}
	fmt.Fprintln(w, s.networkLine())
	fmt.Fprintf(w, "Rounds %d, scenario %s, observation %s, contagion rule %s\n", s.cfg.Rounds, s.sc.ID, s.cfg.Observation, s.cfg.Contagion.Rule)
	if len(r.Cmps) == 0 {
		fmt.Fprintln(w, "No inequity condition: nothing to compare.")
		return nil
	}
	for _, c := range r.Cmps {
		fmt.Fprintf(w, "\n%s vs %s (same agents): %s\n", c.Label, c.Control, c.Heading())
		fmt.Fprintf(w, "Each round's mean is the %s (every agent of the group once per replicate, pooled over %s); invalid decisions left out.\n", estimand, plural.Count(c.Replicates, "replicate"))
		for _, unfair := range []bool{false, true} {
			name := "willingness"
			if unfair {
				name = "unfairness"
			}
			hdr := []string{"mean " + name, pairsHead}
			for t := 1; t <= c.Rounds; t++ {
				hdr = append(hdr, fmt.Sprintf("r%d", t))
			}
			hdr = append(hdr, fmt.Sprintf("diff r%d-%d", c.From, c.Rounds))
			rows := [][]string{hdr}
			for _, g := range c.groups() {
				line := []string{groupKeys[g], strconv.Itoa(c.Pairs(g))}
				cline := []string{"  control", ""}
				for t := 1; t <= c.Rounds; t++ {
					line = append(line, f2(c.Mean(g, t, false, unfair)))
					cline = append(cline, f2(c.Mean(g, t, true, unfair)))
				}
				line = append(line, signed(c.Diff(g, unfair)))
				cline = append(cline, "")
				rows = append(rows, line, cline)
			}
			if err := termtable.WriteRight(w, 2, rows); err != nil { // key: group, pairs
				return err
			}
		}
		c.printTwin(w)
		if m := c.Mediation; m != nil {
			fmt.Fprintf(w, "Mediation (distance-1 agents, rounds %d-%d, each agent in the inequity run vs its control twin): exposure -> unfairness -> willingness\n", c.From, c.Rounds)
			fmt.Fprintln(w, "  (unfairness and willingness are rated in the same reply: the mediator is not measured before the outcome, so b is an association)")
			fmt.Fprintf(w, "  a (exposure->unfairness) %.3f (SE %.3f), b (unfairness->willingness) %.3f (SE %.3f)\n", m.A, m.SEA, m.B, m.SEB)
			fmt.Fprintf(w, "  indirect a*b %.3f, 95%% bootstrap CI [%.3f, %.3f]\n  (clustered by agent, %s, %s)\n  direct %.3f, total %.3f; n=%d\n",
				m.Indirect, m.BootLow, m.BootHigh, plural.Count(m.NClusters, "cluster"), plural.Count(m.BootReps, "resample"), m.CPrime, m.C, m.N)
		} else {
			fmt.Fprintf(w, "Mediation: not estimable (%s)\n", c.MediationErr)
		}
	}
	return nil
}

// networkLine is the summary's line on the graph: its statistics, or with
// graph.per_replicate their means over the replicates' graphs.
func (s *netStudy) networkLine() string {
	if !s.cfg.Graph.PerReplicate {
		st := s.stats()
		path := fmt.Sprintf("%.3f", st.MeanPathLength)
		if st.PathSampled {
			path += fmt.Sprintf(" (sampled from %d sources, standard error %.3f)", st.PathSources, st.PathSE)
		}
		return fmt.Sprintf("Network (%s): N=%d, edges=%d, mean degree %.2f,\n  clustering %.3f, mean path length %s, components %d",
			s.cfg.Graph.Type, st.N, st.Edges, st.MeanDegree, st.Clustering, path, st.Components)
	}
	var edges, deg, clu, path, comp float64
	sampled := false
	R := s.env.Exp.Replicates
	for r := 1; r <= R; r++ {
		st := s.stats()
		if r > 1 {
			g, err := s.graphOf(r)
			if err != nil {
				return fmt.Sprintf("Network (%s, a new graph per replicate): %v", s.cfg.Graph.Type, err)
			}
			st = network.Stats(g, seed.Derive(s.seed, "graph-stats", r))
		}
		edges, deg, clu, path, comp = edges+float64(st.Edges), deg+st.MeanDegree, clu+st.Clustering, path+st.MeanPathLength, comp+float64(st.Components)
		sampled = sampled || st.PathSampled
	}
	f := float64(R)
	ps := ""
	if sampled {
		ps = " (sampled)"
	}
	return fmt.Sprintf("Network (%s, a new graph per replicate, graph.per_replicate): N=%d; means over the graphs of %s: edges %.1f, mean degree %.2f,\n  clustering %.3f, mean path length %.3f%s, components %.2f\n  (the drawing and agents.csv's degree show replicate 1's graph; network_edges.csv has every replicate's)",
		s.cfg.Graph.Type, len(s.env.Agents), plural.Count(R, "replicate"), edges/f, deg/f, clu/f, path/f, ps, comp/f)
}

// validity of a summary run, counted from the aggregates (no decision is journaled).
func (r *results) validity(w io.Writer) {
	s := r.s
	fmt.Fprintf(w, "network.store: summary: %s made in memory, aggregated by round and exposure group in results/%s.csv\n", plural.Count(s.Expected(), "decision"), RoundsSummarySchema.Name)
	fmt.Fprintln(w, "Validity by run (all rounds):")
	seen := map[int]bool{}
	for _, p := range r.pairs {
		for k, ci := range []int{p.w, p.ctrl} {
			if seen[ci] {
				continue
			}
			seen[ci] = true
			valid, n := 0, 0
			for t := range p.cells {
				valid += p.cells[t][gAll][k].Valid
				n += p.cells[t][gAll][k].Agents
			}
			fmt.Fprintf(w, "  %s: %d valid, %d invalid (%.1f%% valid)\n", s.env.Cells[ci].ID, valid, n-valid, 100*float64(valid)/float64(n))
		}
	}
	fmt.Fprintln(w)
}

func signed(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%+.2f", v)
}

// Tables.

// RoundsSchema declares results/rounds.csv (full store); with factors:, roundsTable adds the
// factor columns, last.
var RoundsSchema = table.Schema{Name: "rounds", Doc: "Study 3: one row per agent per round per run" + study.FactorColumnsDoc(design.Factors), Columns: []table.Column{
	{Name: "run_id", Type: table.String, Doc: "cell of the design"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "replicate", Type: table.Int, Doc: "replicate, from 1"},
	{Name: "agent_id", Type: table.Int, Doc: "agent id"},
	{Name: "round", Type: table.Int, Doc: "round (day), from 1"},
	{Name: "willingness", Type: table.Int, Doc: "rating on the scenario's scale; empty when the decision was invalid"},
	{Name: "unfairness", Type: table.Int, Doc: "rating; empty when the decision was invalid"},
	{Name: "exposure_distance", Type: table.Int, Doc: "hops from the nearest victim of the inequity run (0 = victim) on every row of the run; empty in a control and for agents no victim can reach"},
	{Name: "exposure_group", Type: table.String, Doc: "the agent's exposure group in the inequity run, as the other tables spell it: victims, distance_1, distance_2, distance_3plus or unreachable; empty in a control"},
	{Name: "affected", Type: table.Bool, Doc: "the contagion label: the agent rated at least its noise band below its control twin this round and the round before (internal/study/network/label.go); empty in a control (it is the twin)"},
	{Name: "rule_state", Type: table.Bool, Doc: "the contagion rule's state after the round (network.contagion; with spread_from: affected it is what neighbours hear of)"},
	{Name: "treated", Type: table.Bool, Doc: "treated unfairly by the policy this round"},
	{Name: "neighbours_rated", Type: table.Int, Doc: "neighbours the agent heard from this round (over an edge active this round: network.activation) whose rating last round was valid, the ratings observation: grounded shows; 0 in round 1, as are the next three"},
	{Name: "neighbours_treated", Type: table.Int, Doc: "neighbours it heard from this round who were treated unfairly last round (the prompt says they told it so)"},
	{Name: "neighbours_affected", Type: table.Int, Doc: "neighbours it heard from this round who were not treated but in the contagion rule's state last round, and pass the unfairness on (spread_from: affected); empty with spread_from: victims"},
	{Name: "exposures", Type: table.Int, Doc: "neighbours it heard from this round who were treated unfairly or in the contagion rule's state last round: the exposures the contagion rule counts"},
	{Name: "valid", Type: table.Bool, Doc: "1 when the decision was valid"},
	{Name: "invalid_reason", Type: table.String, Doc: "why it was not"},
	study.ModelVersionColumn,
}}

func (r *results) roundsTable() *table.Table {
	s := r.s
	schema := study.WithFactorColumns(RoundsSchema, s.env.Exp)
	return &table.Table{Schema: schema, Rows: func(emit func([]any) error) error {
		for i, w := range s.worlds {
			c := w.cell
			levels := study.FactorLevels(c)
			for t := range s.rows[i] {
				rows, obs, err := s.roundRowsObs(i, t+1)
				if err != nil {
					return err
				}
				for u, x := range rows {
					var wv, uv, d, grp, aff any
					if x.labelled {
						aff = x.affected
					}
					if x.valid {
						wv, uv = int(x.w), int(x.u)
					}
					// The distance is given on every row of the run, rounds before From too.
					if w.dist != nil {
						grp = groupKeys[groupOf(w.dist[u])]
						if w.dist[u] >= 0 {
							d = int(w.dist[u])
						}
					}
					o := obs[u]
					var affObs any
					if s.cfg.SpreadFrom == SpreadAffected {
						affObs = int(o.affected)
					}
					if err := emit(append([]any{c.ID, c.Condition, c.Replicate, s.env.Agents[u].ID, t + 1, wv, uv, d, grp, aff, x.rule, x.treated,
						int(o.rated), int(o.treated), affObs, int(o.exposures), x.valid, table.OneLine(s.names.str(x.reason)), s.names.str(x.version)}, levels...)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}}
}

// EdgesSchema declares results/network_edges.csv.
var EdgesSchema = table.Schema{Name: "network_edges", Doc: "Study 3: the graph, one undirected edge per row, in the edgelist format graph type edgelist reads (its source and target columns; with graph.per_replicate keep one replicate's rows)", Columns: []table.Column{
	{Name: "replicate", Type: table.Int, Doc: "the replicate whose graph has the edge (graph.per_replicate: a new graph per replicate); empty when one graph serves every replicate"},
	{Name: "source", Type: table.Int, Doc: "agent id"},
	{Name: "target", Type: table.Int, Doc: "agent id"},
}}

func (r *results) edgesTable() *table.Table {
	s := r.s
	return &table.Table{Schema: EdgesSchema, Rows: func(emit func([]any) error) error {
		reps := []int{0} // one graph for all
		if s.cfg.Graph.PerReplicate {
			reps = reps[:0]
			for rep := 1; rep <= s.env.Exp.Replicates; rep++ {
				reps = append(reps, rep)
			}
		}
		for _, rep := range reps {
			g, col := s.g, any(nil)
			if rep > 0 {
				var err error
				if g, err = s.graphOf(rep); err != nil {
					return err
				}
				col = rep
			}
			for u, v := range g.Edges() {
				if err := emit([]any{col, s.env.Agents[u].ID, s.env.Agents[v].ID}); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

// medPct and medReps are mediationLevel (in percent) and mediationReps, for the docs.
var medPct, medReps = strconv.FormatFloat(100*mediationLevel, 'g', -1, 64), strconv.Itoa(mediationReps)

// MediationSchema declares results/network_mediation.csv.
var MediationSchema = table.Schema{Name: "network_mediation", Doc: "Study 3: mediation exposure -> unfairness -> willingness per inequity condition (distance-1 agents, rounds from..to, inequity run exposed = 1, control 0; SEs clustered by agent)", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "the inequity condition, whose runs give the exposed = 1 rows"},
	{Name: "control", Type: table.String, Doc: "its control condition (no inequity): the twin of each inequity run (same backend, replicate, policy and factor levels) gives the exposed = 0 rows of the same agents and rounds"},
	{Name: "from_round", Type: table.Int, Doc: "first round in the sample: the inequity's first round of unfair treatment (inequity.from)"},
	{Name: "to_round", Type: table.Int, Doc: "last round in the sample: the study's last round (network.rounds)"},
	{Name: "n", Type: table.Int, Doc: "observations"}, {Name: "clusters", Type: table.Int, Doc: "agents"},
	{Name: "a", Type: table.Float, Doc: "path a: OLS coefficient of exposure (1 inequity run, 0 control) in unfairness ~ 1 + exposure, in unfairness points on the scenario's scale"},
	{Name: "se_a", Type: table.Float, Doc: "standard error of a, cluster-robust (CR1) by agent"},
	{Name: "b", Type: table.Float, Doc: "path b: OLS coefficient of unfairness in willingness ~ 1 + exposure + unfairness, willingness points per unfairness point"},
	{Name: "se_b", Type: table.Float, Doc: "standard error of b, cluster-robust (CR1) by agent"},
	{Name: "c", Type: table.Float, Doc: "total effect: OLS coefficient of exposure in willingness ~ 1 + exposure, in willingness points"},
	{Name: "c_prime", Type: table.Float, Doc: "direct effect: OLS coefficient of exposure in willingness ~ 1 + exposure + unfairness, in willingness points"},
	{Name: "indirect", Type: table.Float, Doc: "indirect effect a·b, in willingness points (equals c - c_prime up to rounding)"},
	{Name: "boot_low", Type: table.Float, Doc: "lower bound of the " + medPct + "% percentile bootstrap CI of a·b: agents (clusters) resampled with replacement, " + medReps + " seeded resamples, type-7 quantiles of the boot_reps estimable ones"},
	{Name: "boot_high", Type: table.Float, Doc: "upper bound of that bootstrap CI"},
	{Name: "boot_reps", Type: table.Int, Doc: "bootstrap resamples that gave an estimate, of " + medReps + " drawn (a resample whose design is singular is skipped; under half estimable and the mediation is not estimable)"},
	{Name: "mc_low", Type: table.Float, Doc: "lower bound of the " + medPct + "% Monte Carlo CI of a·b: percentile interval of " + medReps + " seeded products of independent draws a ~ N(a, se_a²), b ~ N(b, se_b²)"},
	{Name: "mc_high", Type: table.Float, Doc: "upper bound of that Monte Carlo CI"},
	{Name: "sobel_z", Type: table.Float, Doc: "first-order Sobel z: a·b / sqrt(b²·se_a² + a²·se_b²), for reference only (it assumes a·b is normal)"},
	{Name: "sobel_p", Type: table.Float, Doc: "two-sided normal p-value of sobel_z"},
	{Name: "level", Type: table.Float, Doc: "confidence level of the bootstrap and Monte Carlo CIs"},
	{Name: "error", Type: table.String, Doc: "why the mediation was not estimable"},
}}

func (r *results) mediationTable() *table.Table {
	return &table.Table{Schema: MediationSchema, Rows: func(emit func([]any) error) error {
		for _, c := range r.Cmps {
			rec := []any{c.Backend, c.Inequity, c.Control, c.From, c.Rounds}
			if m := c.Mediation; m != nil {
				rec = append(rec, m.N, m.NClusters, m.A, m.SEA, m.B, m.SEB, m.C, m.CPrime, m.Indirect, m.BootLow, m.BootHigh, m.BootReps,
					m.MCLow, m.MCHigh, m.SobelZ, m.SobelP, mediationLevel, "")
			} else {
				for range len(MediationSchema.Columns) - len(rec) - 1 {
					rec = append(rec, nil)
				}
				rec = append(rec, table.OneLine(c.MediationErr))
			}
			if err := emit(rec); err != nil {
				return err
			}
		}
		return nil
	}}
}

// RoundsSummarySchema declares results/rounds_summary.csv: one row per inequity run, round and
// exposure group, beside the same agents in its control run. The sums and counts are exact:
// a summary run's report reads them back.
var RoundsSummarySchema = table.Schema{Name: "rounds_summary", Doc: "Study 3: per inequity run, round and exposure group (victims, distance_1, distance_2, distance_3plus, unreachable, all), beside the same agents in the control run", Columns: []table.Column{
	{Name: "run_id", Type: table.String, Doc: "the inequity run: " + experiment.RunIDDoc},
	{Name: "condition", Type: table.String, Doc: "its inequity condition"},
	{Name: "control_run_id", Type: table.String, Doc: "its control twin: the run with no inequity of the same backend, replicate, policy and factor levels"},
	{Name: "replicate", Type: table.Int, Doc: "replicate, from 1"},
	{Name: "round", Type: table.Int, Doc: "round (day), from 1"},
	{Name: "exposure_group", Type: table.String, Doc: "the agents' distance from the nearest victim of the inequity run (victims, distance_1, distance_2, distance_3plus), unreachable (no victim can reach them) or all; the control columns are the same agents in the control run; a group without agents has no row"},
	{Name: "agents", Type: table.Int, Doc: "agents in the group"},
	{Name: "valid", Type: table.Int, Doc: "of them, with a valid decision this round in the inequity run"},
	{Name: "mean_willingness", Type: table.Float, Decimals: 4, Doc: "mean willingness rating of the valid decisions in the inequity run, on the scenario's scale; empty when none is valid"},
	{Name: "mean_unfairness", Type: table.Float, Decimals: 4, Doc: "mean unfairness rating of the valid decisions in the inequity run; empty when none is valid"},
	{Name: "share_affected", Type: table.Float, Decimals: 4, Doc: "the contagion label (label.go), as rounds.csv's affected"},
	{Name: "share_rule_state", Type: table.Float, Decimals: 4, Doc: "the contagion rule's state, as rounds.csv's rule_state"},
	{Name: "share_treated", Type: table.Float, Decimals: 4, Doc: "share of the group's agents treated unfairly by the policy this round in the inequity run: treated / agents"},
	{Name: "control_valid", Type: table.Int, Doc: "the same agents with a valid decision this round in the control run"},
	{Name: "control_mean_willingness", Type: table.Float, Decimals: 4, Doc: "their mean willingness rating in the control run; empty when none is valid"},
	{Name: "control_mean_unfairness", Type: table.Float, Decimals: 4, Doc: "their mean unfairness rating in the control run; empty when none is valid"},
	{Name: "sum_willingness", Type: table.Float, Doc: "exact sums and counts, from which the means are computed"},
	{Name: "sum_unfairness", Type: table.Float, Doc: "sum of the valid unfairness ratings in the inequity run (mean_unfairness = sum_unfairness / valid)"},
	{Name: "affected", Type: table.Int, Doc: "agents the contagion label marks affected (share_affected = affected / agents)"},
	{Name: "rule_state", Type: table.Int, Doc: "agents in the contagion rule's affected state after the round (share_rule_state = rule_state / agents)"},
	{Name: "treated", Type: table.Int, Doc: "agents treated unfairly this round (share_treated = treated / agents)"},
	{Name: "control_agents", Type: table.Int, Doc: "the same agents counted in the control run (equals agents)"},
	{Name: "control_sum_willingness", Type: table.Float, Doc: "sum of their valid willingness ratings in the control run (control_mean_willingness = control_sum_willingness / control_valid)"},
	{Name: "control_sum_unfairness", Type: table.Float, Doc: "sum of their valid unfairness ratings in the control run"},
	{Name: "control_treated", Type: table.Int, Doc: "of them, treated unfairly this round in the control run"},
}}

func ratio(a float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return a / float64(n)
}

func (r *results) roundsSummaryTable() *table.Table {
	s := r.s
	return &table.Table{Schema: RoundsSummarySchema, Rows: func(emit func([]any) error) error {
		for _, p := range r.pairs {
			w, ctrl := s.env.Cells[p.w], s.env.Cells[p.ctrl]
			for t := range p.cells {
				for g := range nGroups {
					a, c := p.cells[t][g][0], p.cells[t][g][1]
					if a.Agents == 0 {
						continue
					}
					if err := emit([]any{w.ID, w.Condition, ctrl.ID, w.Replicate, t + 1, groupKeys[g], a.Agents, a.Valid,
						ratio(a.SumW, a.Valid), ratio(a.SumU, a.Valid), ratio(float64(a.Affected), a.Agents), ratio(float64(a.Rule), a.Agents), ratio(float64(a.Treated), a.Agents),
						c.Valid, ratio(c.SumW, c.Valid), ratio(c.SumU, c.Valid),
						a.SumW, a.SumU, a.Affected, a.Rule, a.Treated, c.Agents, c.SumW, c.SumU, c.Treated}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}}
}

// GroupsSchema declares results/network_groups.csv: the trajectories the summary prints and
// the report draws.
var GroupsSchema = table.Schema{Name: "network_groups", Doc: "Study 3: per inequity condition, exposure group and round, the " + estimand + " (pooled over replicates) of the inequity condition and of the same agents in its control", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "the inequity condition"},
	{Name: "control", Type: table.String, Doc: "its control condition (no inequity; same backend, policy and factor levels), run in every replicate beside it"},
	{Name: "exposure_group", Type: table.String, Doc: "victims, distance_1, distance_2, distance_3plus, unreachable (no victim can reach them), all"},
	{Name: "round", Type: table.Int, Doc: "round (day), from 1"},
	{Name: "estimand", Type: table.String, Doc: estimand + ": every agent once per replicate, invalid decisions left out"},
	{Name: "agent_runs", Type: table.Int, Doc: "the group's agent x replicate pairs: its agents summed over the replicates (an agent counts once per replicate)"},
	{Name: "valid_decisions", Type: table.Int, Doc: "of them, with a valid decision this round in the inequity condition"},
	{Name: "mean_willingness", Type: table.Float, Doc: "mean willingness rating of those valid decisions, on the scenario's scale; empty when none is valid"},
	{Name: "mean_unfairness", Type: table.Float, Doc: "mean unfairness rating of those valid decisions; empty when none is valid"},
	{Name: "share_affected", Type: table.Float, Doc: "share of the agent x replicate pairs the contagion label marks affected this round (label.go): the affected_share of network_contagion.csv"},
	{Name: "share_rule_state", Type: table.Float, Doc: "share of the agent x replicate pairs in the contagion rule's affected state after this round (rounds.csv's rule_state)"},
	{Name: "control_valid_decisions", Type: table.Int, Doc: "the same agent x replicate pairs with a valid decision this round in the control condition"},
	{Name: "control_mean_willingness", Type: table.Float, Doc: "their mean willingness rating in the control condition; empty when none is valid"},
	{Name: "control_mean_unfairness", Type: table.Float, Doc: "their mean unfairness rating in the control condition; empty when none is valid"},
}}

func (r *results) groupsTable() *table.Table {
	return &table.Table{Schema: GroupsSchema, Rows: func(emit func([]any) error) error {
		for _, c := range r.Cmps {
			for g := range nGroups {
				if c.Pairs(g) == 0 {
					continue
				}
				for t := 1; t <= c.Rounds; t++ {
					a, k := c.Cells[t-1][g][0], c.Cells[t-1][g][1]
					if err := emit([]any{c.Backend, c.Inequity, c.Control, groupKeys[g], t, estimand, a.Agents, a.Valid,
						c.Mean(g, t, false, false), c.Mean(g, t, false, true), c.Share(g, t), c.RuleShare(g, t),
						k.Valid, c.Mean(g, t, true, false), c.Mean(g, t, true, true)}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}}
}

// resultsDir is the run directory's results/.
func (s *netStudy) resultsDir() string { return filepath.Join(s.env.Dir, "results") }

// readAggregates reads back results/rounds_summary.csv of a summary run.
func (s *netStudy) readAggregates() ([]*pairAgg, error) {
	path := filepath.Join(s.resultsDir(), RoundsSummarySchema.Name+".csv")
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("this network.store: summary run journaled no decision and its results/%s.csv is missing: run it again", RoundsSummarySchema.Name)
		}
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, c := range RoundsSummarySchema.Columns {
		if _, ok := col[c.Name]; !ok {
			return nil, fmt.Errorf("%s: no column %s (written by an older prosim: run it again)", path, c.Name)
		}
	}
	pairs := s.pairs()
	byRun := map[string]*pairAgg{}
	for _, p := range pairs {
		byRun[s.env.Cells[p.w].ID] = p
	}
	gOf := map[string]int{}
	for g, k := range groupKeys {
		gOf[k] = g
	}
	for i, rec := range recs[1:] {
		bad := func(c string) error { return fmt.Errorf("%s line %d: bad %s %q", path, i+2, c, rec[col[c]]) }
		in := func(c string) (int, error) {
			if rec[col[c]] == "" {
				return 0, nil
			}
			v, err := strconv.Atoi(rec[col[c]])
			if err != nil {
				return 0, bad(c)
			}
			return v, nil
		}
		fl := func(c string) (float64, error) {
			v, err := strconv.ParseFloat(rec[col[c]], 64)
			if err != nil {
				return 0, bad(c)
			}
			return v, nil
		}
		p := byRun[rec[col["run_id"]]]
		g, gok := gOf[rec[col["exposure_group"]]]
		t, err := in("round")
		if p == nil || !gok || err != nil || t < 1 || t > s.cfg.Rounds {
			return nil, fmt.Errorf("%s line %d: no such run, group or round in this design", path, i+2)
		}
		var a, c side
		var errs []error
		get := func(dst *int, name string) {
			v, err := in(name)
			*dst = v
			errs = append(errs, err)
		}
		getf := func(dst *float64, name string) {
			v, err := fl(name)
			*dst = v
			errs = append(errs, err)
		}
		get(&a.Agents, "agents")
		get(&a.Valid, "valid")
		get(&a.Affected, "affected")
		get(&a.Rule, "rule_state")
		get(&a.Treated, "treated")
		getf(&a.SumW, "sum_willingness")
		getf(&a.SumU, "sum_unfairness")
		get(&c.Agents, "control_agents")
		get(&c.Valid, "control_valid")
		get(&c.Treated, "control_treated")
		getf(&c.SumW, "control_sum_willingness")
		getf(&c.SumU, "control_sum_unfairness")
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		p.cells[t-1][g] = [2]side{a, c}
	}
	return pairs, nil
}

// f2 formats a mean of the summary: two decimals, "-" when there is none.
func f2(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}
