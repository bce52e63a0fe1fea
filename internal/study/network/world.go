package network

// The world's rules (deterministic Go code, explicit seeds), moved from the engine.
//
// # Rounds are synchronous
//
// Round t of every run is one batch (Next), asked after round t-1 of every run is recorded.
// Every request of round t is built from the world state after round t-1 only (the previous
// round's ratings, who was treated unfairly and who was affected), held in arrays that are not
// written while the round is asked. So no agent sees another agent's round-t decision,
// whatever the concurrency or scheduling; TestNetworkSynchronous checks it.
//
//   - Graph: one per experiment, from Derive(seed, "graph"); agent i of the population is node i.
//     With graph.per_replicate, one per replicate from Derive(seed, "graph", replicate), shared
//     by every condition of the replicate (the control twin lives on the same graph).
//   - Activation: the edges active in round t depend on (replicate, round) only, from
//     Derive(seed, "activation", replicate): the same in every condition (common random numbers).
//   - Targeting: a condition's inequity chooses its group once, at round From, by its rule
//     (policy.Select) with ties broken by Derive(seed, "target", replicate); rule top ranks the
//     recorded choices of round From-1. The group is treated unfairly in rounds From..To.
//   - Exposure distance: hop distance from the nearest member of the group (0 = victim); an
//     agent no victim can reach (another component) is "unreachable", a group of its own.
//   - Observation in round t (t >= 2), through each edge active in round t: grounded (default)
//     tells the agent its activated neighbours' willingness in round t-1 and how many of them
//     were treated unfairly in round t-1; message (the original's) tells an agent with an
//     activated neighbour treated unfairly in round t-1 only that "some of your teammates
//     refused to take part after being treated unfairly".
//   - Spread (spread_from): with victims (default) the unfairness signal of an observation is
//     the activated neighbours treated unfairly in round t-1; with affected, also those the
//     contagion rule marked affected after round t-1 (grounded: "k of them said they found the
//     policy unfair and had lost heart"; message: the original's message; the behavioural
//     model counts them in Social.UnfairObserved). So the affected state feeds back into what
//     neighbours decide, and sis or threshold rules change the dynamics, not only the labels.
//     With affected, the rules original and sis test the twin label (label.go: a fall below
//     the agent's control twin beyond its noise band, two days running) instead of their own erosion test, which noise alone
//     trips and would then spread: an agent becomes affected when exposed and labelled.
//   - Contagion (policy.Contagion): exposures in round t are activated neighbours that were
//     treated unfairly or affected in round t-1.
//   - Twins: every condition of a (backend, replicate) meets the same seeds, graph and
//     activation, and all worlds are stepped in the same batch, so after round t is absorbed
//     the control twin's round-t ratings are available beside each inequity world's (endRound).
//
// # Invalid decisions
//
// An invalid decision leaves the agent's state for that round missing (an explicit valid
// flag, never a sentinel rating: a scale may start at 0): neighbours do not see a rating from
// it, its own "last round" is absent next round, it cannot become affected (nor be ranked by
// target top) on that round, and its affected state carries over. No default value is ever
// substituted.
//
// # Scales
//
// Ratings are kept on the scenario's own scale (willingness may be 0-10). The behavioural
// model and the contagion rule work on 1-7 (situation.Social: 0 means "none"): they are given
// ratings mapped linearly onto 1-7 (identity for a 1-7 scale), and 0 for a missing one.

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/study"
)

// world is one run's world: the state after the last completed round.
type world struct {
	s    *netStudy
	cell *study.Cell
	cond *netCond
	g    *network.Graph // the replicate's graph
	rep  int
	n    int
	text bool // build prompt texts (not for the behavioural model in the summary store)

	victim []bool  // nil until the group is chosen
	dist   []int32 // nil until the group is chosen; -1 unreachable
	// After round t-1 (read while round t is asked, written only in end):
	prevW, prevU []int8
	prevOK       []bool
	prevAffected []bool
	// (Treated last round: world.victims(t-1).)
	hist, histU [][]int8 // hist[k][i]: willingness k+1 rounds ago (history option)
	histOK      [][]bool
	act         network.Active
	// Inequity runs with a control: the twin label of the round (label.go), stepped for the
	// comparison's runs together in endRound while their round-t replies are at hand.
	labOut []bool
	// The round's observation counts (begin), what each agent heard over its active edges.
	cnt        *nbCounts
	round      int
	policyText string
	params     map[string]float64
	pol        situation.PolicyExposure
	// Round t's replies (written by Absorb, one index per task).
	curW, curU []int8
	curOK      []bool
	// Invalid reasons and model versions (full store only), numbered as they come (names):
	// a string a run held 16 bytes per agent and world, twice.
	curBad, curVer []uint32
}

// row is one agent's record of one round (a row of rounds.csv). The full store keeps one
// per agent, round and run until the analysis, so it is kept to 16 bytes: its strings are
// numbers (netStudy.names), the exposure distance is the world's (world.dist).
type row struct {
	w, u     int8
	affected bool // the twin label (label.go); false in a run without a twin
	labelled bool // the run has a twin label (an inequity run with a control)
	rule     bool // the contagion rule's state after the round
	treated  bool
	valid    bool
	// reason is the invalid reason, version the model version, as names numbers them.
	reason, version uint32
}

// roundView is a world's rows of its last round (reasons and versions aside), read from its
// own arrays after end: valid until the next round's label and end write them. A round the
// aggregates fold later (before the group is chosen) is kept as a copy (kept).
type roundView struct {
	w, u     []int8
	ok, rule []bool
	treated  []bool // nil: nobody treated in the round
	lab      []bool // the twin label; nil in a run without one
}

// rows is the world's last round, as end left it.
func (w *world) rows() roundView {
	return roundView{w: w.prevW, u: w.prevU, ok: w.prevOK, rule: w.prevAffected, treated: w.victims(w.round), lab: w.labOut}
}

// at is agent u's row.
func (r roundView) at(u int) row {
	x := row{w: r.w[u], u: r.u[u], rule: r.rule[u], treated: r.treated != nil && r.treated[u], valid: r.ok[u]}
	if r.lab != nil {
		x.affected, x.labelled = r.lab[u], true
	}
	return x
}

// kept is a copy of r that later rounds do not overwrite.
func (r roundView) kept() roundView {
	return roundView{w: slices.Clone(r.w), u: slices.Clone(r.u), ok: slices.Clone(r.ok), rule: slices.Clone(r.rule),
		treated: slices.Clone(r.treated), lab: slices.Clone(r.lab)}
}

// names numbers the strings of rows (invalid reasons, model versions), so a row keeps 4 bytes
// for each; 0 is "". Replies are absorbed concurrently: numbers are looked up without a lock
// once known (the model version repeats in every row).
type names struct {
	mu   sync.Mutex
	ix   sync.Map // string -> uint32
	strs []string
}

func (n *names) id(v string) uint32 {
	if v == "" {
		return 0
	}
	if i, ok := n.ix.Load(v); ok {
		return i.(uint32)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if i, ok := n.ix.Load(v); ok {
		return i.(uint32)
	}
	if n.strs == nil {
		n.strs = []string{""}
	}
	i := uint32(len(n.strs))
	n.strs = append(n.strs, v)
	n.ix.Store(v, i)
	return i
}

func (n *names) str(i uint32) string {
	if i == 0 {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.strs[i]
}

func (s *netStudy) newWorld(c *study.Cell, n int, text bool) (*world, error) {
	g, err := s.graphOf(c.Replicate)
	if err != nil {
		return nil, err
	}
	w := &world{s: s, cell: c, cond: s.conds[c.Condition], g: g, rep: c.Replicate, n: n, text: text,
		prevW: make([]int8, n), prevU: make([]int8, n), prevOK: make([]bool, n), prevAffected: make([]bool, n),
		cnt:  newCounts(g, s.cfg.SpreadFrom == SpreadAffected),
		curW: make([]int8, n), curU: make([]int8, n), curOK: make([]bool, n)}
	if !s.summary {
		w.curBad, w.curVer = make([]uint32, n), make([]uint32, n)
	}
	for range s.cfg.History {
		w.hist = append(w.hist, make([]int8, n))
		w.histU = append(w.histU, make([]int8, n))
		w.histOK = append(w.histOK, make([]bool, n))
	}
	if w.policyText, err = c.Frame.Text(s.sc.ID, s.env.Exp.Population.Currency); err != nil {
		return nil, fmt.Errorf("policy %s, scenario %s: %w", c.Frame.ID, s.sc.ID, err)
	}
	w.params = study.SituationParams(s.sc, nil)
	w.pol = study.Exposure(c.Frame)
	return w, nil
}

// activation is the set of edges active in round t of replicate rep.
func (s *netStudy) activation(g *network.Graph, rep, t int) network.Active {
	sd := seed.Derive(s.seed, "activation", rep)
	if p := s.cfg.Activation.Probability; p != nil {
		return network.ActivateProb(g, *p, sd, t)
	}
	return network.ActivateEdges(g, *s.cfg.Activation.Fraction, sd, t)
}

// contagion is the affected-state rule of replicate rep's runs.
func (s *netStudy) contagion(rep int) policy.Contagion {
	return policy.Contagion{Rule: s.cfg.Contagion.Rule, Recovery: s.cfg.Contagion.Recovery,
		Threshold: s.cfg.Contagion.Threshold, Seed: seed.Derive(s.seed, "contagion", rep)}
}

// victims are the agents treated unfairly in round t (victims(t)[u]): the group, when it is
// chosen and the inequity is active in t; nil when nobody is.
func (w *world) victims(t int) []bool {
	if w.victim != nil && w.cond.iv.Active(t) {
		return w.victim
	}
	return nil
}

// treated reports whether node u is treated unfairly in round t.
func (w *world) treated(u, t int) bool {
	v := w.victims(t)
	return v != nil && v[u]
}

// choose picks the condition's target group from the state after round t-1 (the round
// before From), and computes exposure distances.
func (w *world) choose() error {
	iv := w.cond.iv
	by := w.prevW
	if w.cond.by == "unfairness" {
		by = w.prevU
	}
	agents := w.s.env.Agents
	p := policy.Population{N: w.n,
		Degree: w.g.Degree,
		Income: func(u int) (int, float64) { return agents[u].IncomeQuintile, agents[u].AnnualIncome },
		Choice: func(u int) (float64, bool) { return float64(by[u]), w.prevOK[u] },
	}
	nodes, err := policy.Select(iv.Rule, p, seed.Derive(w.s.seed, "target", w.rep))
	if err != nil {
		return fmt.Errorf("condition %s: %w", w.cell.Condition, err)
	}
	w.victim = make([]bool, w.n)
	for _, u := range nodes {
		w.victim[u] = true
	}
	w.dist = network.Distances(w.g, nodes)
	return nil
}

// begin computes round t's observations from the state after round t-1.
func (w *world) begin(t int, act network.Active) error {
	w.round = t
	w.act = act
	if w.cond.iv != nil && w.victim == nil && t >= w.cond.iv.From {
		if err := w.choose(); err != nil {
			return err
		}
	}
	// Each agent's counts read only the previous round's state: the agents are split in
	// chunks counted in parallel (a million agents per world per round).
	chunks(w.n, func(lo, hi int) {
		w.cnt.count(w, t, act, lo, hi)
	})
	return nil
}

// nbCounts are a world's observation counts of the round (begin): for each agent, over its
// edges active in the round, the neighbours with a valid rating last round and the sum of
// those ratings, the neighbours treated unfairly last round, and those affected and not
// treated. They are per agent and world and live through the run, so they are held in bytes:
// a count is at most the agent's degree and a sum of ratings (each within -128..127) at most
// 128 times it, so below hubDegree they fit uint8 counts and an int16 sum (5 bytes an agent;
// four int32 counts took 20). The few agents of a larger degree (a Barabasi-Albert graph's
// hubs, an edge list's) have rated hubDegree there and their counts in hubs.
type nbCounts struct {
	rated, treated, other []uint8 // other: affected and not treated
	sum                   []int16
	hubs                  map[int32]*hubCounts // made once: count writes through them in parallel
	spread                bool                 // spread_from affected: other is what the agent heard as affected
}

type hubCounts struct{ rated, treated, other, sum int32 }

// hubDegree is the smallest degree whose counts are kept in nbCounts.hubs.
const hubDegree = math.MaxUint8

func newCounts(g *network.Graph, spread bool) *nbCounts {
	n := g.N()
	c := &nbCounts{rated: make([]uint8, n), treated: make([]uint8, n), other: make([]uint8, n), sum: make([]int16, n), spread: spread}
	for u := range n {
		if g.Degree(u) >= hubDegree {
			if c.hubs == nil {
				c.hubs = map[int32]*hubCounts{}
			}
			c.hubs[int32(u)] = &hubCounts{}
		}
	}
	return c
}

// count fills the counts of agents lo..hi-1 for round t.
func (c *nbCounts) count(w *world, t int, act network.Active, lo, hi int) {
	victim := w.victims(t - 1) // treated last round
	for u := lo; u < hi; u++ {
		var rated, treated, other, sum int32
		nb := w.g.Neighbours(u)
		if t > 1 {
			ids := w.g.EdgeIDs(u)
			for j, v := range nb {
				if !act.IsActive(int(ids[j])) {
					continue
				}
				if w.prevOK[v] {
					rated++
					sum += int32(w.prevW[v])
				}
				if victim != nil && victim[v] {
					treated++
				} else if w.prevAffected[v] {
					other++
				}
			}
		}
		if len(nb) >= hubDegree {
			*c.hubs[int32(u)] = hubCounts{rated, treated, other, sum}
			c.rated[u] = hubDegree
			continue
		}
		c.rated[u], c.treated[u], c.other[u], c.sum[u] = uint8(rated), uint8(treated), uint8(other), int16(sum)
	}
}

// at is agent u's counts, and the sum of the ratings it heard (on the scenario's scale).
func (c *nbCounts) at(u int) (obsCounts, int32) {
	if c.rated[u] == hubDegree {
		h := c.hubs[int32(u)]
		return obsOf(h.rated, h.treated, h.other, c.spread), h.sum
	}
	return obsOf(int32(c.rated[u]), int32(c.treated[u]), int32(c.other[u]), c.spread), int32(c.sum[u])
}

// obsOf is the counts of an agent that heard rated, treated and other (affected and not
// treated) neighbours. The exposures (neighbours treated unfairly or affected) are treated +
// other; without spread_from affected the affected ones are not passed on as such (affected 0),
// so exposures is not derived from the other counts there.
func obsOf(rated, treated, other int32, spread bool) obsCounts {
	o := obsCounts{rated: rated, treated: treated, exposures: treated + other}
	if spread {
		o.affected = other
	}
	return o
}

// chunks calls f on consecutive ranges covering 0..n-1, in parallel on up to GOMAXPROCS
// goroutines, and returns when all are done; small n runs inline.
func chunks(n int, f func(lo, hi int)) {
	const minChunk = 1 << 14
	k := min(runtime.GOMAXPROCS(0), (n+minChunk-1)/minChunk)
	if k <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range k {
		wg.Go(func() { f(i*n/k, (i+1)*n/k) })
	}
	wg.Wait()
}

// social is what agent u knows in the current round, for the behavioural model (on 1-7).
func (w *world) social(u int) situation.Social {
	o, sum := w.cnt.at(u)
	s := situation.Social{Round: w.round, TreatedUnfairly: w.treated(u, w.round), UnfairObserved: int(o.treated + o.affected)}
	if w.prevOK[u] {
		s.PrevWillingness, s.PrevUnfairness = w.s.wScale.to7(float64(w.prevW[u])), w.s.uScale.to7(float64(w.prevU[u]))
	}
	if w.s.cfg.Observation == "grounded" && o.rated > 0 {
		s.Observed = int(o.rated)
		s.MeanObserved = w.s.wScale.to7(float64(sum) / float64(o.rated))
	}
	return s
}

// end records round t from the replies absorbed (cur*) and applies contagion: the world's
// arrays then hold the round's rows (rows). Each agent's new state reads only its own replies
// and the previous round's state, in parallel chunks. The invalid reasons and model versions
// stay for the round's record (endRound clears them).
func (w *world) end(t int) {
	cont := w.s.contagion(w.rep)
	ws, us := w.s.wScale, w.s.uScale
	// The new ratings are the replies' arrays (cur*, then swapped with prev*); the affected
	// state is updated in place: each agent's reads only its own.
	nw, nu, nok := w.curW, w.curU, w.curOK
	aff := w.prevAffected
	chunks(w.n, func(lo, hi int) {
		for u := lo; u < hi; u++ {
			ok := nok[u]
			if !ok {
				nw[u], nu[u] = 0, 0
			}
			o, _ := w.cnt.at(u)
			prev := aff[u]
			a := policy.AgentRound{PrevAffected: prev, Exposures: int(o.exposures)}
			if w.prevOK[u] {
				a.PrevW, a.PrevU = ws.to7(float64(w.prevW[u])), us.to7(float64(w.prevU[u]))
			}
			if ok {
				a.W, a.U = ws.to7(float64(nw[u])), us.to7(float64(nu[u]))
			}
			var next bool
			if w.s.cfg.SpreadFrom == SpreadAffected && w.labOut != nil {
				next = labelledNext(cont, a, w.labOut[u], u, t)
			} else {
				next = cont.Next(a, u, t)
			}
			if !ok && cont.Rule != policy.RuleSIS {
				next = prev // missing: the state carries over
			}
			aff[u] = next
		}
	})
	if len(w.hist) > 0 {
		last := len(w.hist) - 1
		hw, hu, hok := w.hist[last], w.histU[last], w.histOK[last]
		copy(w.hist[1:], w.hist[:last])
		copy(w.histU[1:], w.histU[:last])
		copy(w.histOK[1:], w.histOK[:last])
		copy(hw, nw)
		copy(hu, nu)
		copy(hok, nok)
		w.hist[0], w.histU[0], w.histOK[0] = hw, hu, hok
	}
	// The previous arrays are reused for the next round's replies.
	w.curW, w.curU, w.curOK = w.prevW, w.prevU, w.prevOK
	clear(w.curOK)
	w.prevW, w.prevU, w.prevOK = nw, nu, nok
}

// labelledNext is the contagion rule with the twin label (label.go) in place of the rule's
// own erosion test (willingness down and unfairness up since the day before, which noise
// alone trips): an unaffected agent becomes affected when exposed and labelled; recovery (sis)
// and the structural threshold rule are the rule's own.
func labelledNext(cont policy.Contagion, a policy.AgentRound, labelled bool, u, t int) bool {
	if cont.Rule == policy.RuleThreshold || a.PrevAffected {
		return cont.Next(a, u, t)
	}
	return a.Exposures > 0 && labelled
}

// observationText is what agent u heard from its activated neighbours about round t-1.
func (w *world) observationText(u, t int) string {
	if t == 1 {
		return ""
	}
	o, _ := w.cnt.at(u)
	if w.s.cfg.Observation == "message" {
		if o.treated+o.affected > 0 {
			return "Yesterday you heard that some of your teammates refused to take part after being treated unfairly."
		}
		return ""
	}
	g := w.g
	nb, ids := g.Neighbours(u), g.EdgeIDs(u)
	var ratings []string
	talked, missing := 0, 0
	for j, v := range nb {
		if !w.act.IsActive(int(ids[j])) {
			continue
		}
		talked++
		if w.prevOK[v] {
			ratings = append(ratings, strconv.Itoa(int(w.prevW[v])))
		} else {
			missing++
		}
	}
	if talked == 0 {
		return "Yesterday you did not talk with any of your neighbours about it."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Yesterday you talked with %s about it.", howMany(talked, "of your neighbours", "neighbour"))
	if len(ratings) > 0 {
		fmt.Fprintf(&b, " On a scale of %s, %s rated their own willingness %s.", w.s.wScale.span(), whoOf(len(ratings), talked), joinAnd(ratings))
	}
	if missing > 0 {
		fmt.Fprintf(&b, " %s did not say how willing they were.", capital(countWord(missing, talked)))
	}
	k, a := int(o.treated), int(o.affected)
	if k > 0 {
		fmt.Fprintf(&b, " %s told you they had been treated unfairly under the policy.", capital(countWord(k, talked)))
	}
	if a > 0 {
		// spread_from affected: neighbours marked affected pass the unfairness on.
		who := capital(countWord(a, talked))
		if k > 0 {
			who = capital(countWordOther(a))
		}
		fmt.Fprintf(&b, " %s said they found the policy unfair and had lost heart.", who)
	}
	if k == 0 && a == 0 {
		b.WriteString(" Nobody said they had been treated unfairly.")
	}
	return b.String()
}

// historyText lists the agent's own last k rounds.
func (w *world) historyText(u, t int) string {
	if len(w.hist) == 0 || t == 1 {
		return ""
	}
	ws, us := w.s.wScale, w.s.uScale
	var lines []string
	for k := len(w.hist) - 1; k >= 0; k-- {
		day := t - 1 - k
		if day < 1 {
			continue
		}
		switch {
		case !w.histOK[k][u]:
			lines = append(lines, fmt.Sprintf("- Day %d: your answer was not usable", day))
		case ws.is17() && us.is17():
			lines = append(lines, fmt.Sprintf("- Day %d: willingness %d, unfairness %d (of 7)", day, w.hist[k][u], w.histU[k][u]))
		default:
			lines = append(lines, fmt.Sprintf("- Day %d: willingness %d (on %s), unfairness %d (on %s)", day, w.hist[k][u], ws.span(), w.histU[k][u], us.span()))
		}
	}
	return "Your answers on earlier days:\n" + strings.Join(lines, "\n") + "\n\n"
}

// scale is a rating field's range.
type scale struct{ min, max float64 }

// to7 maps a rating onto 1-7, the behavioural model's and the contagion rule's scale.
func (s scale) to7(v float64) float64 {
	if s.is17() {
		return v
	}
	return 1 + (v-s.min)*6/(s.max-s.min)
}

func (s scale) is17() bool { return s.min == 1 && s.max == 7 }

// span is "1 to 7", "0 to 10".
func (s scale) span() string {
	return strconv.FormatFloat(s.min, 'f', -1, 64) + " to " + strconv.FormatFloat(s.max, 'f', -1, 64)
}

// howMany is a prompt's count: "one neighbour", "3 of your neighbours".
func howMany(n int, many, one string) string {
	if n == 1 {
		return "one " + one
	}
	return strconv.Itoa(n) + " " + many
}

func whoOf(k, n int) string {
	if n == 1 || k == n {
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

// countWordOther counts a second group among the neighbours talked with.
func countWordOther(k int) string {
	if k == 1 {
		return "another one"
	}
	return strconv.Itoa(k) + " others"
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
