package tpp

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/robust"
	"github.com/prosim/prosim/internal/table"
)

// record is one trial as recorded, in store order (cell, agent id, trial): what the analysis
// reads of its reply (Observe).
type record struct {
	cell  *study.Cell
	agent int // agent id
	trial trial
	valid bool
	// has marks the fields of valueFields present in the reply, vals their values.
	has     uint8
	vals    [5]float64
	reason  string // the reply's invalid reason
	version string // the model version that answered
}

// values are the reply's values the analysis reads (nil when invalid).
func (d *record) values(fields []string) map[string]float64 {
	if !d.valid {
		return nil
	}
	m := make(map[string]float64, len(fields))
	for i, f := range fields {
		if d.has&(1<<i) != 0 {
			m[f] = d.vals[i]
		}
	}
	return m
}

// value is field i of valueFields as the reply gave it (0 when absent, as a map reads).
func (d *record) value(i int) float64 { return d.vals[i] }

// records are the trials observed, in store order.
func (s *tpp) records() []record { return s.observed().records }

// Rate is a pooled punishment rate: the share of valid trials in which the agent punished,
// with its Wilson 95% CI over trials.
type Rate struct {
	Punished, Trials int
	Rate, Lo, Hi     float64
}

func rateOf(k, n int) Rate {
	r := Rate{Punished: k, Trials: n, Rate: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	if n > 0 {
		r.Lo, r.Hi = analysis.ProportionCI(k, n, 0.95)
		r.Rate = float64(k) / float64(n)
	}
	return r
}

// Group is the binary analysis of one backend x condition.
type Group struct {
	Backend, Condition string
	// Label names the group in the report's charts and tables.
	Label string
	// Outcomes are the group's trials; Agent is the agent id, so replicates of one agent are
	// one cluster.
	Outcomes []game.TPPOutcome
	Grid     game.Grid
	Human    game.Comparison
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
	// Means are participant-level mean punishment rates: each agent-replicate's rate in the
	// cell, averaged over agent-replicates.
	Means game.GroupMeans
}

// Transfer is the graded analysis of one transfer in one backend x condition.
type Transfer struct {
	Transfer int
	// MeanPoints is the mean over valid decisions (agent-replicates pooled); Decisions counts them.
	MeanPoints float64
	Decisions  int
	// AgentMean is the mean over agents of each agent's mean over replicates, with a 95% t CI
	// over agents; Agents counts agents with a valid decision.
	AgentMean, Lo, Hi float64
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
	trials []record
	fields []string // valueFields
}

func (s *tpp) Analyze() (*study.Analysis, error) {
	r := &results{graded: s.graded, trials: s.records(), fields: s.valueFields()}
	multiCond := len(s.env.Exp.Conditions) > 1
	if s.graded {
		r.Graded = gradedGroups(r.trials, multiCond)
	} else {
		r.Groups = binaryGroups(r.trials, multiCond)
	}
	tables := []*table.Table{r.trialsTable()}
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
	robust.Attach(a, s.robustness(r.trials, r.Groups), s.env.Exp.Backends)
	scored, backends := r.Groups, s.env.Backends
	if base, err := s.baseline(); err != nil {
		return nil, err
	} else if base != nil {
		scored, backends = append(slices.Clone(scored), *base), append(slices.Clone(backends), scorecard.Baseline)
	}
	scorecard.Attach(a, s.scorecardRows(scored), backends, s.env.Exp.Conditions[0].Name, scoreIntro)
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

func binaryGroups(recs []record, multiCond bool) []Group {
	idx := map[[2]string]int{}
	var out []Group
	var sessions [][]game.TPPOutcome // outcomes with one id per agent-replicate
	for j := range recs {
		d := &recs[j]
		k := [2]string{d.cell.Backend, d.cell.Condition}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Group{Backend: k[0], Condition: k[1], Label: label(k[0], k[1], multiCond)})
			sessions = append(sessions, nil)
		}
		o := outcomeOf(d)
		out[i].Outcomes = append(out[i].Outcomes, o)
		// A replicate is a separate participant-session: agent ids are made unique per cell.
		o.Agent = d.agent + 1_000_000*d.cell.Replicate + d.cell.Ord*1_000_000_000
		sessions[i] = append(sessions[i], o)
	}
	for i := range out {
		g := &out[i]
		g.Grid = game.TPPGrid(g.Outcomes)
		g.Human = game.CompareHuman(g.Grid)
		g.Logit, g.FitErr = logit(g.Outcomes)
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
		for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
			k, n := 0, 0
			for y := 0; y < 10; y++ {
				k += g.Grid.Punish[x-game.TPPMinX][y]
				n += g.Grid.N[x-game.TPPMinX][y]
			}
			g.ByX[x-game.TPPMinX] = rateOf(k, n)
		}
		for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
			k, n := 0, 0
			for x := game.TPPMinX; x < game.TPPMaxX; x++ {
				k += g.Grid.Punish[x-game.TPPMinX][y]
				n += g.Grid.N[x-game.TPPMinX][y]
			}
			g.ByY[y-game.TPPMinY] = rateOf(k, n)
		}
		g.Means = game.TPPGroupMeans(g.Label, sessions[i])
	}
	return out
}

// binaryFields are valueFields of the binary variant.
var binaryFields = []string{"choice", "valence_before", "arousal_before", "valence_after", "arousal_after"}

// outcomeOf reads a binary trial as the game scores it.
func outcomeOf(d *record) game.TPPOutcome {
	t := game.Trial{Index: int(d.trial.index), X: int(d.trial.x), Y: int(d.trial.y)}
	var err error
	if !d.valid {
		err = errors.New(orDefault(d.reason, "invalid reply"))
	}
	return game.TPPOutcomeFrom(d.agent, t, d.values(binaryFields), err)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func logit(os []game.TPPOutcome) (*analysis.LogitFit, error) {
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

func gradedGroups(recs []record, multiCond bool) []GradedGroup {
	type acc struct {
		sum, n   map[int]float64
		byAgent  map[int]map[int][]float64 // transfer -> agent -> points
		punished map[int]bool              // agent punished some transfer below 50
		agents   map[int]bool
	}
	idx := map[[2]string]int{}
	var out []GradedGroup
	var accs []*acc
	for _, d := range recs {
		k := [2]string{d.cell.Backend, d.cell.Condition}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, GradedGroup{Backend: k[0], Condition: k[1], Label: label(k[0], k[1], multiCond)})
			accs = append(accs, &acc{map[int]float64{}, map[int]float64{}, map[int]map[int][]float64{}, map[int]bool{}, map[int]bool{}})
		}
		a := accs[i]
		if !d.valid {
			continue
		}
		t := int(d.trial.x)
		p := d.value(0)
		a.sum[t] += p
		a.n[t]++
		if a.byAgent[t] == nil {
			a.byAgent[t] = map[int][]float64{}
		}
		a.byAgent[t][d.agent] = append(a.byAgent[t][d.agent], p)
		if t < 50 {
			a.agents[d.agent] = true
			if p > 0 {
				a.punished[d.agent] = true
			}
		}
	}
	for i := range out {
		g, a := &out[i], accs[i]
		var model, human []float64
		for _, t := range game.GradedTransfers {
			x := Transfer{Transfer: t, MeanPoints: math.NaN(), Decisions: int(a.n[t]), Human: game.HumanGradedPoints(t),
				AgentMean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
			if a.n[t] > 0 {
				x.MeanPoints = a.sum[t] / a.n[t]
				model = append(model, x.MeanPoints)
				human = append(human, x.Human)
			}
			var agents []int
			for ag := range a.byAgent[t] {
				agents = append(agents, ag)
			}
			sort.Ints(agents)
			var means []float64
			for _, ag := range agents {
				means = append(means, analysis.MeanOrZero(a.byAgent[t][ag]))
			}
			x.Agents = len(means)
			if len(means) > 0 {
				x.AgentMean = analysis.MeanOrZero(means)
				x.Lo, x.Hi = analysis.MeanCI(means, 0.95)
			}
			g.Transfers = append(g.Transfers, x)
		}
		g.RMSE = math.NaN()
		if len(model) > 0 {
			g.RMSE = analysis.RMSE(model, human)
		}
		g.Punishers, g.Agents = len(a.punished), len(a.agents)
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
