package games

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"iter"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/spill"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// GamesSchema declares results/games.csv: one row per agent per game per round; with factors:,
// gamesTable adds the factor columns, last.
var GamesSchema = table.Schema{Name: "games", Doc: "Economic games: one row per agent per game per round, with partner and payoff as the Go rules computed them" + study.FactorColumnsDoc(design.Factors), Columns: []table.Column{
	{Name: "run_id", Type: table.String, Doc: experiment.RunIDDoc},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "replicate", Type: table.Int, Doc: "replicate, from 1"},
	{Name: "game", Type: table.String, Doc: "game name (public goods with punishment: NAME_punish)"},
	{Name: "round", Type: table.Int, Doc: "public goods round; 1 for one-shot games"},
	{Name: "group", Type: table.Int, Doc: "pair or group number; empty for the dictator game and unpaired agents"},
	{Name: "agent_id", Type: table.Int, Doc: "agent id of the population"},
	{Name: "role", Type: table.String, Doc: "dictator, proposer, responder, responder_mao, sender, returner, member or unpaired"},
	{Name: "partner_id", Type: table.Int, Doc: "the other player of a pair; empty otherwise"},
	{Name: "choice", Type: table.Float, Doc: "the amount given, offered, sent, returned or contributed (a responder's choice: 0 accept, 1 reject); empty without a valid decision"},
	{Name: "payoff", Type: table.Float, Doc: "tokens earned, by the game's rule (E the endowment): dictator E - given; ultimatum, if accepted (an offer at or above the minimum acceptable offer), proposer E - offer and responder offer, else both 0; trust, sender E - sent + returned and returner multiplier x sent - returned (the sender E when it sent 0); public goods member, stage 1 = E - contributed + multiplier x (sum of the group's counted contributions) / (members counted), and with punishment stage 1 - min(3 x points received, stage 1) - points given; empty when a reply it depends on was invalid (a member whose contribution was invalid sits the round out and earns no payoff)"},
	{Name: "valid", Type: table.Bool, Doc: "1 when the agent's decision is valid"},
	{Name: "invalid_reason", Type: table.String, Doc: "why there is no valid decision (invalid reply, not asked, unpaired)"},
	study.ModelVersionColumn,
}}

// PunishmentsSchema declares results/pg_punishments.csv: one row per punisher, target and
// round of the public goods games with punishment.
var PunishmentsSchema = table.Schema{Name: "pg_punishments", Doc: "Public goods with punishment: one row per punisher, target and round", Columns: []table.Column{
	{Name: "run_id", Type: table.String, Doc: experiment.RunIDDoc},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "replicate", Type: table.Int, Doc: "replicate, from 1"},
	{Name: "game", Type: table.String, Doc: "game name"},
	{Name: "round", Type: table.Int, Doc: "round, from 1"},
	{Name: "group", Type: table.Int, Doc: "group number"},
	{Name: "agent_id", Type: table.Int, Doc: "the punisher"},
	{Name: "target_id", Type: table.Int, Doc: "the member punished"},
	{Name: "points", Type: table.Float, Doc: "punishment points given; empty when the decision is invalid"},
	{Name: "valid", Type: table.Bool, Doc: "1 when the decision is valid"},
	{Name: "invalid_reason", Type: table.String, Doc: "why the decision is invalid"},
}}

// Estimands of the games' statistics.
const (
	estAgentMeans = "mean of agent means"                                       // each agent's replicates averaged first; CI over agents
	estGroupMeans = "mean of group means"                                       // each group-run's members averaged first; CI over group-runs
	estDecisions  = "share of decisions"                                        // CI over the agents (public goods: group-runs) deciding
	estPairs      = "share of pairs"                                            // CI over responders
	estAgentRuns  = "share of agent-replicates (each agent once per replicate)" // CI over group-runs
	// estAgentCells is estAgentRuns when factors are crossed: an agent plays each level's
	// group-runs, so it counts once per replicate and level (its levels are not pooled:
	// each level's groups are other groups).
	estAgentCells = "share of agent-cells (each agent once per replicate and factor level)"
)

// The intervals (column ci_method). Means and shares are bounded (0-1), skewed and, per agent
// or group, few, so a t interval can leave 0-1 and be too narrow: a mean's interval is an
// expanded percentile bootstrap (analysis.ExpandedBootstrapMeanCI) over agents, replicates
// averaged first, or over group-runs (members of a group play together, so they are not
// independent). A rate pools answers: when every unit (the agent deciding; the responder of a
// pair; the group-run in public goods) gave one, Wilson over those units; when some gave
// several (replicates, factor cells, a group's members), which are correlated, a bootstrap
// resampling the units (analysis.ClusteredShareCI, which keeps Wilson at 0 and 100%, where a
// bootstrap collapses). Each row's bootstrap is seeded from the experiment seed and the row's
// names, so the same configuration and seed give the same bytes.
const (
	ciBoot   = "expanded percentile bootstrap"
	ciWilson = "Wilson"
	// bootReps is the resamples behind every bootstrap interval of the games.
	bootReps = 2000
)

// bootDoc says how a bootstrap interval is drawn.
const bootDoc = "2000 resamples with replacement, seeded by the experiment seed and the row; type-7 quantiles at Hesterberg's expanded level for the number of units"

// rateMethodDoc says how a rate's interval over units is chosen.
const rateMethodDoc = ciWilson + " over the units when each gave one answer, or at a rate of 0 or 1 (then with the units as the sample size), else " + ciBoot + " of the pooled rate over them (" + bootDoc + ")"

// StatsSchema declares results/games_stats.csv: every statistic of the summary and the report.
var StatsSchema = table.Schema{Name: "games_stats", Doc: "Economic games: each measure by backend x condition, as a share (0-1) with its 95% CI, next to the published human figure", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "game", Type: table.String, Doc: "game name"},
	{Name: "measure", Type: table.String, Doc: "what is measured, as its value is: a share (0-1) of what it names (the summary prints it in %)"},
	{Name: "estimand", Type: table.String, Doc: "mean of agent means (replicates averaged within agent), mean of group means (members averaged within group-run), or share of decisions / pairs / agent-replicates / agent-cells (each agent once per replicate and factor level, when factors are crossed)"},
	{Name: "mean", Type: table.Float, Doc: "the estimate, a share (0-1); empty when there is nothing to measure"},
	{Name: "ci_low", Type: table.Float, Doc: "95% confidence interval (ci_method), lower bound; within 0-1; empty with fewer than 2 units"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "ci_method", Type: table.String, Doc: "how the interval is computed: for a mean, " + ciBoot + " over agents (each with its replicates' mean) or group-runs (each with its members' mean; " + bootDoc + "); for a share of decisions, pairs, agent-replicates or agent-cells, " + rateMethodDoc + ". The units of a share of decisions are the agents (public goods: the group-runs), of pairs the responders, of agent-replicates and agent-cells the group-runs; empty without an interval"},
	{Name: "n", Type: table.Int, Doc: "observations, counted in unit"},
	{Name: "unit", Type: table.String, Doc: "what n counts: agents, groups, decisions, pairs, agent-replicates (each agent once per replicate), agent-cells (each agent once per replicate and factor level)"},
	{Name: "human", Type: table.Float, Doc: "the published human figure (0-1); for a range, its midpoint; empty when none is a number, and for a game asked with a custom framing (games[i].scenarios: the figures are of the standard game)"},
	{Name: "human_low", Type: table.Float, Doc: "lower end of a published human range (not a confidence interval); empty otherwise"},
	{Name: "human_high", Type: table.Float, Doc: "upper end of a published human range"},
	{Name: "human_reference", Type: table.String, Doc: "the human figure as published, with its source; for a custom framing, \"custom framing (SCENARIO): the standard game's\" figure; \"none for this design (...)\" when the game is not of the humans' design; \"not applicable: ...\" (mean and human empty) when the measure cannot happen in this game (gave exactly half, when no gift can be half the endowment)"},
}}

// RoundsSchema declares results/pg_rounds.csv: the public goods contributions by round.
var RoundsSchema = table.Schema{Name: "pg_rounds", Doc: "Public goods: mean contribution by round, by backend x condition", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "game", Type: table.String, Doc: "game name"},
	{Name: "punishment", Type: table.Bool, Doc: "1 with the peer punishment stage"},
	{Name: "round", Type: table.Int, Doc: "round, from 1"},
	{Name: "estimand", Type: table.String, Doc: estGroupMeans + " (members of a group are not independent)"},
	{Name: "mean", Type: table.Float, Doc: "mean contribution, share of the endowment (0-1)"},
	{Name: "ci_low", Type: table.Float, Doc: "95% confidence interval over group-runs (ci_method), lower bound; empty with fewer than 2 group-runs"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "ci_method", Type: table.String, Doc: ciBoot + " over group-runs, each with its members' mean (" + bootDoc + "); empty without an interval"},
	{Name: "groups", Type: table.Int, Doc: "group-runs with at least one valid contribution in the round"},
}}

// RejectionsSchema declares results/ultimatum_rejections.csv.
var RejectionsSchema = table.Schema{Name: "ultimatum_rejections", Doc: "Ultimatum: share of offers rejected by offer band, by backend x condition", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "game", Type: table.String, Doc: "game name"},
	{Name: "offer_low", Type: table.Float, Doc: "band of the offer, share of the pie: from (inclusive)"},
	{Name: "offer_high", Type: table.Float, Doc: "to (exclusive), but the last band's 1 includes offers of the whole pie (the chart's \"50% or more\")"},
	{Name: "estimand", Type: table.String, Doc: estPairs + " (pairs with a valid offer and answer)"},
	{Name: "rejected", Type: table.Int, Doc: "offers rejected"},
	{Name: "pairs", Type: table.Int, Doc: "offers in the band"},
	{Name: "rate", Type: table.Float, Doc: "rejected / pairs; empty without offers"},
	{Name: "ci_low", Type: table.Float, Doc: "95% confidence interval over responders (ci_method), lower bound"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "ci_method", Type: table.String, Doc: "how the interval is computed, the units being the responders: " + rateMethodDoc + "; empty without offers"},
}}

// gameRow is one row of results/games.csv with its cell, as the statistics read it.
type gameRow struct {
	row
	runID, game string
}

// punishRow is one punishment decision.
type punishRow struct {
	runID, game   string
	group         int
	agent, target int
	points        float64
	valid         bool
}

// GameStat is one measure of one game, as a share (0-1), with its 95% CI and the published
// human figure next to it.
type GameStat struct {
	Game, Measure string
	Estimand      string
	Mean, Lo, Hi  float64 // NaN when there is nothing to measure
	Method        string  // how Lo and Hi are computed: "expanded percentile bootstrap over agents"; "" without them
	N             int
	Unit          string  // what N counts: agents, groups, decisions
	Human         float64 // NaN when the reference is not a single number
	// HumanLo and HumanHi are a published range (not a CI); NaN otherwise.
	HumanLo, HumanHi float64
	HumanText        string
	// Headline marks the mean choice of a game's role, drawn in the overview chart.
	Headline bool
}

// count is "N unit" for tables read on screen, "1 agent" in the singular (Unit, a column of
// the results, is plural).
func (s GameStat) count() string { return plural.Count(s.N, strings.TrimSuffix(s.Unit, "s")) }

// PGTrajectory is a public goods game's mean contribution by round (share of the endowment),
// with a 95% CI over group-runs (members of a group are not independent of each other).
type PGTrajectory struct {
	Game         string
	Punishment   bool
	Mean, Lo, Hi []float64 // by round, 1-based at index 0
	Method       []string  // by round: how Lo and Hi are computed
	N            []int     // group-runs by round
	Groups       int
	// Sizes are the group sizes played (ascending, each once): leftover agents make some
	// groups larger than group_size (game.PGGame), and with them their MPCR smaller.
	Sizes []int
}

// RejectBin is the ultimatum rejection rate of offers in one band of the pie.
type RejectBin struct {
	Lo, Hi         float64 // share of the pie, [Lo, Hi)
	Rejected, N    int
	Rate, CLo, CHi float64
	Method         string // how CLo and CHi are computed
}

// Group is the analysis of one backend x condition.
type Group struct {
	Backend, Condition string
	Stats              []GameStat
	PG                 []PGTrajectory
	// Reject are the ultimatum games' rejection rates by offer band, by game name.
	Reject map[string][]RejectBin
	// Invalid counts rows without a valid decision (including those not asked) by game.
	Invalid map[string]int
}

// results is the games' analysis: every output reads these numbers.
type results struct {
	spill      *spill.File // where the public goods rounds are read from
	inst       []GameInstance
	ms         []gameRun
	groups     []Group
	multiCond  bool
	punishment bool
	ultimatum  bool
}

func (s *gamesStudy) Analyze() (*study.Analysis, error) {
	if s.res == nil {
		s.res = s.analyze()
	}
	if err := s.spill.Err(); err != nil {
		return nil, err
	}
	r := s.res
	tables := []*table.Table{r.gamesTable(s.env.Exp)}
	if r.punishment {
		tables = append(tables, r.punishTable())
	}
	tables = append(tables, r.statsTable())
	if slices.ContainsFunc(r.inst, func(in GameInstance) bool { return in.Game == "public_goods" }) {
		tables = append(tables, r.roundsTable())
	}
	if r.ultimatum {
		tables = append(tables, r.rejectionsTable())
	}
	a := &study.Analysis{
		Tables:   tables,
		Summary:  r.summary,
		Sections: []report.Section{{ID: "games", Title: "Economic games", Render: r.section}},
		About:    report.About{Title: "Economic games: dictator, ultimatum, trust, public goods (games)"},
	}
	score, err := s.scorecardRows(r)
	if err != nil {
		return nil, err
	}
	scorecard.Attach(a, score, s.scoredBackends(), s.env.Exp.Conditions[0].Name, scoreIntro, s.unscored(r))
	return a, nil
}

// analyze computes every statistic once from the machines' rows, per backend x condition in
// design order.
func (s *gamesStudy) analyze() *results {
	r := &results{spill: &s.spill, inst: s.pl.inst, ms: s.ms, multiCond: len(s.env.Exp.Conditions) > 1}
	for _, in := range r.inst {
		r.punishment = r.punishment || in.Punishment
		r.ultimatum = r.ultimatum || in.Game == "ultimatum"
	}
	// One backend x condition and one game at a time: its machines' rows are made again
	// from their moves (rows), in design order, and dropped once its statistics are
	// computed, so the analysis holds one game's rows of one group, never the whole run's.
	type key struct{ b, c string }
	var keys []key
	seen := map[key]bool{}
	for _, g := range s.ms {
		k := key{g.cell.Backend, g.cell.Condition}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		g := Group{Backend: k.b, Condition: k.c, Reject: map[string][]RejectBin{}, Invalid: map[string]int{}}
		for _, in := range r.inst {
			// The seeds of the game's bootstrap intervals: each row extends this with its names.
			h := s.statsSeed(k.b, k.c, in.Name)
			// The group's rows of the game, made machine by machine as they are read: the
			// public goods statistics read them once, as they come, a round at a time
			// (a game of many rounds holds no copy of its rows); the one-shot games' rows are one a decision of a
			// step, collected.
			var ms []gameRun
			for _, m := range s.ms {
				if m.cell.Backend == k.b && m.cell.Condition == k.c && m.in.Name == in.Name {
					ms = append(ms, m)
				}
			}
			// The rows of every game but public goods, whose rows are read round by round
			// (pgRounds): each read counts the invalid ones.
			rows := func(yield func(gameRow) bool) {
				for _, m := range ms {
					for rw := range m.m.rows() {
						if !rw.valid {
							g.Invalid[in.Name]++
						}
						if !yield(gameRow{row: rw, runID: m.cell.ID, game: in.Name}) {
							return
						}
					}
				}
			}
			// A public goods game's rounds, each read from the spill once for both its rows and
			// its punishments; the round's slices are reused for the next.
			pgRounds := func(yield func(pgRound) bool) {
				var b pgRound
				for _, m := range ms {
					pm, ok := m.m.(*pgM)
					if !ok {
						continue
					}
					for rd := range pm.rounds() {
						b.rows, b.pun = b.rows[:0], b.pun[:0]
						for rw := range pm.roundRows(rd) {
							if !rw.valid {
								g.Invalid[in.Name]++
							}
							b.rows = append(b.rows, gameRow{row: rw, runID: m.cell.ID, game: in.Name})
						}
						if m.in.Punishment {
							for _, p := range rd.Punishments {
								b.pun = append(b.pun, punishRow{runID: m.cell.ID, game: in.Name, group: pm.groupOf(rd, p.From), agent: p.From, target: p.To, points: p.Points, valid: p.Valid})
							}
						}
						if !yield(b) {
							return
						}
					}
				}
			}
			var gr []gameRow
			if in.Game != "public_goods" {
				gr = slices.Collect(iter.Seq[gameRow](rows))
			}
			first := len(g.Stats)
			switch in.Game {
			case "dictator":
				g.Stats = append(g.Stats, dictatorStats(in, gr, h, s.giftStep(in))...)
			case "ultimatum":
				st, bins := ultimatumStats(in, gr, h)
				g.Stats = append(g.Stats, st...)
				g.Reject[in.Name] = bins
			case "trust":
				g.Stats = append(g.Stats, trustStats(in, gr, h)...)
			case "public_goods":
				st, tr := pgStats(in, pgRounds, h, s.env.Exp.Factors.Given()) // counts the invalid rows as it reads them
				g.Stats = append(g.Stats, st...)
				g.PG = append(g.PG, tr)
			}
			if f := customFraming(in); f != "" {
				for i := first; i < len(g.Stats); i++ {
					st := &g.Stats[i]
					if st.HumanText == "" || st.HumanText == "-" {
						continue
					}
					st.Human, st.HumanLo, st.HumanHi = math.NaN(), math.NaN(), math.NaN()
					st.HumanText = "custom framing (" + f + "): the standard game's " + st.HumanText
				}
			}
		}
		r.groups = append(r.groups, g)
	}
	return r
}

// statsSeed is the seed derivation of a game's intervals in a backend x condition; each row
// extends it with its names.
func (s *gamesStudy) statsSeed(backend, condition, game string) seed.Hash {
	return seed.Start(s.seed()).String("games_stats").String(backend).String(condition).String(game)
}

// seed is the experiment seed the bootstrap intervals are drawn from.
func (s *gamesStudy) seed() uint64 {
	if s.env.Exp.Seed == nil { // a hand-built experiment in a test
		return 0
	}
	return *s.env.Exp.Seed
}

// agentMeanCI is the mean over agents of each agent's mean with its 95% CI over agents: the
// unit of the CIs of one-shot choices is the agent (its replicates are averaged first), as in
// Study 1.
func agentMeanCI(vals map[int][]float64, sd uint64) (m, lo, hi float64, method string, n int) {
	ids := make([]int, 0, len(vals))
	for a := range vals {
		ids = append(ids, a)
	}
	sort.Ints(ids)
	means := make([]float64, 0, len(ids))
	for _, a := range ids {
		means = append(means, analysis.MeanOrZero(vals[a]))
	}
	return meanCI(means, "agents", sd)
}

// meanCI is the mean of x, one value per unit, with its expanded percentile bootstrap
// interval over the units; none with fewer than two.
func meanCI(x []float64, unit string, sd uint64) (m, lo, hi float64, method string, n int) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), "", 0
	}
	m = analysis.MeanOrZero(x)
	lo, hi = math.NaN(), math.NaN()
	if len(x) > 1 {
		lo, hi = analysis.ExpandedBootstrapMeanCI(x, 0.95, bootReps, sd)
		method = ciBoot + " over " + unit
	}
	return m, lo, hi, method, len(x)
}

// tally counts a rate's answers, K yes of N, and by the unit that gave them (an agent, a
// responder, a group-run: units in the order first seen) its yeses k and answers n.
type tally[U comparable] struct {
	unit string // what a unit is: "agents", "responders", "group-runs"
	at   map[U]int
	k, n []int
	K, N int
}

func newTally[U comparable](unit string) *tally[U] { return &tally[U]{unit: unit, at: map[U]int{}} }

func (t *tally[U]) add(u U, yes bool) {
	i, ok := t.at[u]
	if !ok {
		i = len(t.k)
		t.at[u] = i
		t.k, t.n = append(t.k, 0), append(t.n, 0)
	}
	t.n[i]++
	t.N++
	if yes {
		t.k[i]++
		t.K++
	}
}

// ci is the rate K/N with its 95% CI over the units (analysis.ClusteredShareCI: Wilson when
// each unit answered once, else a bootstrap resampling units); NaNs without answers.
func (t *tally[U]) ci(sd uint64) (rate, lo, hi float64, method string) {
	if t.N == 0 {
		return math.NaN(), math.NaN(), math.NaN(), ""
	}
	lo, hi, boot := analysis.ClusteredShareCI(t.k, t.n, 0.95, bootReps, sd)
	method = ciWilson + " over " + t.unit
	switch {
	case math.IsNaN(lo):
		method = ""
	case boot:
		method = ciBoot + " over " + t.unit
	}
	return float64(t.K) / float64(t.N), lo, hi, method
}

// rateCI is a tally's rate with its interval (tally.ci).
type rateCI struct {
	rate, lo, hi float64
	method       string
}

// ciOnce is ci, computed once per distinct tally (the same units with the same answers) in
// memo: a rate two rows show over the same pairs has one interval, the first row's, not two
// bootstrap draws of it under different seeds.
func (t *tally[U]) ciOnce(memo map[string]rateCI, sd uint64) rateCI {
	units := make([]U, len(t.k))
	for u, i := range t.at {
		units[i] = u
	}
	key := fmt.Sprint(t.unit, units, t.k, t.n)
	if c, ok := memo[key]; ok {
		return c
	}
	var c rateCI
	c.rate, c.lo, c.hi, c.method = t.ci(sd)
	memo[key] = c
	return c
}

// propStat is a rate of decisions with its CI over the units of t; sd is its game's seed
// derivation, which the measure extends.
func propStat[U comparable](game, measure string, t *tally[U], sd seed.Hash, human float64, htext string) GameStat {
	return propStatOnce(game, measure, t, sd, human, htext, nil)
}

// propStatOnce is propStat taking its interval from memo when a row over the same tally has
// one (ciOnce); nil memo: computed here.
func propStatOnce[U comparable](game, measure string, t *tally[U], sd seed.Hash, human float64, htext string, memo map[string]rateCI) GameStat {
	s := GameStat{Game: game, Measure: measure, Estimand: estDecisions, N: t.N, Unit: "decisions",
		Human: human, HumanLo: math.NaN(), HumanHi: math.NaN(), HumanText: htext}
	if memo == nil {
		s.Mean, s.Lo, s.Hi, s.Method = t.ci(sd.String(measure).Sum())
	} else {
		c := t.ciOnce(memo, sd.String(measure).Sum())
		s.Mean, s.Lo, s.Hi, s.Method = c.rate, c.lo, c.hi, c.method
	}
	return s
}

func shareStat(game, measure string, vals map[int][]float64, sd seed.Hash, human float64, htext string) GameStat {
	m, lo, hi, method, n := agentMeanCI(vals, sd.String(measure).Sum())
	return GameStat{Game: game, Measure: measure, Estimand: estAgentMeans, Mean: m, Lo: lo, Hi: hi, Method: method, N: n, Unit: "agents",
		Human: human, HumanLo: math.NaN(), HumanHi: math.NaN(), HumanText: htext, Headline: true}
}

func pctRef(v float64, src string) string { return fmt.Sprintf("%.4g%% (%s)", 100*v, src) }

// The stats functions take their game's seed derivation (sd), which each row's bootstrap
// extends with its measure (a band, a round).
//
// step is the gift field's step (0: any amount): when no gift can be exactly half the
// endowment (51 whole tokens), "gave exactly half" is reported as not applicable, not as 0%
// beside Engel's 16.74% (QA15 F4).
func dictatorStats(in GameInstance, rows []gameRow, sd seed.Hash, step float64) []GameStat {
	h := game.HumanDictator
	vals := map[int][]float64{}
	zero, half := newTally[int]("agents"), newTally[int]("agents")
	for _, r := range rows {
		if r.role != "dictator" || !r.valid {
			continue
		}
		s := r.choice / in.Endowment
		vals[r.agent] = append(vals[r.agent], s)
		zero.add(r.agent, r.choice == 0)
		half.add(r.agent, 2*r.choice == in.Endowment)
	}
	halfStat := propStat(in.Name, measGaveHalf, half, sd, h.GiveHalf, pctRef(h.GiveHalf, "Engel 2011"))
	if !halfGiftable(in.Endowment, step) {
		halfStat.Mean, halfStat.Lo, halfStat.Hi, halfStat.Method, halfStat.Human = math.NaN(), math.NaN(), math.NaN(), "", math.NaN()
		halfStat.HumanText = fmt.Sprintf("not applicable: half the endowment of %g is not a possible gift (steps of %g)", in.Endowment, step)
	}
	return []GameStat{
		shareStat(in.Name, "given, share of endowment", vals, sd, h.MeanShare, pctRef(h.MeanShare, "Engel 2011")),
		propStat(in.Name, measGaveNothing, zero, sd, h.GiveNothing, pctRef(h.GiveNothing, "Engel 2011")),
		halfStat,
	}
}

// halfGiftable says whether a gift of exactly half the endowment is possible in steps of step
// from 0 (0: any amount).
func halfGiftable(endowment, step float64) bool {
	if step <= 0 {
		return true
	}
	q := endowment / 2 / step
	return math.Abs(q-math.Round(q)) < 1e-9
}

// giftStep is the step of the gift field of the dictator scenario a game asks (0: any amount).
func (s *gamesStudy) giftStep(in GameInstance) float64 {
	for _, f := range s.pl.sc[in.Index-1]["dictator"].Response.Fields {
		if f.Name == "give" {
			return f.Step
		}
	}
	return 0
}

// The dictator shares the scorecard takes from games_stats.csv.
const (
	measGaveNothing = "gave nothing, share of dictators"
	measGaveHalf    = "gave exactly half, share of dictators"
)

// rejectBands are the offer bands of the rejection chart, as shares of the pie.
var rejectBands = [][2]float64{{0, .1}, {.1, .2}, {.2, .3}, {.3, .4}, {.4, .5}, {.5, 1.01}}

func ultimatumStats(in GameInstance, rows []gameRow, sd seed.Hash) ([]GameStat, []RejectBin) {
	h := game.HumanUltimatum
	type pk struct {
		run   string
		group int
	}
	prop := map[pk]gameRow{}
	resp := map[pk]gameRow{}
	var pairs []pk
	offers, maos := map[int][]float64{}, map[int][]float64{}
	for _, r := range rows {
		k := pk{r.runID, r.group}
		switch r.role {
		case "proposer":
			if _, dup := prop[k]; !dup {
				pairs = append(pairs, k)
			}
			prop[k] = r
			if r.valid {
				offers[r.agent] = append(offers[r.agent], r.choice/in.Endowment)
			}
		case "responder", "responder_mao":
			resp[k] = r
			if r.valid && r.role == "responder_mao" {
				maos[r.agent] = append(maos[r.agent], r.choice/in.Endowment)
			}
		}
	}
	// A rejection is the responder's decision: the rates' unit is the responder, whose
	// replicates (and factor cells) are correlated answers.
	bins := make([]RejectBin, len(rejectBands))
	binT := make([]*tally[int], len(rejectBands))
	for i, b := range rejectBands {
		bins[i] = RejectBin{Lo: b[0], Hi: b[1]}
		binT[i] = newTally[int]("responders")
	}
	rejAll, rejLow := newTally[int]("responders"), newTally[int]("responders")
	for _, k := range pairs {
		p, q := prop[k], resp[k]
		if !p.valid || !q.valid {
			continue
		}
		s := p.choice / in.Endowment
		rejected := q.choice == game.ChoiceReject
		if q.role == "responder_mao" {
			rejected = p.choice < q.choice
		}
		rejAll.add(q.agent, rejected)
		if s < h.LowOffer {
			rejLow.add(q.agent, rejected)
		}
		for i := range bins {
			if s >= bins[i].Lo && s < bins[i].Hi {
				binT[i].add(q.agent, rejected)
			}
		}
	}
	// A rate over the same pairs is one number, computed once, whichever row shows it: the
	// offers below 20% rejected are the 10-20% band's when no offer is below 10% (QA had the
	// two files' intervals from two bootstrap draws).
	once := map[string]rateCI{}
	for i := range bins {
		bins[i].Rejected, bins[i].N = binT[i].K, binT[i].N
		c := binT[i].ciOnce(once, sd.String("offer band").Int(i).Sum())
		bins[i].Rate, bins[i].CLo, bins[i].CHi, bins[i].Method = c.rate, c.lo, c.hi, c.method
	}
	src := "Oosterbeek et al. 2004"
	st := []GameStat{shareStat(in.Name, "offer, share of endowment", offers, sd, h.MeanOffer, pctRef(h.MeanOffer, src))}
	if in.Responder == "mao" {
		st = append(st, shareStat(in.Name, "minimum acceptable offer, share of endowment", maos, sd, math.NaN(), "-"))
	}
	all := propStatOnce(in.Name, "offers rejected, share of pairs", rejAll, sd, h.RejectAll, pctRef(h.RejectAll, src), once)
	low := propStatOnce(in.Name, fmt.Sprintf("offers below %.0f%% rejected", 100*h.LowOffer), rejLow, sd, h.RejectLow, "about half ("+src+")", once)
	all.Unit, low.Unit = "pairs", "pairs"
	all.Estimand, low.Estimand = estPairs, estPairs
	st = append(st, all, low)
	return st, bins
}

func trustStats(in GameInstance, rows []gameRow, sd seed.Hash) []GameStat {
	h := game.HumanTrust
	type pk struct {
		run   string
		group int
	}
	sentBy := map[pk]float64{}
	sent, ret := map[int][]float64{}, map[int][]float64{}
	for _, r := range rows {
		if r.role == "sender" && r.valid {
			sent[r.agent] = append(sent[r.agent], r.choice/in.Endowment)
			sentBy[pk{r.runID, r.group}] = r.choice
		}
	}
	for _, r := range rows {
		if r.role != "returner" || !r.valid {
			continue
		}
		s := sentBy[pk{r.runID, r.group}]
		if s > 0 {
			ret[r.agent] = append(ret[r.agent], r.choice/(s*in.Multiplier))
		}
	}
	src := "Johnson & Mislin 2011"
	return []GameStat{
		shareStat(in.Name, "sent, share of endowment", sent, sd, h.Sent, pctRef(h.Sent, src)),
		shareStat(in.Name, fmt.Sprintf("returned, share of the amount received (x%g)", in.Multiplier), ret, sd, h.Returned, pctRef(h.Returned, src)),
	}
}

// pgRound is one round of one run of a public goods game: its members' rows and its
// punishment decisions.
type pgRound struct {
	rows []gameRow
	pun  []punishRow
}

// pgStats reads the rounds once, in order, keeping none of them. leveled says that factors
// are crossed: a group-run is then one replicate's at one level.
func pgStats(in GameInstance, rounds iter.Seq[pgRound], sd seed.Hash, leveled bool) ([]GameStat, PGTrajectory) {
	h := game.HumanPublicGoods
	type gk struct {
		run   string
		group int
	}
	// sums[round][group] of valid shares
	sums := make([]map[gk][]float64, in.Rounds)
	for i := range sums {
		sums[i] = map[gk][]float64{}
	}
	first := map[int][]float64{}
	// Members of a group play together: the final round's rates are over group-runs.
	lastZero, lastAll := newTally[gk]("group-runs"), newTally[gk]("group-runs")
	// The group-runs with a valid contribution in some round.
	groups := map[gk]bool{}
	type ak struct {
		run          string
		group, agent int
	}
	// Each agent-replicate punished or not, in the order first seen; its unit is its group-run.
	punished, at := []bool{}, map[ak]int{}
	var runs []ak
	// Members of each group-run in round 1, valid or not: the group sizes played.
	members := map[gk]int{}
	for rd := range rounds {
		for _, r := range rd.rows {
			if r.role == "member" && r.round == 1 {
				members[gk{r.runID, r.group}]++
			}
			if r.role != "member" || !r.valid || r.round < 1 || r.round > in.Rounds {
				continue
			}
			s := r.choice / in.Endowment
			k := gk{r.runID, r.group}
			groups[k] = true
			sums[r.round-1][k] = append(sums[r.round-1][k], s)
			if r.round == 1 {
				first[r.agent] = append(first[r.agent], s)
			}
			if r.round == in.Rounds {
				lastZero.add(k, r.choice == 0)
				lastAll.add(k, r.choice == in.Endowment)
			}
		}
		for _, p := range rd.pun {
			a := ak{p.runID, p.group, p.agent}
			i, ok := at[a]
			if !ok {
				i = len(runs)
				at[a] = i
				runs, punished = append(runs, a), append(punished, false)
			}
			punished[i] = punished[i] || p.valid && p.points > 0
		}
	}
	tr := PGTrajectory{Game: in.Name, Punishment: in.Punishment}
	for round, m := range sums {
		keys := make([]gk, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].run < keys[j].run || keys[i].run == keys[j].run && keys[i].group < keys[j].group
		})
		var gm []float64
		for _, k := range keys {
			gm = append(gm, analysis.MeanOrZero(m[k]))
		}
		mu, lo, hi, method, n := meanCI(gm, "group-runs", sd.String("round").Int(round+1).Sum())
		tr.Mean, tr.Lo, tr.Hi, tr.N = append(tr.Mean, mu), append(tr.Lo, lo), append(tr.Hi, hi), append(tr.N, n)
		tr.Method = append(tr.Method, method)
	}
	tr.Groups = len(groups)
	for _, n := range members {
		tr.Sizes = append(tr.Sizes, n)
	}
	slices.Sort(tr.Sizes)
	tr.Sizes = slices.Compact(tr.Sizes)
	if len(tr.Sizes) == 0 { // none played yet (the live view): the configured size
		tr.Sizes = []int{in.GroupSize}
	}
	src := "Fehr & Gächter 2000"
	r1 := shareStat(in.Name, "round 1 contribution, share of endowment", first, sd, (h.FirstLo+h.FirstHi)/2,
		fmt.Sprintf("%.0f-%.0f%% (%s)", 100*h.FirstLo, 100*h.FirstHi, src))
	r1.HumanLo, r1.HumanHi = h.FirstLo, h.FirstHi
	if why := pgUnlikeHumans(in, tr.Sizes, false); why != "" {
		r1.Human, r1.HumanLo, r1.HumanHi, r1.HumanText = math.NaN(), math.NaN(), math.NaN(), why
	}
	last := in.Rounds - 1
	rl := GameStat{Game: in.Name, Measure: fmt.Sprintf("round %d contribution, share of endowment", in.Rounds), Estimand: estGroupMeans,
		Mean: tr.Mean[last], Lo: tr.Lo[last], Hi: tr.Hi[last], Method: tr.Method[last], N: tr.N[last], Unit: "groups",
		Human: math.NaN(), HumanLo: math.NaN(), HumanHi: math.NaN(), Headline: true, HumanText: "decays towards 0 (" + src + ")"}
	if in.Punishment {
		rl.HumanText = "rises and stays high (Fehr & Gächter 2000, 2002)"
	}
	// The final round's and the whole game's figures are of F&G's ten rounds.
	unlike := pgUnlikeHumans(in, tr.Sizes, true)
	if unlike != "" {
		rl.HumanText = unlike
	}
	human := func(s GameStat) GameStat {
		if unlike != "" {
			s.Human, s.HumanText = math.NaN(), unlike
		}
		return s
	}
	st := []GameStat{r1}
	if in.Rounds > 1 {
		st = append(st, rl)
	}
	if in.Punishment {
		st = append(st, human(propStat(in.Name, fmt.Sprintf("contributed everything in round %d", in.Rounds), lastAll, sd, h.LastAllPunish, pctRef(h.LastAllPunish, "Fehr & Gächter 2002"))))
		once := newTally[gk]("group-runs")
		for i, a := range runs {
			once.add(gk{a.run, a.group}, punished[i])
		}
		// The label names what n counts, as the estimand does (QA15 F9: "share of agents" with
		// n = 82 for 41 agents x 2 replicates).
		unit, est := "agent-replicates", estAgentRuns
		if leveled { // n counts an agent at each level: the unit says so (qa11: 360 = 60 x 2 x 3)
			unit, est = "agent-cells", estAgentCells
		}
		ps := propStat(in.Name, "punished at least once, share of "+unit, once, sd, h.PunishedOnce, pctRef(h.PunishedOnce, "Fehr & Gächter 2002"))
		ps.Unit, ps.Estimand = unit, est
		st = append(st, human(ps))
	} else {
		st = append(st, human(propStat(in.Name, fmt.Sprintf("contributed nothing in round %d", in.Rounds), lastZero, sd, h.LastZeroNoPunish, pctRef(h.LastZeroNoPunish, "Fehr & Gächter 2002"))))
	}
	if note := pgMixedNote(in.Multiplier, tr.Sizes); note != "" {
		for i := range st {
			if !strings.HasPrefix(st[i].HumanText, "none for this design") {
				st[i].HumanText += note
			}
		}
	}
	return st, tr
}

// pgUnlikeHumans says why a public goods game's design is not the one the human figures come
// from ("" when it is): groups of 4 and a marginal per-capita return of 0.4, and with rounds,
// ten of them (for the final round's figures and the whole game's). The design is the
// configured group size; sizes are the group sizes played (PGTrajectory.Sizes), named when
// leftover agents made some groups larger (pgMixedNote says so when the figure is kept).
func pgUnlikeHumans(in GameInstance, sizes []int, rounds bool) string {
	h := game.HumanPublicGoods
	var diff []string
	if in.GroupSize != h.GroupSize || math.Abs(in.Multiplier/float64(in.GroupSize)-h.MPCR) > 1e-9 {
		if len(sizes) > 1 {
			diff = append(diff, pgGroupsText(in.Multiplier, sizes))
		} else {
			if in.GroupSize != h.GroupSize {
				diff = append(diff, fmt.Sprintf("groups of %d", in.GroupSize))
			}
			if mpcr := in.Multiplier / float64(in.GroupSize); math.Abs(mpcr-h.MPCR) > 1e-9 {
				diff = append(diff, fmt.Sprintf("MPCR %.3g", mpcr))
			}
		}
	}
	if rounds && in.Rounds != h.Rounds {
		diff = append(diff, plural.Count(in.Rounds, "round"))
	}
	if len(diff) == 0 {
		return ""
	}
	return fmt.Sprintf("none for this design (%s; humans: groups of %d, MPCR %.1f, %d rounds)", strings.Join(diff, ", "), h.GroupSize, h.MPCR, h.Rounds)
}

// pgMixedNote is what a human reference of a public goods game adds when leftover agents made
// some of its groups larger than configured (sizes, PGTrajectory.Sizes): the sizes played and
// their MPCR, so a reader sees what the figure beside humans' is of; "" otherwise.
func pgMixedNote(multiplier float64, sizes []int) string {
	if len(sizes) < 2 {
		return ""
	}
	return "; played in " + pgGroupsText(multiplier, sizes) + ", leftover agents joining groups"
}

// pgGroupsText names the group sizes played and the MPCR (multiplier / size) of each:
// "groups of 4 (MPCR 0.4)", "groups of 3 (MPCR 0.533) and of 4 (MPCR 0.4)".
func pgGroupsText(multiplier float64, sizes []int) string {
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = fmt.Sprintf("%d (MPCR %.3g)", n, multiplier/float64(n))
	}
	return "groups of " + strings.Join(parts, " and of ")
}

// customFraming names the scenarios in asks in place of the game's built-in ones
// ("dictator_charity"), "" when there are none: the published human figures are of the
// standard games' framings (a charity as the recipient draws larger gifts), which the
// behavioural model was fitted to.
func customFraming(in GameInstance) string {
	var out []string
	for _, role := range in.Roles() {
		if sc := in.Scenarios[role]; sc != DefaultGameScenario(&in, role) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, ", ")
}

// ---- tables ---------------------------------------------------------------------------------

// tidy rounds away floating-point noise (20 - 8 + 1.6 x 7 is 23.200000000000003) at 1e-9.
func tidy(v float64) float64 { return math.Round(v*1e9) / 1e9 }

// intOrNil is v, or missing for 0 (no group, no partner).
func intOrNil(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

// gamesTable is games.csv, with exp's factor columns last (as decisions.csv has them).
func (r *results) gamesTable(exp *experiment.Experiment) *table.Table {
	schema := study.WithFactorColumns(GamesSchema, exp)
	return &table.Table{Schema: schema, Rows: func(emit func([]any) error) error {
		for _, g := range r.ms {
			levels := study.FactorLevels(g.cell)
			for rw := range g.m.rows() {
				if err := emit(append([]any{g.cell.ID, g.cell.Condition, g.cell.Replicate, g.in.Name, rw.round,
					intOrNil(rw.group), rw.agent, rw.role, intOrNil(rw.partner),
					rw.choice, tidy(rw.payoff), rw.valid, table.OneLine(rw.reason), rw.version}, levels...)); err != nil {
					return err
				}
			}
		}
		return r.spill.Err()
	}}
}

func (r *results) punishTable() *table.Table {
	return &table.Table{Schema: PunishmentsSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.ms {
			pm, ok := g.m.(*pgM)
			if !ok || !g.in.Punishment {
				continue
			}
			for rd := range pm.rounds() {
				for _, p := range rd.Punishments {
					pts := math.NaN()
					if p.Valid {
						pts = p.Points
					}
					if err := emit([]any{g.cell.ID, g.cell.Condition, g.cell.Replicate, g.in.Name, rd.Round,
						pm.groupOf(rd, p.From), p.From, p.To, pts, p.Valid, table.OneLine(p.Reason)}); err != nil {
						return err
					}
				}
			}
		}
		return r.spill.Err()
	}}
}

func (r *results) statsTable() *table.Table {
	return &table.Table{Schema: StatsSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.groups {
			for _, s := range g.Stats {
				if err := emit([]any{g.Backend, g.Condition, s.Game, s.Measure, s.Estimand, s.Mean, s.Lo, s.Hi, s.Method, s.N, s.Unit,
					s.Human, s.HumanLo, s.HumanHi, s.HumanText}); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

func (r *results) roundsTable() *table.Table {
	return &table.Table{Schema: RoundsSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.groups {
			for _, t := range g.PG {
				for i := range t.Mean {
					if err := emit([]any{g.Backend, g.Condition, t.Game, t.Punishment, i + 1, estGroupMeans, t.Mean[i], t.Lo[i], t.Hi[i], t.Method[i], t.N[i]}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}}
}

func (r *results) rejectionsTable() *table.Table {
	return &table.Table{Schema: RejectionsSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.groups {
			for _, in := range r.inst {
				for _, b := range g.Reject[in.Name] {
					if err := emit([]any{g.Backend, g.Condition, in.Name, b.Lo, math.Min(b.Hi, 1), estPairs, b.Rejected, b.N, b.Rate, b.CLo, b.CHi, b.Method}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}}
}

// ---- summary --------------------------------------------------------------------------------

func pctCI(m, lo, hi float64) string {
	if math.IsNaN(m) {
		return "-"
	}
	if math.IsNaN(lo) {
		return fmt.Sprintf("%.1f%%", 100*m)
	}
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*m, 100*lo, 100*hi)
}

// summary prints, per backend x condition, each game's mean choice as a share of the
// endowment with its 95% CI next to the published human figure, and the public goods
// contributions by round.
func (r *results) summary(w io.Writer) error {
	for _, g := range r.groups {
		fmt.Fprintf(w, "\nEconomic games, backend %s, condition %s\n", report.DescribeBackend(g.Backend), g.Condition)
		termtable.WriteText(w, "Shares in %, 95% CI (ci_method of results/games_stats.csv): "+g.methods()+".")
		rows := [][]string{{"game", "measure", "this run", "n", "human reference"}}
		for _, s := range g.Stats {
			rows = append(rows, []string{s.Game, s.Measure, pctCI(s.Mean, s.Lo, s.Hi), s.count(), s.HumanText})
		}
		// Key: game and measure, so every block of a split table says what each row measures;
		// on a narrow terminal the measure and the reference wrap (game and measure at full
		// width are 62 columns).
		if err := termtable.WriteWrap(w, 2, rows, map[int]int{1: 22, 4: 24}); err != nil {
			return err
		}
		for _, t := range g.PG {
			var xs []string
			for _, m := range t.Mean {
				if math.IsNaN(m) {
					xs = append(xs, "-")
				} else {
					xs = append(xs, fmt.Sprintf("%.0f", 100*m))
				}
			}
			termtable.WriteText(w, fmt.Sprintf("%s: mean contribution by round, %% of endowment (%s): %s", t.Game, plural.Count(t.Groups, "group"), strings.Join(xs, " ")))
		}
		var inv []string
		for _, in := range r.inst {
			if n := g.Invalid[in.Name]; n > 0 {
				inv = append(inv, fmt.Sprintf("%s %d", in.Name, n))
			}
		}
		if len(inv) > 0 {
			termtable.WriteText(w, "Rows of results/games.csv without a valid decision (invalid replies, not asked, unpaired): "+strings.Join(inv, ", "))
		}
	}
	return nil
}

// methods names the methods of the group's intervals, each with its units, in the order first
// met: "expanded percentile bootstrap over agents or group-runs; Wilson over agents".
func (g Group) methods() string {
	var ms []string
	for _, s := range g.Stats {
		ms = append(ms, s.Method)
	}
	return methodsText(ms)
}

// methodsText groups methods ("M over U") by M: "M over U1 or U2; M2 over U3"; "none" when
// every one is empty.
func methodsText(ms []string) string {
	var names []string
	units := map[string][]string{}
	for _, m := range ms {
		name, unit, ok := strings.Cut(m, " over ")
		if !ok {
			continue
		}
		if _, seen := units[name]; !seen {
			names = append(names, name)
		}
		if !slices.Contains(units[name], unit) {
			units[name] = append(units[name], unit)
		}
	}
	if len(names) == 0 {
		return "none (fewer than 2 units)"
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " over " + strings.Join(units[n], " or ")
	}
	return strings.Join(parts, "; ")
}

// ---- report section -------------------------------------------------------------------------

//go:embed section.html.tmpl
var sectionSrc string

var sectionTmpl = template.Must(template.New("games").Funcs(report.Funcs).Parse(sectionSrc))

// sectionData is what the section template shows.
type sectionData struct {
	Settings [][]string
	Overview report.BarChart
	Sources  string
	Groups   []groupTable
	Rounds   *report.LineChart
	Rejects  *report.BarChart
	// RejectMethods names the rejection whiskers' methods.
	RejectMethods string
}

type groupTable struct {
	Label   string
	Methods string // the intervals' methods
	Rows    [][]string
}

// seriesLabel names a backend x condition in charts: the condition only when there are
// several.
func (r *results) seriesLabel(g Group) string {
	s := g.Backend
	if report.Behavioural(s) {
		s += " (behavioural model)"
	}
	if r.multiCond {
		s += ", " + g.Condition
	}
	return s
}

// legendTitle names what seriesLabel distinguishes.
func (r *results) legendTitle() string {
	if r.multiCond {
		return "Backend, condition"
	}
	return "Backend"
}

func nanRow(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// headlineLabel is a headline measure's short name in the overview chart. A public goods
// round names its estimand: round 1 is a mean of agent means, the final round (and the
// contributions-by-round chart) a mean of group means, so round 1 differs between the two
// figures (QA15 F9: 53.54 and 54.04).
func headlineLabel(s GameStat) string {
	m := strings.SplitN(s.Measure, ",", 2)[0]
	for _, r := range [][2]string{{"given", "give"}, {"minimum acceptable offer", "MAO"}, {"returned", "return"}, {"sent", "send"}, {" contribution", ""}, {"round ", "r"}} {
		m = strings.Replace(m, r[0], r[1], 1)
	}
	if strings.HasPrefix(s.Measure, "round ") {
		switch s.Estimand {
		case estAgentMeans:
			m += " (agent means)"
		case estGroupMeans:
			m += " (group means)"
		}
	}
	return s.Game + ": " + m
}

// pgSizes are the group sizes a public goods game was played with, in any backend and
// condition (PGTrajectory.Sizes).
func (r *results) pgSizes(in GameInstance) []int {
	var out []int
	for _, g := range r.groups {
		for _, t := range g.PG {
			if t.Game == in.Name {
				out = append(out, t.Sizes...)
			}
		}
	}
	slices.Sort(out)
	if out = slices.Compact(out); len(out) == 0 {
		out = []int{in.GroupSize}
	}
	return out
}

func (r *results) section(fig *report.Figures) (template.HTML, error) {
	d := sectionData{Sources: strings.Join([]string{game.HumanDictator.Source, game.HumanUltimatum.Source, game.HumanTrust.Source, game.HumanPublicGoods.Source}, "; ")}
	for _, in := range r.inst {
		s := fmt.Sprintf("endowment %g", in.Endowment)
		switch in.Game {
		case "ultimatum":
			s += ", responder " + in.Responder
		case "trust":
			s += fmt.Sprintf(", multiplier %g", in.Multiplier)
		case "public_goods":
			s += fmt.Sprintf(", multiplier %g, %s, %s, punishment %s", in.Multiplier, pgGroupsText(in.Multiplier, r.pgSizes(in)), plural.Count(in.Rounds, "round"), map[bool]string{true: "on", false: "off"}[in.Punishment])
		}
		var sc []string
		for _, role := range in.Roles() {
			sc = append(sc, role+": "+in.Scenarios[role])
		}
		d.Settings = append(d.Settings, []string{in.Name, in.Game, s, strings.Join(sc, ", ")})
	}
	// Overview: each role's mean choice next to the human figure (a range for public goods
	// round 1, drawn as the bar's whiskers).
	var cats []string
	var humanM, humanLo, humanHi []float64
	for _, g := range r.groups {
		for _, s := range g.Stats {
			c := headlineLabel(s)
			if s.Headline && !slices.Contains(cats, c) {
				cats = append(cats, c)
				humanM, humanLo, humanHi = append(humanM, s.Human), append(humanLo, s.HumanLo), append(humanHi, s.HumanHi)
			}
		}
	}
	// At most the page's width: the category labels wrap instead (no chart scaled down to 8 px text).
	bc := report.BarChart{Title: "Mean choice by game and role", XLabel: "Game: choice", YLabel: "Mean, share of the endowment", Categories: cats, Y0: 0, Y1: 100,
		Width: math.Min(report.MaxWidth, math.Max(560, 120*float64(len(cats))+210)), YFormat: report.Percent,
		LegendTitle: r.legendTitle(), RefLabel: "Humans"}
	for _, g := range r.groups {
		bc.Groups = append(bc.Groups, r.seriesLabel(g))
		m, lo, hi := nanRow(len(cats)), nanRow(len(cats)), nanRow(len(cats))
		for _, s := range g.Stats {
			if i := slices.Index(cats, headlineLabel(s)); i >= 0 && s.Headline {
				m[i], lo[i], hi[i] = 100*s.Mean, 100*s.Lo, 100*s.Hi
			}
		}
		bc.Mean, bc.Lo, bc.Hi = append(bc.Mean, m), append(bc.Lo, lo), append(bc.Hi, hi)
	}
	// The human figures are references, not a bar of data: a single value is a dashed line
	// across its cluster, a published range a labelled band (not a confidence interval).
	for i := range cats {
		ref := report.Ref{Value: 100 * humanM[i], Lo: 100 * humanLo[i], Hi: 100 * humanHi[i]}
		if !math.IsNaN(ref.Lo) && !math.IsNaN(ref.Hi) {
			ref.Label = fmt.Sprintf("humans %.0f-%.0f%%", ref.Lo, ref.Hi)
		}
		bc.Refs = append(bc.Refs, ref)
	}
	d.Overview = bc
	for _, g := range r.groups {
		gt := groupTable{Label: r.seriesLabel(g), Methods: g.methods()}
		for _, s := range g.Stats {
			gt.Rows = append(gt.Rows, []string{s.Game, s.Measure, pctCI(s.Mean, s.Lo, s.Hi), s.count(), s.HumanText})
		}
		d.Groups = append(d.Groups, gt)
	}
	// Public goods by round.
	var ss []report.Series
	rounds := 0
	for i, g := range r.groups {
		for j, t := range g.PG {
			name := t.Game
			if len(r.groups) > 1 {
				name = r.seriesLabel(g) + ", " + t.Game
			}
			s := report.Series{Name: name, Color: report.Palette[(i*len(g.PG)+j)%len(report.Palette)]}
			if t.Punishment {
				s.Marker = "square"
			}
			for k := range t.Mean {
				s.X, s.Y, s.Lo, s.Hi = append(s.X, float64(k+1)), append(s.Y, 100*t.Mean[k]), append(s.Lo, 100*t.Lo[k]), append(s.Hi, 100*t.Hi[k])
			}
			rounds = max(rounds, len(t.Mean))
			ss = append(ss, s)
		}
	}
	if len(ss) > 0 {
		h := game.HumanPublicGoods
		// The band of humans' round 1 only where every public goods game is of their design.
		humanFirst := !slices.ContainsFunc(r.inst, func(in GameInstance) bool {
			return in.Game == "public_goods" && pgUnlikeHumans(in, r.pgSizes(in), false) != ""
		})
		d.Rounds = &report.LineChart{Title: "Public goods: contributions by round", XLabel: "Round", YLabel: "Mean of group means (share of endowment)",
			X0: 1, X1: float64(max(rounds, 2)), Y0: 0, Y1: 100, Series: ss, YFormat: report.Percent, LegendTitle: r.legendTitle() + ", game",
		}
		if humanFirst {
			d.Rounds.Bands = []report.Band{{X0: 0.8, X1: 1.2, Lo: 100 * h.FirstLo, Hi: 100 * h.FirstHi, Label: fmt.Sprintf("humans, round 1: %.0f-%.0f%%", 100*h.FirstLo, 100*h.FirstHi)}}
		}
	}
	// Ultimatum rejections by offer band.
	bands := make([]string, len(rejectBands))
	for i, b := range rejectBands {
		if b[1] > 1 {
			bands[i] = fmt.Sprintf("%.0f%% or more", 100*b[0])
		} else {
			bands[i] = fmt.Sprintf("%.0f-%.0f%%", 100*b[0], 100*b[1])
		}
	}
	var rejectMethods []string
	rc := report.BarChart{Title: "Ultimatum: rejections by offer", XLabel: "Offer (share of the pie)", YLabel: "Offers rejected", Categories: bands, Y0: 0, Y1: 100, YFormat: report.Percent, LegendTitle: "Game", RefLabel: "Humans"}
	if len(r.groups) > 1 {
		rc.LegendTitle = r.legendTitle() + ", game"
	}
	for _, g := range r.groups {
		names := make([]string, 0, len(g.Reject))
		for n := range g.Reject {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			name := n
			if len(r.groups) > 1 {
				name = r.seriesLabel(g) + ", " + n
			}
			m, lo, hi := nanRow(len(bands)), nanRow(len(bands)), nanRow(len(bands))
			for i, b := range g.Reject[n] {
				m[i], lo[i], hi[i] = 100*b.Rate, 100*b.CLo, 100*b.CHi
				rejectMethods = append(rejectMethods, b.Method)
			}
			rc.Groups = append(rc.Groups, name)
			rc.Mean, rc.Lo, rc.Hi = append(rc.Mean, m), append(rc.Lo, lo), append(rc.Hi, hi)
		}
	}
	if len(rc.Groups) > 0 {
		h := game.HumanUltimatum
		for _, b := range rejectBands {
			ref := report.Ref{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
			if b[1] <= h.LowOffer {
				ref.Value = 100 * h.RejectLow
			}
			rc.Refs = append(rc.Refs, ref)
		}
		d.Rejects = &rc
		d.RejectMethods = methodsText(rejectMethods)
	}
	return report.Exec(sectionTmpl, d, fig)
}
