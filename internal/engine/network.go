package engine

// Study 3: policy-induced inequity on a network.
//
// # Rounds are synchronous
//
// Round t of every run is asked in one batch (r.decide), after round t-1 of every run is
// recorded. Every request of round t is built from the world state after round t-1 only (the
// previous round's recorded ratings, who was treated unfairly and who was affected), held in
// arrays that are not written while the round is asked. So no agent sees another agent's
// round-t decision, whatever the concurrency or scheduling; TestNetworkSynchronous checks it.
//
// # The world's rules (deterministic Go code, explicit seeds)
//
//   - Graph: one per experiment, from derive(seed, "graph"); agent i of the population is node i.
//   - Activation: the edges active in round t depend on (replicate, round) only, from
//     derive(seed, "activation", replicate): the same in every condition (common random numbers).
//   - Targeting: a condition's inequity chooses its group once, at round From, by its rule
//     (policy.Select) with ties broken by derive(seed, "target", replicate); rule top ranks the
//     recorded choices of round From-1. The group is treated unfairly in rounds From..To.
//   - Exposure distance: hop distance from the nearest member of the group (0 = victim).
//   - Observation in round t (t >= 2), through each edge active in round t: grounded (default)
//     tells the agent its activated neighbours' willingness in round t-1 and how many of them
//     were treated unfairly in round t-1; message (the original's) tells an agent with an
//     activated neighbour treated unfairly in round t-1 only that "some of your teammates
//     refused to take part after being treated unfairly".
//   - Contagion (policy.Contagion): exposures in round t are activated neighbours that were
//     treated unfairly or affected in round t-1.
//
// # Invalid decisions
//
// An invalid decision leaves the agent's state for that round missing: neighbours do not see
// a rating from it, its own "last round" is absent next round, it cannot become affected (nor
// be ranked by target top) on that round, and its affected state carries over. No default
// value is ever substituted.

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
)

// unfairnessField is added to the network scenario's schema.
var unfairnessField = scenario.Field{Name: "unfairness", Kind: scenario.Likert, Min: 1, Max: 7,
	LowLabel: "not at all unfair", HighLabel: "extremely unfair",
	Description: "how unfair you find the situation, from 1 to 7"}

// netStudy is what is fixed for a whole network study.
type netStudy struct {
	g      *network.Graph
	stats  network.Summary
	sc     scenario.Scenario
	schema scenario.Schema
	cfg    *experiment.Network
	conds  map[string]*netCond // by condition name
	seed   uint64
}

// netCond is one condition's intervention (nil iv for a control).
type netCond struct {
	iv   *policy.Intervention
	by   string // target top: the field ranked
	text string // rendered unfair-treatment text
}

// netWorld is one run's world: the state after the last completed round.
type netWorld struct {
	s    *netStudy
	run  *runInfo
	cond *netCond
	rep  int
	n    int

	victim []bool  // nil until the group is chosen
	dist   []int32 // nil until the group is chosen; -1 unreachable
	// After round t-1 (read while round t is asked, written only in end):
	prevW, prevU []int8 // 0 = missing
	prevTreated  []bool
	prevAffected []bool
	hist         [][]int8 // hist[k][i]: willingness k+1 rounds ago (history option), 0 missing
	histU        [][]int8
	// Round t's observations (written in begin, read while asked and in end):
	act       network.Active
	observed  []int32 // activated neighbours with a valid rating last round
	sumObs    []int32 // sum of their willingness
	unfairObs []int32 // activated neighbours treated unfairly last round
	exposures []int32 // activated neighbours treated unfairly or affected last round
	round     int
}

// netRow is one agent's record of one round (a row of rounds.csv).
type netRow struct {
	agent, round int
	w, u         int8 // 0 = missing
	dist         int32
	hasDist      bool
	affected     bool
	treated      bool
	valid        bool
	reason       string
}

func (r *Runner) netSetup() (*netStudy, error) {
	cfg := r.exp.Network
	doc := experiment.Locator(r.exp)
	s := &netStudy{cfg: cfg, conds: map[string]*netCond{}, seed: *r.exp.Seed}
	sc, ok := r.scen.Get(cfg.Scenario)
	if !ok {
		return nil, doc.Errorf("network.scenario", "unknown scenario %q (see `prosim scenarios`)", cfg.Scenario)
	}
	if sc.Kind != "vignette" {
		return nil, doc.Errorf("network.scenario", "scenario %q is a %s; study network takes a vignette", sc.ID, sc.Kind)
	}
	if _, dup := sc.Response.Field("unfairness"); !dup {
		s.schema.Fields = append(append([]scenario.Field{}, sc.Response.Fields...), unfairnessField)
	} else {
		s.schema = sc.Response
	}
	s.sc = sc
	g, err := buildGraph(cfg.Graph, derive(s.seed, "graph"))
	if err != nil {
		return nil, doc.Errorf("network.graph", "%v", err)
	}
	if g.N() != len(r.agents) {
		return nil, doc.Errorf("network.graph", "the graph has %d nodes but the population has %d agents: they must match (agent i is node i)", g.N(), len(r.agents))
	}
	s.g = g
	s.stats = network.Stats(g, derive(s.seed, "graph-stats"))
	for i, c := range r.exp.Conditions {
		nc := &netCond{}
		if q := c.Inequity; q != nil {
			rule := policy.Rule{Kind: q.Target, K: q.K}
			for _, id := range q.Agents {
				node := r.nodeOf(id)
				if node < 0 {
					return nil, doc.Errorf(fmt.Sprintf("conditions[%d].inequity.agents", i), "no agent with id %d", id)
				}
				rule.Nodes = append(rule.Nodes, node)
			}
			nc.iv = &policy.Intervention{Rule: rule, From: q.From, To: q.To}
			nc.by = q.By
			f, _ := r.frames.Get(c.Policy)
			tf := policy.Frame{ID: c.Name + ".inequity", Channel: "moral", Amount: f.Amount, Default: q.Text, Source: r.exp.File}
			if nc.text, err = tf.Text(sc.ID, r.exp.Population.Currency); err != nil {
				return nil, doc.Errorf(fmt.Sprintf("conditions[%d].inequity.text", i), "%v", err)
			}
		}
		s.conds[c.Name] = nc
	}
	return s, nil
}

func (r *Runner) nodeOf(agentID int) int {
	for i, a := range r.agents {
		if a.ID == agentID {
			return i
		}
	}
	return -1
}

func buildGraph(c experiment.Graph, seed uint64) (*network.Graph, error) {
	switch c.Type {
	case "watts_strogatz":
		return network.WattsStrogatz(c.N, c.K, c.P, seed)
	case "barabasi_albert":
		return network.BarabasiAlbert(c.N, c.M, seed)
	case "erdos_renyi":
		if c.M > 0 {
			return network.ErdosRenyiGnm(c.N, c.M, seed)
		}
		return network.ErdosRenyiGnp(c.N, c.P, seed)
	case "prosim104":
		return network.Builtin("prosim104")
	case "edgelist":
		f, err := os.Open(c.File)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		g, _, err := network.ReadEdgeList(f, c.File)
		return g, err
	}
	return nil, fmt.Errorf("unknown graph type %q", c.Type)
}

func (s *netStudy) newWorld(run *runInfo, n int, history int) *netWorld {
	w := &netWorld{s: s, run: run, cond: s.conds[run.Condition], rep: run.Replicate, n: n,
		prevW: make([]int8, n), prevU: make([]int8, n), prevTreated: make([]bool, n), prevAffected: make([]bool, n),
		observed: make([]int32, n), sumObs: make([]int32, n), unfairObs: make([]int32, n), exposures: make([]int32, n)}
	for range history {
		w.hist = append(w.hist, make([]int8, n))
		w.histU = append(w.histU, make([]int8, n))
	}
	return w
}

// activation is the set of edges active in round t of replicate rep.
func (s *netStudy) activation(rep, t int) network.Active {
	seed := derive(s.seed, "activation", rep)
	if p := s.cfg.Activation.Probability; p != nil {
		return network.ActivateProb(s.g, *p, seed, t)
	}
	return network.ActivateEdges(s.g, *s.cfg.Activation.Fraction, seed, t)
}

// contagion is the affected-state rule of replicate rep's runs.
func (s *netStudy) contagion(rep int) policy.Contagion {
	return policy.Contagion{Rule: s.cfg.Contagion.Rule, Recovery: s.cfg.Contagion.Recovery,
		Threshold: s.cfg.Contagion.Threshold, Seed: derive(s.seed, "contagion", rep)}
}

// treated reports whether node u is treated unfairly in round t.
func (w *netWorld) treated(u, t int) bool {
	return w.victim != nil && w.victim[u] && w.cond.iv.Active(t)
}

// choose picks the condition's target group from the state after round t-1 (the round
// before From), and computes exposure distances.
func (w *netWorld) choose(pop func(u int) (int, float64)) error {
	iv := w.cond.iv
	by := w.prevW
	if w.cond.by == "unfairness" {
		by = w.prevU
	}
	p := policy.Population{N: w.n,
		Degree: w.s.g.Degree,
		Income: pop,
		Choice: func(u int) (float64, bool) { v := by[u]; return float64(v), v != 0 },
	}
	nodes, err := policy.Select(iv.Rule, p, derive(w.s.seed, "target", w.rep))
	if err != nil {
		return fmt.Errorf("condition %s: %w", w.run.Condition, err)
	}
	w.victim = make([]bool, w.n)
	for _, u := range nodes {
		w.victim[u] = true
	}
	w.dist = network.Distances(w.s.g, nodes)
	return nil
}

// begin computes round t's observations from the state after round t-1.
func (w *netWorld) begin(t int, act network.Active, income func(u int) (int, float64)) error {
	w.round = t
	w.act = act
	if w.cond.iv != nil && w.victim == nil && t >= w.cond.iv.From {
		if err := w.choose(income); err != nil {
			return err
		}
	}
	for u := range w.n {
		var obs, sum, unf, exp int32
		if t > 1 {
			nb := w.s.g.Neighbours(u)
			ids := w.s.g.EdgeIDs(u)
			for j, v := range nb {
				if !act.IsActive(int(ids[j])) {
					continue
				}
				if x := w.prevW[v]; x != 0 {
					obs++
					sum += int32(x)
				}
				if w.prevTreated[v] {
					unf++
				}
				if w.prevTreated[v] || w.prevAffected[v] {
					exp++
				}
			}
		}
		w.observed[u], w.sumObs[u], w.unfairObs[u], w.exposures[u] = obs, sum, unf, exp
	}
	return nil
}

// social is what agent u knows in the current round, for the behavioural model.
func (w *netWorld) social(u int) backend.Social {
	s := backend.Social{Round: w.round, TreatedUnfairly: w.treated(u, w.round),
		UnfairObserved: int(w.unfairObs[u]), PrevWillingness: float64(w.prevW[u]), PrevUnfairness: float64(w.prevU[u])}
	if w.s.cfg.Observation == "grounded" && w.observed[u] > 0 {
		s.Observed = int(w.observed[u])
		s.MeanObserved = float64(w.sumObs[u]) / float64(w.observed[u])
	}
	return s
}

// end records round t: ratings from get (ok false = invalid or absent), contagion, and the
// rows of the round. emit may be nil.
func (w *netWorld) end(t int, get func(u int) (wv, uv int8, ok bool, reason string), emit func(netRow)) {
	cont := w.s.contagion(w.rep)
	// New state in fresh slices: the previous round's arrays stay intact until all are done.
	nw, nu := make([]int8, w.n), make([]int8, w.n)
	naff, ntr := make([]bool, w.n), make([]bool, w.n)
	for u := range w.n {
		wv, uv, ok, reason := get(u)
		if !ok {
			wv, uv = 0, 0
		}
		nw[u], nu[u] = wv, uv
		ntr[u] = w.treated(u, t)
		naff[u] = cont.Next(policy.AgentRound{PrevAffected: w.prevAffected[u], Exposures: int(w.exposures[u]),
			PrevW: float64(w.prevW[u]), PrevU: float64(w.prevU[u]), W: float64(wv), U: float64(uv)}, u, t)
		if !ok && cont.Rule != policy.RuleSIS {
			naff[u] = w.prevAffected[u] // missing: the state carries over
		}
		if emit != nil {
			row := netRow{agent: u, round: t, w: wv, u: uv, affected: naff[u], treated: ntr[u], valid: ok, reason: reason}
			if w.dist != nil && w.dist[u] >= 0 {
				row.dist, row.hasDist = w.dist[u], true
			}
			emit(row)
		}
	}
	if len(w.hist) > 0 {
		last := len(w.hist) - 1
		hw, hu := w.hist[last], w.histU[last]
		copy(w.hist[1:], w.hist[:last])
		copy(w.histU[1:], w.histU[:last])
		copy(hw, nw)
		copy(hu, nu)
		w.hist[0], w.histU[0] = hw, hu
	}
	w.prevW, w.prevU, w.prevAffected, w.prevTreated = nw, nu, naff, ntr
}

// runNetwork is Study 3: synchronous rounds, each one batch of decisions.
func (r *Runner) runNetwork(ctx context.Context) error {
	s, err := r.netSetup()
	if err != nil {
		return err
	}
	cfg := s.cfg
	worlds := make([]*netWorld, len(r.runs))
	for i := range r.runs {
		worlds[i] = s.newWorld(&r.runs[i], len(r.agents), cfg.History)
	}
	r.prog = newProgress(r.opt.Progress, len(r.runs)*len(r.agents)*cfg.Rounds, r.exp.Name)
	if cfg.Store == "summary" {
		return r.runNetworkAggregate(ctx, s, worlds)
	}
	for t := 1; t <= cfg.Rounds; t++ {
		acts := map[int]network.Active{}
		var tasks []task
		for _, w := range worlds {
			act, ok := acts[w.rep]
			if !ok {
				act = s.activation(w.rep, t)
				acts[w.rep] = act
			}
			if err := w.begin(t, act, r.income); err != nil {
				return err
			}
			ts, err := r.netTasks(w, t)
			if err != nil {
				return err
			}
			tasks = append(tasks, ts...)
		}
		if err := r.decide(ctx, tasks); err != nil {
			return err
		}
		for _, w := range worlds {
			w.end(t, r.netGet(w, t), nil)
		}
	}
	return nil
}

func (r *Runner) income(u int) (int, float64) {
	a := &r.agents[u]
	return a.IncomeQuintile, a.AnnualIncome
}

// netGet reads round t's recorded decisions of a world's run from the journal.
func (r *Runner) netGet(w *netWorld, t int) func(u int) (int8, int8, bool, string) {
	return func(u int) (int8, int8, bool, string) {
		d, ok := r.journal[store.Key{RunID: w.run.ID, AgentID: r.agents[u].ID, Round: t, Scenario: w.s.sc.ID}]
		if !ok {
			return 0, 0, false, "no decision recorded"
		}
		if !d.Reply.Valid() {
			return 0, 0, false, d.Reply.Invalid
		}
		return int8(d.Reply.Values["willingness"]), int8(d.Reply.Values["unfairness"]), true, ""
	}
}

// netTasks are round t's decisions of one world.
func (r *Runner) netTasks(w *netWorld, t int) ([]task, error) {
	mk, err := r.netRequests(w, t, true)
	if err != nil {
		return nil, err
	}
	tasks := make([]task, 0, w.n)
	for u := range w.n {
		req, err := mk(u)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, task{
			keys: []store.Key{{RunID: w.run.ID, AgentID: r.agents[u].ID, Round: t, Scenario: w.s.sc.ID}},
			params: []map[string]float64{{"treated": b2f(req.Situation.Social.TreatedUnfairly), "observed": float64(w.observed[u]),
				"unfair_observed": float64(w.unfairObs[u]), "exposures": float64(w.exposures[u])}},
			run: w.run,
			req: req,
		})
	}
	return tasks, nil
}

// netRequests returns the builder of agent u's request in round t of a world (after begin).
// Without text, the prompt and system text are left empty: only the behavioural model, which
// decides from the structured situation, may be asked so (network.store: summary at scale).
func (r *Runner) netRequests(w *netWorld, t int, text bool) (func(u int) (backend.Request, error), error) {
	s := w.s
	run := w.run
	cur := r.exp.Population.Currency
	policyText, err := run.frame.Text(s.sc.ID, cur)
	if err != nil {
		return nil, fmt.Errorf("policy %s, scenario %s: %w", run.frame.ID, s.sc.ID, err)
	}
	params := situationParams(s.sc, nil)
	pol := exposure(run.frame)
	sampling := run.backend.sampling()
	return func(u int) (backend.Request, error) {
		a := &r.agents[u]
		soc := w.social(u)
		req := backend.Request{
			AgentID: a.ID, Persona: a, Schema: s.schema,
			Situation: backend.Situation{Scenario: s.sc.ID, Kind: s.sc.Kind, Params: params, Policy: pol, Social: soc},
			Sampling:  sampling, Replicate: run.Replicate,
			Seed: decisionSeed(*r.exp.Seed, run.Replicate, a.ID, t, 0, s.sc.ID),
		}
		if !text {
			return req, nil
		}
		var parts []string
		if policyText != "" {
			parts = append(parts, policyText)
		}
		if soc.TreatedUnfairly {
			parts = append(parts, w.cond.text)
		}
		if o := w.observationText(u, t); o != "" {
			parts = append(parts, o)
		}
		parts = append(parts, "Also rate how unfair you find the situation.")
		body, err := scenario.Compose(s.sc, s.sc.Params, cur, strings.Join(parts, "\n\n"))
		if err != nil {
			return req, fmt.Errorf("scenario %s: %w", s.sc.ID, err)
		}
		// Compose's instructions follow the scenario's own schema: use the network schema's.
		body = strings.TrimSuffix(body, s.sc.Response.Instructions()) + s.schema.Instructions()
		req.System = systemText(r.personaText(u))
		req.Prompt = fmt.Sprintf("Day %d of %d.\n\n", t, s.cfg.Rounds) + w.historyText(u, t) + body
		return req, nil
	}, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// observationText is what agent u heard from its activated neighbours about round t-1.
func (w *netWorld) observationText(u, t int) string {
	if t == 1 {
		return ""
	}
	if w.s.cfg.Observation == "message" {
		if w.unfairObs[u] > 0 {
			return "Yesterday you heard that some of your teammates refused to take part after being treated unfairly."
		}
		return ""
	}
	g := w.s.g
	nb, ids := g.Neighbours(u), g.EdgeIDs(u)
	var ratings []string
	talked, missing := 0, 0
	for j, v := range nb {
		if !w.act.IsActive(int(ids[j])) {
			continue
		}
		talked++
		if x := w.prevW[v]; x != 0 {
			ratings = append(ratings, strconv.Itoa(int(x)))
		} else {
			missing++
		}
	}
	if talked == 0 {
		return "Yesterday you did not talk with any of your neighbours about it."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Yesterday you talked with %s about it.", plural(talked, "of your neighbours", "neighbour"))
	if len(ratings) > 0 {
		fmt.Fprintf(&b, " On a scale of 1 to 7, %s rated their own willingness %s.", whoOf(len(ratings), talked), joinAnd(ratings))
	}
	if missing > 0 {
		fmt.Fprintf(&b, " %s did not say how willing they were.", capital(countWord(missing, talked)))
	}
	if k := int(w.unfairObs[u]); k > 0 {
		fmt.Fprintf(&b, " %s told you they had been treated unfairly under the policy.", capital(countWord(k, talked)))
	} else {
		b.WriteString(" Nobody said they had been treated unfairly.")
	}
	return b.String()
}

func plural(n int, many, one string) string {
	if n == 1 {
		return "one " + one
	}
	return strconv.Itoa(n) + " " + many
}

func whoOf(k, n int) string {
	switch {
	case n == 1:
		return "they"
	case k == n:
		return "they"
	}
	return strconv.Itoa(k) + " of them"
}

func countWord(k, n int) string {
	if n == 1 {
		return "they"
	}
	if k == n {
		return "all of them"
	}
	return strconv.Itoa(k) + " of them"
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// historyText lists the agent's own last k rounds.
func (w *netWorld) historyText(u, t int) string {
	if len(w.hist) == 0 || t == 1 {
		return ""
	}
	var lines []string
	for k := len(w.hist) - 1; k >= 0; k-- {
		day := t - 1 - k
		if day < 1 {
			continue
		}
		if x := w.hist[k][u]; x != 0 {
			lines = append(lines, fmt.Sprintf("- Day %d: willingness %d, unfairness %d (of 7)", day, x, w.histU[k][u]))
		} else {
			lines = append(lines, fmt.Sprintf("- Day %d: your answer was not usable", day))
		}
	}
	return "Your answers on earlier days:\n" + strings.Join(lines, "\n") + "\n\n"
}

// personaText is agent u's rendered persona: rendered on demand when the population was not
// rendered up front (network.store: summary, where a million texts would cost a gigabyte).
func (r *Runner) personaText(u int) string {
	if r.texts != nil {
		return r.texts[u]
	}
	p := r.exp.Population
	return persona.Render(r.agents[u], persona.RenderOptions{ShowScores: p.ShowScores, ShowAverage: p.ShowAverages})
}
