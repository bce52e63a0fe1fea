// Package network is Study 3: policy-induced inequity on a network. Agents live on a graph
// and rate, round after round ("days"), their willingness to volunteer and how unfair they find
// the situation; from a round on, a condition's inequity treats a group unfairly, and the
// others hear about it from their neighbours. Each round of every run is one synchronous step.
//
// Each inequity run is compared with its control twin (the same agents in the control run of
// the same replicate, with the same graph, activations and random numbers): effects are paired
// differences (twin.go, twinstats.go), and an agent is "affected" in a round when it rated its
// willingness at least a noise band below its twin that day and the day before, the band being
// 1.96 times the twin difference's noise measured before the unfair treatment (on an LLM, whose
// twins share a reply until their prompts differ, the placebo's: two independent draws) and at
// least one point (label.go, with the placebo that measures what noise alone gives).
//
// network.store: full (default) journals every decision; store: summary (study.Unrecorded)
// journals nothing: each round's replies are folded into per-round aggregates by exposure
// group as they come (Batch.Absorb), so memory stays bounded for a million agents.
package network

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/robust"
	"github.com/prosim/prosim/internal/study/spill"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

// Name is the study's name in experiment files.
const Name = "network"

func init() {
	study.RegisterDesign(Name, design)
	study.Register(Name, New, RoundsSchema, EdgesSchema, MediationSchema, EffectsSchema, ContagionSchema, RoundsSummarySchema, GroupsSchema, robust.Schema)
	study.RegisterAgentColumns(Name, AgentColumns...)
}

// AgentColumns are Study 3's columns of results/agents.csv.
var AgentColumns = []table.Column{
	{Name: "degree", Type: table.Int, Doc: "Study 3: the agent's number of neighbours in the graph (one graph per experiment; with network.graph.per_replicate, replicate 1's)"},
}

// AgentValues gives agent i's degree (agent i is node i).
func (s *netStudy) AgentValues(i int) []any { return []any{s.g.Degree(i)} }

// graphOf is replicate rep's graph: the experiment's, or with graph.per_replicate one drawn
// from Derive(seed, "graph", rep) (replicate 1's is s.g, which the graph outputs show).
func (s *netStudy) graphOf(rep int) (*network.Graph, error) {
	if !s.cfg.Graph.PerReplicate {
		return s.g, nil
	}
	if g, ok := s.graphs[rep]; ok {
		return g, nil
	}
	gc := s.cfg.Graph
	gc.N = len(s.env.Agents)
	g, err := buildGraph(gc, s.env.Agents, seed.Derive(s.seed, "graph", rep))
	if err != nil {
		return nil, fmt.Errorf("network.graph, replicate %d: %w", rep, err)
	}
	s.graphs[rep] = g
	return g, nil
}

// unfairnessField is added to the network scenario's schema.
var unfairnessField = scenario.Field{Name: "unfairness", Kind: scenario.Likert, Min: 1, Max: 7,
	LowLabel: "not at all unfair", HighLabel: "extremely unfair",
	Description: "how unfair you find the situation, from 1 to 7"}

// netStudy is one run of Study 3.
type netStudy struct {
	env     *study.Env
	g       *network.Graph // the experiment's graph (per_replicate: replicate 1's)
	graphs  map[int]*network.Graph
	stats   func() network.Summary // measured once, when the analysis first needs it (never while estimating)
	sc      scenario.Scenario
	schema  scenario.Schema
	cfg     *Config
	conds   map[string]*netCond // by condition name
	seed    uint64
	summary bool // network.store: summary
	wScale  scale
	uScale  scale

	worlds []*world
	agg    *aggregator
	round  int  // the round asked last (0 before the first)
	done   bool // every round is recorded
	// rows[world][round-1] (full store only) is where a round's record is in the spill file:
	// its rows (one per node), for rounds.csv, the mediation and the drawing (16 bytes a
	// decision held in memory before), then its observation counts, for rounds.csv.
	rows  [][]spill.Span
	spill spill.File
	// names numbers the rows' strings.
	names names
	// The typed path (typed.go): typedOf from the runner; typed, one per world, when used.
	typedOf        func(c *study.Cell) situation.Typed
	typed          []typedWorld
	typedW, typedU int // the willingness and unfairness fields' indices in the schema
	// systems are the system texts under the persona and system factors.
	systems *study.Systems
}

// netCond is one condition's intervention (nil iv for a control).
type netCond struct {
	iv    *policy.Intervention
	by    string // target top: the field ranked
	text  string // rendered unfair-treatment text
	label string // the inequity's settings in words (Inequity.Label)
}

// New checks the network section against the libraries and the population.
func New(env *study.Env) (study.Study, error) {
	exp := env.Exp
	cfg := ConfigOf(exp)
	if cfg == nil {
		return nil, env.Errorf("network", "study network needs a network section")
	}
	s := &netStudy{env: env, cfg: cfg, conds: map[string]*netCond{}, graphs: map[int]*network.Graph{}, seed: *exp.Seed, summary: cfg.Store == "summary", spill: spill.File{What: "Study 3 rounds"},
		systems: study.NewSystems(env)}
	sc, ok := env.Scenarios.Get(cfg.Scenario)
	if !ok {
		return nil, env.Errorf("network.scenario", "%s", env.Scenarios.Unknown(cfg.Scenario, "see `prosim scenarios`"))
	}
	if sc.Kind != "vignette" {
		return nil, env.Errorf("network.scenario", "scenario %q is a %s; study network takes a vignette", sc.ID, sc.Kind)
	}
	if _, dup := sc.Response.Field("unfairness"); !dup {
		s.schema.Fields = append(append([]scenario.Field{}, sc.Response.Fields...), unfairnessField)
	} else {
		s.schema = sc.Response
	}
	for _, name := range []string{"willingness", "unfairness"} {
		f, ok := s.schema.Field(name)
		if !ok {
			return nil, env.Errorf("network.scenario", "scenario %q has no %s field: study network rates willingness", sc.ID, name)
		}
		if f.Kind != scenario.Likert || f.Min < -128 || f.Max > 127 || f.Max <= f.Min {
			return nil, env.Errorf("network.scenario", "scenario %q: field %s must be a rating scale of integers within -128..127 (it is %s %g..%g)", sc.ID, name, f.Kind, f.Min, f.Max)
		}
		if name == "willingness" {
			s.wScale = scale{f.Min, f.Max}
		} else {
			s.uScale = scale{f.Min, f.Max}
		}
	}
	s.sc = sc
	if err := s.checkFactors(); err != nil {
		return nil, err
	}
	gc := cfg.Graph
	if gc.Type != "edgelist" && gc.Type != "prosim104" && gc.N == 0 {
		// A population read from a file is counted only once loaded: the graph takes its size.
		gc.N = len(env.Agents)
	}
	gseed := seed.Derive(s.seed, "graph")
	if gc.PerReplicate {
		gseed = seed.Derive(s.seed, "graph", 1)
	}
	g, err := buildGraph(gc, env.Agents, gseed)
	if yamlx.Elsewhere(err, env.Doc.Name()) {
		return nil, err // the edge list's own problems
	} else if err != nil {
		return nil, env.Errorf("network.graph", "%v", err)
	}
	if g.N() != len(env.Agents) {
		return nil, env.Errorf("network.graph", "the graph has %d nodes but the population has %d agents: they must match (agent i is node i)", g.N(), len(env.Agents))
	}
	s.g = g
	if gc.PerReplicate {
		s.graphs[1] = g
	}
	s.stats = sync.OnceValue(func() network.Summary { return network.Stats(g, seed.Derive(s.seed, "graph-stats")) })
	// Every condition's problems at once: a population file's agents are known only now.
	l := yamlx.NewList(env.Doc.Name())
	for i, c := range exp.Conditions {
		nc := &netCond{}
		if q := InequityOf(&c); q != nil {
			path := fmt.Sprintf("conditions[%d].inequity", i)
			rule := policy.Rule{Kind: q.Target, K: q.K}
			var err error
			rule.Nodes, err = q.checkAgents(env.Doc, path, env.Agents)
			l.Add(err)
			nc.iv = &policy.Intervention{Rule: rule, From: q.From, To: q.To}
			nc.by = q.By
			nc.label = q.Label()
			f, _ := env.Policies.Get(c.Policy)
			tf := policy.Frame{ID: c.Name + ".inequity", Channel: "moral", Amount: f.Amount, Default: q.Text, Source: exp.File}
			if nc.text, err = tf.Text(sc.ID, exp.Population.Currency); err != nil {
				l.Add(env.Errorf(path+".text", "%v", err))
			}
		}
		s.conds[c.Name] = nc
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	if err := s.checkBand(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkBand refuses a design whose affected label has no noise band to measure: on an LLM,
// the band is measured between replicates (a control against another replicate's, label.go),
// so one replicate leaves the label, and every table built on it (network_contagion.csv,
// share_affected, rounds.csv's affected) and the contagion rule under spread_from: affected,
// without one. Checked here, on the backends the run will use (--backend replaces the file's).
func (s *netStudy) checkBand() error {
	exp := s.env.Exp
	if exp.Replicates >= 2 || !slices.ContainsFunc(slices.Collect(maps.Values(s.conds)), func(c *netCond) bool { return c.iv != nil }) {
		return nil
	}
	for _, b := range exp.Backends {
		if b.Provider != "builtin" {
			return s.env.Errorf("replicates", "%d, but Study 3's affected label on an LLM (backend %s) measures its noise band between two replicates' control runs: give replicates: 2 or more "+
				"(an agent whose prompt equals its control twin's gets the twin's reply, so the twin differences before the treatment are 0 and measure no noise; see label.go)",
				exp.Replicates, b.LabelOrDefault())
		}
	}
	return nil
}

// buildGraph is the graph of config c, node i being agents[i]: generated graphs and prosim104
// number their nodes so; an edge list's ids are matched to the agents' ids (readEdgeList).
func buildGraph(c Graph, agents []persona.Persona, sd uint64) (*network.Graph, error) {
	switch c.Type {
	case "watts_strogatz":
		return network.WattsStrogatz(c.N, c.K, c.P, sd)
	case "barabasi_albert":
		return network.BarabasiAlbert(c.N, c.M, sd)
	case "erdos_renyi":
		if c.M > 0 {
			return network.ErdosRenyiGnm(c.N, c.M, sd)
		}
		return network.ErdosRenyiGnp(c.N, c.P, sd)
	case "prosim104":
		return network.Builtin("prosim104")
	case "edgelist":
		return readEdgeList(c.File, c.parsed, agents)
	}
	return nil, fmt.Errorf("unknown graph type %q", c.Type)
}

func (s *netStudy) Describe() string {
	e := s.env.Exp
	return fmt.Sprintf("study %s: %s x %s of %s on the graph %s x %s%s x %s x %s = %s",
		Name, plural.Count(len(s.env.Agents), "agent"), plural.Count(s.cfg.Rounds, "round"), s.cfg.Scenario, s.cfg.Graph.Type, plural.Count(len(e.Conditions), "condition"),
		study.FactorsDescribed(e), plural.Count(e.Replicates, "replicate"), plural.Count(len(s.env.Backends), "backend"), plural.Count(s.Expected(), "decision"))
}

func (s *netStudy) Expected() int { return len(s.env.Cells) * len(s.env.Agents) * s.cfg.Rounds }

// CellDecisions: every agent rates the scenario once a round, whatever it answered before.
func (s *netStudy) CellDecisions(*study.Cell) int { return len(s.env.Agents) * s.cfg.Rounds }

// Unrecorded: the summary store journals nothing.
func (s *netStudy) Unrecorded() bool { return s.summary }

// estimateNote says how Study 3's later rounds, whose prompts depend on earlier replies, are
// estimated.
const estimateNote = "rounds after the first show what neighbours answered the day before, so their prompts are " +
	"built with placeholder answers (every agent rating 4 and 4): the count of requests is exact, their tokens approximate"

func (s *netStudy) EstimateNote() string { return estimateNote }

// RoundSteps: each step (Next) is one round.
func (s *netStudy) RoundSteps() bool { return true }

// Placeholder answers 4 and 4 (the middle of 1-7; the scale's midpoint when 4 is off it).
func (s *netStudy) Placeholder(t *study.Task) backend.Reply {
	r := study.Midpoint(t.Req.Schema)
	for _, f := range t.Req.Schema.Fields {
		if f.Min <= 4 && 4 <= f.Max {
			r.Values[f.Name] = 4
		}
	}
	return r
}

// textFor reports whether cell c's requests need prompt texts: always in the full store
// (they are journaled), and for LLM backends in the summary store.
func (s *netStudy) textFor(c *study.Cell) bool {
	return !s.summary || !s.builtin(c.Backend)
}

// builtin reports whether the backend labelled label is the behavioural model.
func (s *netStudy) builtin(label string) bool {
	for _, b := range s.env.Exp.Backends {
		if b.LabelOrDefault() == label {
			return b.Provider == "builtin"
		}
	}
	return false
}

// Next ends the round asked last and returns the next round of every world, or nil.
func (s *netStudy) Next() (*study.Batch, error) {
	if s.done {
		return nil, nil
	}
	if s.summary && s.env.Replay {
		// Nothing was journaled: the analysis reads back the aggregates the run wrote.
		s.done = true
		return nil, nil
	}
	if s.worlds == nil {
		for _, c := range s.env.Cells {
			w, err := s.newWorld(c, len(s.env.Agents), s.textFor(c))
			if err != nil {
				return nil, err
			}
			s.worlds = append(s.worlds, w)
		}
		s.agg = newAggregator(s)
		for _, p := range s.agg.pairs {
			w := s.worlds[p.w]
			w.labOut = make([]bool, w.n)
		}
		if !s.summary {
			s.rows = make([][]spill.Span, len(s.worlds))
		}
		s.prepareTyped()
	}
	if s.round > 0 {
		if err := s.endRound(s.round); err != nil {
			return nil, err
		}
	}
	if s.round == s.cfg.Rounds {
		s.done = true
		return nil, nil
	}
	s.round++
	t := s.round
	acts := map[int]network.Active{}
	for _, w := range s.worlds {
		act, ok := acts[w.rep]
		if !ok {
			act = s.activation(w.g, w.rep, t)
			acts[w.rep] = act
		}
		if err := w.begin(t, act); err != nil {
			return nil, err
		}
	}
	n := len(s.env.Agents)
	var typed func(lo, hi int) error
	if s.typed != nil {
		typed = func(lo, hi int) error { return s.typedRound(t, lo, hi) }
	}
	return &study.Batch{
		Typed: typed,
		N:     len(s.worlds) * n,
		Build: func(i int) (study.Task, error) { return s.task(s.worlds[i/n], i%n, t) },
		Keys: func(i int) study.Task {
			c := s.worlds[i/n].cell
			return study.Task{Keys: []store.Key{{RunID: c.ID, AgentID: s.env.Agents[i%n].ID, Round: t, Scenario: s.sc.ID}}, Cell: c}
		},
		Absorb: func(i int, _ *study.Task, replies []backend.Reply) error {
			w, u := s.worlds[i/n], i%n
			rep := replies[0]
			if w.curVer != nil {
				w.curVer[u] = s.names.id(rep.ModelVersion)
			}
			if rep.Valid() {
				w.curW[u], w.curU[u], w.curOK[u] = int8(rep.Values["willingness"]), int8(rep.Values["unfairness"]), true
			} else if w.curBad != nil {
				w.curBad[u] = s.names.id(rep.Invalid)
			}
			return nil
		},
	}, nil
}

// endRound records round t of every world and folds it into the aggregates.
func (s *netStudy) endRound(t int) error {
	s.agg.label(t) // before any world ends the round: the twins' replies are still current
	// The round's rows are read from the worlds' own arrays (16 bytes an agent and world were
	// kept in a buffer of rows before).
	rows := make([]roundView, len(s.worlds))
	for i, w := range s.worlds {
		w.end(t)
		rows[i] = w.rows()
		if s.rows != nil {
			// The world's counts are still round t's: the next round's begin recomputes them.
			sp, err := s.spill.Write(w.encodeObs(encodeRound(nil, rows[i], w.curBad, w.curVer)))
			if err != nil {
				return err
			}
			s.rows[i] = append(s.rows[i], sp)
		}
		if w.curBad != nil {
			clear(w.curBad)
			clear(w.curVer)
		}
	}
	s.agg.round(t, rows)
	return nil
}

// roundRecord is world i's record of round t, read back from the spill file: its rows (rowSize
// bytes a node), then its observation counts (encodeObs).
func (s *netStudy) roundRecord(i, t int) (rows, obs []byte, err error) {
	b, err := s.spill.Read(s.rows[i][t-1], nil)
	if err != nil {
		return nil, nil, err
	}
	n := s.worlds[i].n * rowSize
	if len(b) < n {
		return nil, nil, fmt.Errorf("Study 3 rounds: a round's record of %d bytes does not read back", len(b))
	}
	return b[:n], b[n:], nil
}

// roundRows are world i's rows of round t.
func (s *netStudy) roundRows(i, t int) ([]row, error) {
	b, _, err := s.roundRecord(i, t)
	if err != nil {
		return nil, err
	}
	return decodeRows(b)
}

// roundRowsObs are world i's rows of round t and its agents' observation counts.
func (s *netStudy) roundRowsObs(i, t int) ([]row, []obsCounts, error) {
	rb, ob, err := s.roundRecord(i, t)
	if err != nil {
		return nil, nil, err
	}
	rows, err := decodeRows(rb)
	if err != nil {
		return nil, nil, err
	}
	obs, err := decodeObs(ob, s.worlds[i].n, s.cfg.SpreadFrom == SpreadAffected)
	if err != nil {
		return nil, nil, err
	}
	return rows, obs, nil
}

// obsCounts are what an agent heard from its neighbours over the edges active in a round
// (world.begin): each a count of neighbours.
type obsCounts struct {
	rated, treated, affected, exposures int32
}

// encodeObs appends the world's observation counts of the current round, as uvarints (a few
// bytes an agent: most counts are small): rated, treated and other, the three the world counts
// (nbCounts), from which obsOf derives affected and exposures.
func (w *world) encodeObs(b []byte) []byte {
	for u := range w.n {
		o, _ := w.cnt.at(u)
		for _, v := range [...]int32{o.rated, o.treated, o.exposures - o.treated} {
			b = binary.AppendUvarint(b, uint64(v))
		}
	}
	return b
}

// decodeObs reads the n agents' counts encodeObs wrote, of a run with spread_from affected or
// not (spread).
func decodeObs(b []byte, n int, spread bool) ([]obsCounts, error) {
	out := make([]obsCounts, n)
	for u := range out {
		var c [3]int32 // rated, treated, other
		for i := range c {
			v, k := binary.Uvarint(b)
			if k <= 0 || v > math.MaxInt32 {
				return nil, fmt.Errorf("Study 3 rounds: a round's observation counts do not read back")
			}
			c[i], b = int32(v), b[k:]
		}
		out[u] = obsOf(c[0], c[1], c[2], spread)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("Study 3 rounds: a round's observation counts do not read back (%d bytes left)", len(b))
	}
	return out, nil
}

// rowSize is a row's record: w, u, the flags, reason and version.
const rowSize = 2 + 1 + 4 + 4

// encodeRound appends the records of a world's round: its rows, with the invalid reasons and
// model versions bad and ver (nil: none).
func encodeRound(b []byte, r roundView, bad, ver []uint32) []byte {
	for u := range r.w {
		x := r.at(u)
		if bad != nil {
			x.reason, x.version = bad[u], ver[u]
		}
		b = appendRow(b, x)
	}
	return b
}

func appendRow(b []byte, x row) []byte {
	var f byte
	for i, v := range [...]bool{x.affected, x.labelled, x.rule, x.treated, x.valid} {
		if v {
			f |= 1 << i
		}
	}
	b = append(b, byte(x.w), byte(x.u), f)
	b = binary.LittleEndian.AppendUint32(b, x.reason)
	return binary.LittleEndian.AppendUint32(b, x.version)
}

// decodeRows reads what encodeRound wrote.
func decodeRows(b []byte) ([]row, error) {
	if len(b)%rowSize != 0 {
		return nil, fmt.Errorf("Study 3 rounds: a round's record of %d bytes does not read back", len(b))
	}
	rows := make([]row, len(b)/rowSize)
	for i := range rows {
		r := b[i*rowSize:]
		f := r[2]
		rows[i] = row{w: int8(r[0]), u: int8(r[1]), affected: f&1 != 0, labelled: f&2 != 0, rule: f&4 != 0, treated: f&8 != 0, valid: f&16 != 0,
			reason: binary.LittleEndian.Uint32(r[3:]), version: binary.LittleEndian.Uint32(r[7:])}
	}
	return rows, nil
}

// Close removes the spill file (the runner closes a study that is an io.Closer with the run).
func (s *netStudy) Close() error { return s.spill.Close() }

// task is agent u's decision in round t of world w (after begin).
func (s *netStudy) task(w *world, u, t int) (study.Task, error) {
	env := s.env
	a := &env.Agents[u]
	soc := w.social(u)
	c := w.cell
	req := backend.Request{
		AgentID: a.ID, Schema: s.schema,
		Structured: &situation.Situation{Persona: a, Scenario: s.sc.ID, Kind: s.sc.Kind, Params: w.params, Policy: w.pol, Social: soc},
		Sampling:   c.Sampling, Replicate: c.Replicate,
		Seed: c.LevelSeed(seed.Decision(*env.Exp.Seed, c.Replicate, a.ID, t, 0, s.sc.ID)),
	}
	task := study.Task{Keys: []store.Key{{RunID: c.ID, AgentID: a.ID, Round: t, Scenario: s.sc.ID}}, Cell: c}
	if !s.summary {
		o, _ := w.cnt.at(u)
		task.Params = []map[string]float64{{"treated": b2f(soc.TreatedUnfairly), "observed": float64(o.rated),
			"unfair_observed": float64(o.treated), "exposures": float64(o.exposures)}}
		if s.cfg.SpreadFrom == SpreadAffected {
			task.Params[0]["affected_observed"] = float64(o.affected)
		}
	}
	if w.text {
		var parts []string
		if w.policyText != "" {
			parts = append(parts, w.policyText)
		}
		if soc.TreatedUnfairly {
			parts = append(parts, w.cond.text)
		}
		if o := w.observationText(u, t); o != "" {
			parts = append(parts, o)
		}
		parts = append(parts, "Also rate how unfair you find the situation.")
		cur := env.Exp.Population.Currency
		sc, _ := s.sc.Worded(c.Level("wording")) // checked in New
		body, err := scenario.Compose(sc, sc.Params, cur, strings.Join(parts, "\n\n"))
		if err != nil {
			return task, study.ScenarioError(s.sc.ID, err)
		}
		// Compose's instructions follow the scenario's own schema: use the network schema's.
		body = strings.TrimSuffix(body, s.sc.Response.Instructions()) + s.schema.Instructions()
		req.System = s.systems.Text(c, u)
		req.Prompt = fmt.Sprintf("Day %d of %d.\n\n", t, s.cfg.Rounds) + w.historyText(u, t) + body
	}
	task.Req = req
	return task, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Fields are the fields asked each round: the scenario's, with the unfairness rating this
// study adds, so results/decisions.csv lists both.
func (s *netStudy) Fields(id string) ([]scenario.Field, bool) {
	if id != s.sc.ID {
		return nil, false
	}
	return s.schema.Fields, true
}
