package tpp

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/robust"
	"github.com/prosim/prosim/internal/table"
)

// The intervals (column ci_method). A rate pools every agent's trials (about 60 per agent and
// replicate), which are correlated: Wilson over trials takes them for independent and is too
// narrow. A rate's interval resamples agents, each with its trials of every replicate
// (analysis.ClusteredShareCI: Wilson over agents when each gave one trial, or at 0 or 100%,
// where a bootstrap collapses). A graded mean of agent means (points on 0-50) has an expanded
// percentile bootstrap over agents (analysis.ExpandedBootstrapMeanCI), which stays within the
// range, unlike a t interval. Each is seeded by the experiment seed and its row's names.
const (
	ciBootAgents   = "expanded percentile bootstrap over agents"
	ciWilsonAgents = "Wilson over agents"
	// bootReps is the resamples behind every bootstrap interval of Study 2.
	bootReps = 2000
)

// Rate is a pooled punishment rate: the share of valid trials in which the agent punished,
// with its 95% CI over agents.
type Rate struct {
	Punished, Trials int
	Rate, Lo, Hi     float64
	Method           string // how Lo and Hi are computed: ciBootAgents or ciWilsonAgents; "" without them
}

// rateOf is the pooled rate of agents' trials (agent i punished k[i] of its n[i] trials) with
// its interval over agents.
func rateOf(k, n []int, sd uint64) Rate {
	r := Rate{Rate: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	for i := range k {
		r.Punished, r.Trials = r.Punished+k[i], r.Trials+n[i]
	}
	if r.Trials == 0 {
		return r
	}
	r.Rate = float64(r.Punished) / float64(r.Trials)
	lo, hi, boot := analysis.ClusteredShareCI(k, n, 0.95, bootReps, sd)
	switch {
	case math.IsNaN(lo):
	case boot:
		r.Lo, r.Hi, r.Method = lo, hi, ciBootAgents
	default:
		r.Lo, r.Hi, r.Method = lo, hi, ciWilsonAgents
	}
	return r
}

// Group is the binary analysis of one backend x condition.
type Group struct {
	Backend, Condition string
	// Label names the group in the report's charts and tables.
	Label string
	Grid  game.Grid
	Human game.Comparison
	// Logit is punish ~ inequity (15 - x) + cost (y), SEs clustered by agent; nil if it
	// could not be fitted (FitErr says why).
	Logit  *analysis.LogitFit
	FitErr error
	// ValenceByX is the mean pre-choice valence (-4..4) over valid trials at each x (10..15);
	// NaN if none.
	ValenceByX [6]float64
	// ByX is the punishment rate at each x (10..15), all costs pooled; ByY at each y (0..9),
	// unfair offers (x < 15) pooled, as in the human reference.
	ByX [6]Rate
	ByY [10]Rate
	// Cells are the rates at each (x, y), with their intervals over agents (cellRates).
	Cells [6][10]Rate
	// Means are participant-level mean punishment rates: each agent-replicate's rate in the
	// cell, averaged over agent-replicates.
	Means game.GroupMeans
	// sessions are the group's sessions in store order: their masks hold its trials (the
	// scorecard's and the robustness refits' data).
	sessions []*session
	// versions are the model versions of its valid trials (the scorecard's model_version).
	versions map[string]bool
}

// Transfer is the graded analysis of one transfer in one backend x condition.
type Transfer struct {
	Transfer int
	// MeanPoints is the mean over valid decisions (agent-replicates pooled); Decisions counts them.
	MeanPoints float64
	Decisions  int
	// AgentMean is the mean over agents of each agent's mean over replicates, with a 95% CI
	// over agents (Method: ciBootAgents; "" without an interval); Agents counts agents with a
	// valid decision.
	AgentMean, Lo, Hi float64
	Method            string
	Agents            int
	Human             float64 // Fehr & Fischbacher 2004: 0.28 x (50 - transfer)
}

// GradedGroup is the graded analysis of one backend x condition.
type GradedGroup struct {
	Backend, Condition, Label string
	Transfers                 []Transfer
	// RMSE of MeanPoints against the human reference over transfers with decisions; NaN if none.
	RMSE float64
	// Punishers of Agents (agents with a valid decision on a transfer below half) assigned
	// points to some transfer below half, in any replicate.
	Punishers, Agents int
}

// results is Study 2's analysis: every output reads these numbers.
type results struct {
	graded bool
	Groups []Group
	Graded []GradedGroup
}

func (s *tpp) Analyze() (*study.Analysis, error) {
	r := &results{graded: s.graded}
	multiCond := len(s.env.Exp.Conditions) > 1
	if s.graded {
		r.Graded = s.gradedGroups(multiCond)
	} else {
		r.Groups = s.binaryGroups(multiCond)
	}
	// tpp_trials.csv is written from the pass over the store (DecisionTables).
	var tables []*table.Table
	if s.graded {
		tables = append(tables, r.gradedTable(), r.punishersTable())
	} else {
		tables = append(tables, r.ratesTable(), r.logitTable(), r.meansTable())
	}
	a := &study.Analysis{
		Tables:   tables,
		Summary:  r.summary,
		Sections: []report.Section{{ID: "study2", Title: "Study 2: third-party punishment", Render: r.section}},
		About: report.About{Title: "Study 2, third-party punishment (tpp)",
			Rows: [][2]string{{"TPP", fmt.Sprintf("variant %s, history %v", s.cfg.Variant, s.cfg.History)}}},
	}
	robust.Attach(a, s.robustness(r.Groups), s.env.Exp.Backends)
	scored, backends := r.Groups, s.env.Backends
	if base, err := s.baseline(); err != nil {
		return nil, err
	} else if base != nil {
		scored, backends = append(slices.Clone(scored), *base), append(slices.Clone(backends), scorecard.Baseline)
	}
	scorecard.Attach(a, s.scorecardRows(scored), backends, s.env.Exp.Conditions[0].Name, scoreIntro, "")
	return a, nil
}

// label names a backend (and condition) in the report.
func label(backend, condition string, multiCond bool) string {
	s := backend
	if report.Behavioural(backend) {
		s += " (behavioural model)"
	}
	if multiCond {
		s += ", " + condition
	}
	return s
}

// groupSessions are the observed sessions of each group, in store order.
func (s *tpp) groupSessions() [][]*session {
	o := s.observed()
	out := make([][]*session, len(o.groups))
	for _, ix := range o.order {
		ss := &s.sessions[ix]
		g := o.group[[2]string{ss.cell.Backend, ss.cell.Condition}]
		out[g] = append(out[g], ss)
	}
	return out
}

// eachValid calls fn with the valid trials of sessions (valid as game.TPPOutcomeFrom scores
// a reply: the trials the grid, the means and the logit count), in store order.
func (s *tpp) eachValid(sessions []*session, fn func(ss *session, t trial, punished bool)) {
	for _, ss := range sessions {
		for p := range ss.sched {
			if ss.valid&(1<<p) != 0 {
				fn(ss, s.trialAt(ss, p), ss.punished&(1<<p) != 0)
			}
		}
	}
}

// margins are the rates by x (10..15, all costs pooled) and by y (0..9, unfair offers pooled)
// that Group.ByX and Group.ByY hold: 6 + 10.
const margins = 6 + 10

// agentMargins counts an agent's trials in each margin, replicates pooled: [m][0] punished,
// [m][1] valid trials.
type agentMargins [margins][2]int32

func (s *tpp) binaryGroups(multiCond bool) []Group {
	o := s.observed()
	var out []Group
	// Each agent's trials by margin (by index into env.Agents): the unit of the rates'
	// intervals. One slice for every group, cleared for each.
	perAgent := make([]agentMargins, len(s.env.Agents))
	var ks, ns []int
	for gi, sessions := range s.groupSessions() {
		sums := o.groups[gi]
		g := Group{Backend: sums.key[0], Condition: sums.key[1], Label: label(sums.key[0], sums.key[1], multiCond), sessions: sessions, versions: sums.versions}
		clear(perAgent)
		// A replicate is a separate participant-session: agent ids are made unique per cell.
		per := map[int]*game.TPPCells{}
		s.eachValid(sessions, func(ss *session, t trial, punished bool) {
			x, y := int(t.x)-game.TPPMinX, int(t.y)-game.TPPMinY
			g.Grid.N[x][y]++
			if punished {
				g.Grid.Punish[x][y]++
			}
			am := &perAgent[ss.agent]
			p := int32(0)
			if punished {
				p = 1
			}
			am[x][0], am[x][1] = am[x][0]+p, am[x][1]+1
			if int(t.x) < game.TPPMaxX {
				am[6+y][0], am[6+y][1] = am[6+y][0]+p, am[6+y][1]+1
			}
			id := s.env.Agents[ss.agent].ID + 1_000_000*ss.cell.Replicate + ss.cell.Ord*1_000_000_000
			c := per[id]
			if c == nil {
				c = &game.TPPCells{}
				per[id] = c
			}
			i, _ := game.TPPCellOf(game.TPPOutcome{Valid: true, Trial: game.Trial{X: int(t.x), Y: int(t.y)}})
			c.Add(i, punished)
		})
		g.Grid.FillRates()
		g.Human = game.CompareHuman(g.Grid)
		g.Logit, g.FitErr = s.logit(sessions, nil)
		for x := range sums.valence {
			g.ValenceByX[x] = math.NaN()
			if sums.valenceN[x] > 0 {
				g.ValenceByX[x] = sums.valence[x] / sums.valenceN[x]
			}
		}
		// margin m's agents (those with a trial in it), in the population's order.
		agentsIn := func(m int) (k, n []int) {
			ks, ns = ks[:0], ns[:0]
			for i := range perAgent {
				if c := perAgent[i][m]; c[1] > 0 {
					ks, ns = append(ks, int(c[0])), append(ns, int(c[1]))
				}
			}
			return ks, ns
		}
		sd := seed.Start(*s.env.Exp.Seed).String("tpp_rates").String(g.Backend).String(g.Condition)
		for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
			k, n := agentsIn(x - game.TPPMinX)
			g.ByX[x-game.TPPMinX] = rateOf(k, n, sd.String("x").Int(x).Sum())
		}
		for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
			k, n := agentsIn(6 + y - game.TPPMinY)
			g.ByY[y-game.TPPMinY] = rateOf(k, n, sd.String("y").Int(y).Sum())
		}
		g.Cells = s.cellRates(sessions, sd)
		g.Means = game.GroupMeansOf(g.Label, per)
		out = append(out, g)
	}
	return out
}

// cellRates are the rates at each (x, y) with the by-x rows' interval over agents: an agent
// meets each cell once per replicate, so with one replicate Wilson over agents, else the
// bootstrap. The agents' counts are gathered one agent at a time (its sessions found by index)
// into a histogram per cell, so memory does not grow with the population; the units are
// resampled in the histogram's sorted order.
func (s *tpp) cellRates(sessions []*session, sd seed.Hash) (out [6][10]Rate) {
	o := s.observed()
	var cells []int // the group's cells, indexes into env.Cells
	for _, ss := range sessions {
		if ci := o.cells[ss.cell.ID]; !slices.Contains(cells, ci) {
			cells = append(cells, ci)
		}
	}
	type kn struct{ k, n int }
	var hist [6][10]map[kn]int
	na := len(s.env.Agents)
	for ai := range na {
		var c [6][10]kn
		for _, ci := range cells {
			s.eachValid([]*session{&s.sessions[ci*na+ai]}, func(_ *session, t trial, punished bool) {
				u := &c[int(t.x)-game.TPPMinX][int(t.y)-game.TPPMinY]
				u.n++
				if punished {
					u.k++
				}
			})
		}
		for x := range c {
			for y, u := range c[x] {
				if u.n > 0 {
					if hist[x][y] == nil {
						hist[x][y] = map[kn]int{}
					}
					hist[x][y][u]++
				}
			}
		}
	}
	var ks, ns []int
	for x := range hist {
		for y, h := range hist[x] {
			ks, ns = ks[:0], ns[:0]
			for _, u := range slices.SortedFunc(maps.Keys(h), func(a, b kn) int { return cmp.Or(cmp.Compare(a.n, b.n), cmp.Compare(a.k, b.k)) }) {
				for range h[u] {
					ks, ns = append(ks, u.k), append(ns, u.n)
				}
			}
			out[x][y] = rateOf(ks, ns, sd.String("cell").Int(x+game.TPPMinX).Int(y+game.TPPMinY).Sum())
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// logit fits punish ~ inequity + cost over the valid trials of sessions (of those in cells
// keep accepts, when set), clustered by agent id. Both regressors are the trial's (x, y) cell,
// so the fit reads counts (analysis.LogisticCounts): the trials and punishments of each agent
// at each of the 60 cells, gathered one agent at a time from the sessions' masks. It holds no
// row per trial.
func (s *tpp) logit(sessions []*session, keep func(*study.Cell) bool) (*analysis.LogitFit, error) {
	o := s.observed()
	var cells []int // the fit's cells, indexes into env.Cells
	n := 0
	for _, ss := range sessions {
		if keep != nil && !keep(ss.cell) {
			continue
		}
		n += bits.OnesCount64(ss.valid)
		if ci := o.cells[ss.cell.ID]; !slices.Contains(cells, ci) {
			cells = append(cells, ci)
		}
	}
	if n < 10 {
		return nil, fmt.Errorf("too few valid trials (%d)", n)
	}
	const ny = game.TPPMaxY - game.TPPMinY + 1
	pattern := func(t trial) int { return (int(t.x)-game.TPPMinX)*ny + int(t.y) - game.TPPMinY }
	X := mat.NewDense((game.TPPMaxX-game.TPPMinX+1)*ny, 2, nil)
	for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
		for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
			i := pattern(trial{x: int16(x), y: int16(y)})
			X.Set(i, 0, float64(15-x))
			X.Set(i, 1, float64(y))
		}
	}
	na := len(s.env.Agents)
	counts := make([]analysis.CountCell, X.RawMatrix().Rows)
	agents := func(yield func([]analysis.CountCell) bool) {
		for ai := range na {
			clear(counts)
			seen := false
			for _, ci := range cells {
				s.eachValid([]*session{&s.sessions[ci*na+ai]}, func(_ *session, t trial, punished bool) {
					c := &counts[pattern(t)]
					c.Pattern, c.Trials = pattern(t), c.Trials+1
					if punished {
						c.Successes++
					}
					seen = true
				})
			}
			if seen && !yield(counts) {
				return
			}
		}
	}
	return analysis.LogisticCounts(X, agents, []string{"inequity", "cost"}, analysis.LogitOptions{Intercept: true, SE: analysis.Cluster})
}

func (s *tpp) gradedGroups(multiCond bool) []GradedGroup {
	var out []GradedGroup
	for _, a := range s.observed().groups {
		g := GradedGroup{Backend: a.key[0], Condition: a.key[1], Label: label(a.key[0], a.key[1], multiCond)}
		var model, human []float64
		for ti, t := range game.GradedTransfers {
			x := Transfer{Transfer: t, MeanPoints: math.NaN(), Decisions: int(a.n[ti]), Human: game.HumanGradedPoints(t),
				AgentMean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
			if a.n[ti] > 0 {
				x.MeanPoints = a.sum[ti] / a.n[ti]
				model = append(model, x.MeanPoints)
				human = append(human, x.Human)
			}
			var agents []int
			for ag := range a.byAgent[ti] {
				agents = append(agents, ag)
			}
			sort.Ints(agents)
			// Each agent's mean over its replicates: its running sum (added in store order)
			// over its count, as analysis.MeanOrZero computes it.
			var means []float64
			for _, ag := range agents {
				m := a.byAgent[ti][ag]
				means = append(means, m.sum/float64(m.n))
			}
			x.Agents = len(means)
			if len(means) > 0 {
				x.AgentMean = analysis.MeanOrZero(means)
			}
			if len(means) > 1 {
				x.Lo, x.Hi = analysis.ExpandedBootstrapMeanCI(means, 0.95, bootReps, seed.Derive(*s.env.Exp.Seed, "tpp_graded_means", g.Backend, g.Condition, t))
				x.Method = ciBootAgents
			}
			g.Transfers = append(g.Transfers, x)
		}
		g.RMSE = math.NaN()
		if len(model) > 0 {
			g.RMSE = analysis.RMSE(model, human)
		}
		g.Punishers, g.Agents = len(a.punished), len(a.agents)
		out = append(out, g)
	}
	return out
}

// Share is the share of agents who punish some transfer below half; NaN without agents.
func (g GradedGroup) Share() float64 {
	if g.Agents == 0 {
		return math.NaN()
	}
	return float64(g.Punishers) / float64(g.Agents)
}
