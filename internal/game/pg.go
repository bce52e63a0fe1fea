package game

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Terms of peer punishment in the public goods game (Fehr & Gächter 2002): each point costs the
// punisher 1 and the target PGRatio; at most PGMaxPoints points per target per round.
const (
	PGRatio     = 3
	PGMaxPoints = 10
)

// PGPayoffs are the contribution-stage payoffs of one group: endowment - c_i + m x sum(c) / n,
// n = len(contributions). Every contribution must be in 0..endowment.
func PGPayoffs(endowment, multiplier float64, contributions []float64) ([]float64, error) {
	if err := positive("public goods: endowment", endowment); err != nil {
		return nil, err
	}
	if err := positive("public goods: multiplier", multiplier); err != nil {
		return nil, err
	}
	if len(contributions) == 0 {
		return nil, errors.New("public goods: empty group")
	}
	sum := 0.0
	for i, c := range contributions {
		if err := inRange(fmt.Sprintf("public goods: contribution[%d]", i), c, 0, endowment); err != nil {
			return nil, err
		}
		sum += c
	}
	share := multiplier * sum / float64(len(contributions))
	out := make([]float64, len(contributions))
	for i, c := range contributions {
		out[i] = endowment - c + share
	}
	return out, nil
}

// PGPunish applies peer punishment within one group. points[i][j] are the points i assigns to
// j (0..PGMaxPoints, and 0 on the diagonal); each costs i 1 and j ratio.
//
// Floor: the damage a member suffers is capped at its stage-1 payoff (punishment received
// cannot push a payoff below 0), while a punisher always pays the full cost of the points it
// assigned, so its payoff can go below 0 only through its own spending. final = stage1 -
// damage - cost.
func PGPunish(stage1 []float64, points [][]float64, ratio float64) (final, cost, damage []float64, err error) {
	n := len(stage1)
	if len(points) != n {
		return nil, nil, nil, fmt.Errorf("public goods: %d rows of points for a group of %d", len(points), n)
	}
	if err := positive("public goods: ratio", ratio); err != nil {
		return nil, nil, nil, err
	}
	cost, damage, final = make([]float64, n), make([]float64, n), make([]float64, n)
	received := make([]float64, n)
	for i, row := range points {
		if len(row) != n {
			return nil, nil, nil, fmt.Errorf("public goods: points[%d] has %d entries for a group of %d", i, len(row), n)
		}
		for j, p := range row {
			if err := inRange(fmt.Sprintf("public goods: points[%d][%d]", i, j), p, 0, PGMaxPoints); err != nil {
				return nil, nil, nil, err
			}
			if i == j && p != 0 {
				return nil, nil, nil, fmt.Errorf("public goods: member %d cannot punish itself", i)
			}
			cost[i] += p
			received[j] += p
		}
	}
	for i := range stage1 {
		damage[i] = min(ratio*received[i], max(stage1[i], 0))
		final[i] = stage1[i] - damage[i] - cost[i]
	}
	return final, cost, damage, nil
}

// PGStage is where a PGGame is within its round.
type PGStage int

const (
	// PGContribute: waiting for contributions.
	PGContribute PGStage = iota
	// PGPunishStage: waiting for punishment points (games with punishment only).
	PGPunishStage
	// PGDone: all rounds played.
	PGDone
)

func (s PGStage) String() string {
	switch s {
	case PGContribute:
		return "contribute"
	case PGPunishStage:
		return "punish"
	case PGDone:
		return "done"
	}
	return fmt.Sprintf("PGStage(%d)", int(s))
}

// PGRequest is one decision a PGGame needs from an agent.
type PGRequest struct {
	Agent int
	// Target is the group member to assign punishment points to; -1 for a contribution.
	Target int
	// Scenario is ScenarioPublicGoods or ScenarioPublicGoodsPunish.
	Scenario string
	Round    int
	// Params are the scenario's template parameters. Contribution: endowment, multiplier,
	// group_size (of the agent's own group), round, rounds, punishment (0/1), others_prev (mean
	// valid contribution of the other members last round, -1 in round 1 or when none was
	// valid), own_prev (own contribution last round, -1 in round 1 or when it was invalid),
	// punished_prev (punishment points received last round, 0 in round 1 and without
	// punishment), counted_prev (members of the agent's group, itself included, whose
	// contribution was counted last round and who shared its pool; the group's size in round 1).
	// Punishment: endowment, own (the punisher's contribution this round), target
	// (the target's), ratio, round, rounds.
	Params map[string]float64
}

// PGAgentRound is one agent's round.
type PGAgentRound struct {
	Agent, Group int
	// Valid is false when the agent's contribution reply was invalid or missing (Reason says
	// which); such an agent sits the round out, see PGGame.
	Valid        bool
	Reason       string
	Contribution float64
	Share        float64 // received from the group's pool
	Stage1       float64 // payoff after the contribution stage
	// Punishment stage (0 without punishment).
	PointsGiven, PointsReceived float64
	Cost, Damage                float64 // paid for points given; lost to points received (after the floor)
	// Payoff is the round's final payoff; NaN (not determined) when Valid is false, as is
	// Stage1: an agent that made no decision earned nothing the rules define.
	Payoff float64
}

// PGPunishment is one punisher-target decision of a round.
type PGPunishment struct {
	From, To int
	Points   float64 // 0 when invalid
	Valid    bool
	Reason   string
}

// PGRound is the record of one played round.
type PGRound struct {
	Round       int
	Agents      []PGAgentRound // in the order of NewPG's agents
	Punishments []PGPunishment // in request order
}

// PGGame is a repeated public goods game, optionally with a peer-punishment stage each round.
// Drive it with Requests, then Contribute / Invalid (or Punish / InvalidPunish) for each
// request, then Advance; repeat until Stage is PGDone.
//
// Groups: agents are partitioned once, by seed, into groups of groupSize that stay together for
// all rounds (partner matching). When the number of agents is not a multiple of groupSize, the
// r leftover agents join the first groups one each (round robin), so some groups have
// groupSize+1 (or more) members; with fewer agents than groupSize all form one group. Payoffs
// use a group's actual size, and group_size in the prompt is the agent's own group's size.
//
// Invalid or missing replies are never replaced by a default contribution. An agent whose
// contribution reply was invalid (or that had none when Advance was called) sits the round out:
// it is flagged (Valid false, Reason), excluded from its group's sum and from the sharing of the
// pool, which is divided among the valid members only (m x sum / n_valid), takes no part in the
// punishment stage (it neither punishes nor is punished), and its round payoff is NaN (not
// determined: a payoff of its endowment would be a decision to keep everything, which it did
// not make). The prompt states this rule, and the next round tells each member how many of its
// group's contributions were counted (counted_prev). The sitting-out agent's next-round
// own_prev is -1 and it does not count in the others' others_prev. An invalid or missing
// punishment reply assigns no points to that target and is flagged in PGRound.Punishments.
type PGGame struct {
	agents     []int
	groupSize  int
	rounds     int
	endowment  float64
	multiplier float64
	punishment bool

	groups  [][]int
	groupOf map[int]int

	round int // 1-based, current
	stage PGStage

	contrib  map[int]float64
	invalid  map[int]string
	points   map[[2]int]float64
	pInvalid map[[2]int]string
	cur      *PGRound // after the contribution stage of a game with punishment
	history  []PGRound
	// prevOf is what each agent saw of the last round (prev), made as the round ends: a
	// round's prompts read it for every agent, and a scan of the round per agent made a
	// round's prompts quadratic in the population.
	prevOf map[int]pgPrev
}

// pgPrev is one agent's view of the last round: see prev.
type pgPrev struct{ own, others, punished, counted float64 }

// NewPG sets up a repeated public goods game. agents are distinct agent ids (at least 2);
// groupSize >= 2; rounds >= 1; endowment and multiplier positive.
func NewPG(agents []int, groupSize, rounds int, endowment, multiplier float64, punishment bool, seed uint64) (*PGGame, error) {
	if len(agents) < 2 {
		return nil, fmt.Errorf("public goods: need at least 2 agents, got %d", len(agents))
	}
	if groupSize < 2 {
		return nil, fmt.Errorf("public goods: group size %d must be at least 2", groupSize)
	}
	if rounds < 1 {
		return nil, fmt.Errorf("public goods: rounds %d must be at least 1", rounds)
	}
	if err := positive("public goods: endowment", endowment); err != nil {
		return nil, err
	}
	if err := positive("public goods: multiplier", multiplier); err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	for _, a := range agents {
		if seen[a] {
			return nil, fmt.Errorf("public goods: agent %d listed twice", a)
		}
		seen[a] = true
	}
	g := &PGGame{
		agents: slices.Clone(agents), groupSize: groupSize, rounds: rounds,
		endowment: endowment, multiplier: multiplier, punishment: punishment,
		groups: PartitionGroups(agents, groupSize, seed), groupOf: map[int]int{},
		round: 1,
	}
	for gi, members := range g.groups {
		for _, a := range members {
			g.groupOf[a] = gi
		}
	}
	g.resetRound()
	return g, nil
}

// PartitionGroups splits agents at random (from seed) into groups of size, members of each
// group in ascending order. Leftovers join the first groups one each; fewer agents than size
// form one group (see PGGame).
func PartitionGroups(agents []int, size int, seed uint64) [][]int {
	perm := slices.Clone(agents)
	r := rand.New(rand.NewPCG(seed, streamPGGroups))
	r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	k := len(perm) / size
	if k == 0 {
		slices.Sort(perm)
		return [][]int{perm}
	}
	groups := make([][]int, k)
	for i := range k {
		groups[i] = slices.Clone(perm[i*size : (i+1)*size])
	}
	for j, a := range perm[k*size:] {
		groups[j%k] = append(groups[j%k], a)
	}
	for _, m := range groups {
		slices.Sort(m)
	}
	return groups
}

func (g *PGGame) resetRound() {
	g.contrib, g.invalid = map[int]float64{}, map[int]string{}
	g.points, g.pInvalid = map[[2]int]float64{}, map[[2]int]string{}
	g.cur = nil
}

// Groups are the groups (copies), fixed for the whole game.
func (g *PGGame) Groups() [][]int {
	out := make([][]int, len(g.groups))
	for i, m := range g.groups {
		out[i] = slices.Clone(m)
	}
	return out
}

// GroupOf is the index in Groups of the agent's group, or -1.
func (g *PGGame) GroupOf(agent int) int {
	if gi, ok := g.groupOf[agent]; ok {
		return gi
	}
	return -1
}

// Round is the current round, 1-based (rounds+1 once done).
func (g *PGGame) Round() int { return g.round }

// Stage is the current stage.
func (g *PGGame) Stage() PGStage { return g.stage }

// History is the record of the rounds played so far.
func (g *PGGame) History() []PGRound {
	out := make([]PGRound, len(g.history))
	for i, r := range g.history {
		out[i] = *cloneRound(r)
	}
	return out
}

// Rounds is the record of the rounds played so far, as the game keeps it: read-only (History
// is a copy). A caller that keeps the game need not keep its own copy of every round.
func (g *PGGame) Rounds() []PGRound { return g.history }

// TrimHistory drops the record of every round played but the last (which the next round's
// prompts read), for a caller that keeps the rounds itself (Advance returns each): History,
// Rounds and Totals then cover the rounds played since.
func (g *PGGame) TrimHistory() {
	if n := len(g.history); n > 1 {
		g.history = []PGRound{g.history[n-1]}
	}
}

// Totals are the agents' payoffs summed over the rounds played, of the rounds each took part
// in (a round sat out has no payoff to add).
func (g *PGGame) Totals() map[int]float64 {
	t := map[int]float64{}
	for _, a := range g.agents {
		t[a] = 0
	}
	for _, r := range g.history {
		for _, ar := range r.Agents {
			if ar.Valid {
				t[ar.Agent] += ar.Payoff
			}
		}
	}
	return t
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Requests are the decisions still pending in the current stage: contributions in the order of
// NewPG's agents, or punishment decisions by punisher (agent order) then target (ascending).
// Decisions already submitted are not listed; nil when done.
func (g *PGGame) Requests() []PGRequest {
	out := g.Pending()
	for i := range out {
		out[i].Params = g.ParamsOf(out[i])
	}
	return out
}

// Pending are Requests without their Params: a caller that builds a step's prompts one at a
// time asks ParamsOf for each as it builds it, before the stage's decisions are submitted.
func (g *PGGame) Pending() []PGRequest {
	var out []PGRequest
	switch g.stage {
	case PGContribute:
		for _, a := range g.agents {
			if g.decided(a) {
				continue
			}
			out = append(out, PGRequest{Agent: a, Target: -1, Scenario: ScenarioPublicGoods, Round: g.round})
		}
	case PGPunishStage:
		for _, p := range g.punishPairs() {
			if _, ok := g.points[p]; ok {
				continue
			}
			if _, ok := g.pInvalid[p]; ok {
				continue
			}
			out = append(out, PGRequest{Agent: p[0], Target: p[1], Scenario: ScenarioPublicGoodsPunish, Round: g.round})
		}
	}
	return out
}

// ParamsOf are the Params of a request of Pending, as the game stands: it reads the game and
// writes nothing, so concurrent calls are safe while no decision is submitted.
func (g *PGGame) ParamsOf(q PGRequest) map[string]float64 {
	if q.Target < 0 {
		size := float64(len(g.groups[g.groupOf[q.Agent]]))
		p := g.prev(q.Agent)
		if len(g.history) == 0 {
			p.counted = size
		}
		return map[string]float64{
			"endowment": g.endowment, "multiplier": g.multiplier,
			"group_size": size,
			"round":      float64(q.Round), "rounds": float64(g.rounds),
			"punishment":  b2f(g.punishment),
			"others_prev": p.others, "own_prev": p.own, "punished_prev": p.punished,
			"counted_prev": p.counted,
		}
	}
	return map[string]float64{
		"endowment": g.endowment, "own": g.contrib[q.Agent], "target": g.contrib[q.Target],
		"ratio": PGRatio, "round": float64(q.Round), "rounds": float64(g.rounds),
	}
}

func (g *PGGame) decided(a int) bool {
	_, ok := g.contrib[a]
	_, bad := g.invalid[a]
	return ok || bad
}

// prev is what the agent saw of the last round: own contribution (-1 if none), the others'
// mean valid contribution (-1 if none), punishment points received, the group's members
// counted (0 in round 1).
func (g *PGGame) prev(a int) pgPrev {
	if len(g.history) == 0 {
		return pgPrev{own: -1, others: -1}
	}
	return g.prevOf[a]
}

// view makes prevOf from the round r: each agent's own valid contribution (-1 if none), the
// mean of its group's other valid contributions (-1 if none; summed in r's order), the
// punishment points it received and its group's valid members.
func (g *PGGame) view(r PGRound) {
	byGroup := map[int][]int{} // indices in r.Agents, in order
	for i, ar := range r.Agents {
		byGroup[ar.Group] = append(byGroup[ar.Group], i)
	}
	g.prevOf = make(map[int]pgPrev, len(r.Agents))
	for _, ar := range r.Agents {
		p := pgPrev{own: -1, others: -1, punished: ar.PointsReceived}
		if ar.Valid {
			p.own = ar.Contribution
		}
		sum, n := 0.0, 0
		for _, j := range byGroup[ar.Group] {
			if o := r.Agents[j]; o.Agent != ar.Agent && o.Valid {
				sum += o.Contribution
				n++
			}
		}
		if n > 0 {
			p.others = sum / float64(n)
		}
		p.counted = float64(n) + b2f(ar.Valid)
		g.prevOf[ar.Agent] = p
	}
}

// punishPairs are the (punisher, target) pairs of this round: valid members of the same group.
func (g *PGGame) punishPairs() [][2]int {
	var out [][2]int
	for _, a := range g.agents {
		if _, ok := g.contrib[a]; !ok {
			continue
		}
		for _, b := range g.groups[g.groupOf[a]] {
			if _, ok := g.contrib[b]; ok && b != a {
				out = append(out, [2]int{a, b})
			}
		}
	}
	return out
}

// isPunishPair reports whether p is one of punishPairs, without building them all (a call per
// decision would make a round quadratic in the population).
func (g *PGGame) isPunishPair(p [2]int) bool {
	_, ok0 := g.contrib[p[0]]
	_, ok1 := g.contrib[p[1]]
	g0, in0 := g.groupOf[p[0]]
	g1, in1 := g.groupOf[p[1]]
	return ok0 && ok1 && in0 && in1 && g0 == g1 && p[0] != p[1]
}

// Contribute records an agent's contribution for the current round. A value outside
// 0..endowment is recorded as an invalid reply (the agent sits the round out) and returned as
// the error. Submitting twice, for an unknown agent or outside the contribution stage is an
// error that changes nothing.
func (g *PGGame) Contribute(agent int, c float64) error {
	if err := g.canContribute(agent); err != nil {
		return err
	}
	if err := inRange("public goods: contribution", c, 0, g.endowment); err != nil {
		g.invalid[agent] = err.Error()
		return err
	}
	g.contrib[agent] = c
	return nil
}

// Invalid records that an agent's contribution reply was invalid, with the reason.
func (g *PGGame) Invalid(agent int, reason string) error {
	if err := g.canContribute(agent); err != nil {
		return err
	}
	if reason == "" {
		reason = "invalid reply"
	}
	g.invalid[agent] = reason
	return nil
}

func (g *PGGame) canContribute(agent int) error {
	if g.stage != PGContribute {
		return fmt.Errorf("public goods: round %d is in the %s stage, not contribute", g.round, g.stage)
	}
	if _, ok := g.groupOf[agent]; !ok {
		return fmt.Errorf("public goods: unknown agent %d", agent)
	}
	if g.decided(agent) {
		return fmt.Errorf("public goods: agent %d already decided in round %d", agent, g.round)
	}
	return nil
}

// Punish records the points a punisher assigns to a target. Points outside 0..PGMaxPoints are
// recorded as an invalid reply (no points) and returned as the error. A pair that is not
// pending, or a call outside the punishment stage, is an error that changes nothing.
func (g *PGGame) Punish(punisher, target int, points float64) error {
	p := [2]int{punisher, target}
	if err := g.canPunish(p); err != nil {
		return err
	}
	if err := inRange("public goods: points", points, 0, PGMaxPoints); err != nil {
		g.pInvalid[p] = err.Error()
		return err
	}
	g.points[p] = points
	return nil
}

// InvalidPunish records that a punishment reply was invalid: no points, flagged with reason.
func (g *PGGame) InvalidPunish(punisher, target int, reason string) error {
	p := [2]int{punisher, target}
	if err := g.canPunish(p); err != nil {
		return err
	}
	if reason == "" {
		reason = "invalid reply"
	}
	g.pInvalid[p] = reason
	return nil
}

func (g *PGGame) canPunish(p [2]int) error {
	if g.stage != PGPunishStage {
		return fmt.Errorf("public goods: round %d is in the %s stage, not punish", g.round, g.stage)
	}
	if !g.isPunishPair(p) {
		return fmt.Errorf("public goods: agent %d cannot punish agent %d in round %d", p[0], p[1], g.round)
	}
	_, ok := g.points[p]
	_, bad := g.pInvalid[p]
	if ok || bad {
		return fmt.Errorf("public goods: agent %d already decided on agent %d in round %d", p[0], p[1], g.round)
	}
	return nil
}

// Advance closes the current stage; decisions still pending are recorded as invalid with
// reason "missing reply". It returns the round's record when the round is complete (after the
// contribution stage without punishment, after the punishment stage with it), nil otherwise.
func (g *PGGame) Advance() (*PGRound, error) {
	switch g.stage {
	case PGContribute:
		for _, a := range g.agents {
			if !g.decided(a) {
				g.invalid[a] = "missing reply"
			}
		}
		r := g.contributionStage()
		if g.punishment {
			g.cur = &r
			g.stage = PGPunishStage
			return nil, nil
		}
		return g.finish(r), nil
	case PGPunishStage:
		for _, p := range g.punishPairs() {
			_, ok := g.points[p]
			_, bad := g.pInvalid[p]
			if !ok && !bad {
				g.pInvalid[p] = "missing reply"
			}
		}
		r := *g.cur
		g.punishmentStage(&r)
		return g.finish(r), nil
	}
	return nil, errors.New("public goods: the game is over")
}

func (g *PGGame) contributionStage() PGRound {
	// Exact capacities: a game keeps every round it played (append's slack was about half of
	// a round's memory).
	r := PGRound{Round: g.round, Agents: make([]PGAgentRound, 0, len(g.agents))}
	pool := make([]float64, len(g.groups))
	nValid := make([]int, len(g.groups))
	for a, c := range g.contrib {
		pool[g.groupOf[a]] += c
		nValid[g.groupOf[a]]++
	}
	for _, a := range g.agents {
		gi := g.groupOf[a]
		ar := PGAgentRound{Agent: a, Group: gi}
		if c, ok := g.contrib[a]; ok {
			ar.Valid, ar.Contribution = true, c
			ar.Share = g.multiplier * pool[gi] / float64(nValid[gi])
			ar.Stage1 = g.endowment - c + ar.Share
		} else {
			ar.Reason = g.invalid[a]
			ar.Stage1 = math.NaN()
		}
		ar.Payoff = ar.Stage1
		r.Agents = append(r.Agents, ar)
	}
	return r
}

func (g *PGGame) punishmentStage(r *PGRound) {
	idx := map[int]int{}
	for i, ar := range r.Agents {
		idx[ar.Agent] = i
	}
	pairs := g.punishPairs()
	r.Punishments = make([]PGPunishment, 0, len(pairs))
	for _, p := range pairs {
		pu := PGPunishment{From: p[0], To: p[1]}
		if v, ok := g.points[p]; ok {
			pu.Points, pu.Valid = v, true
			r.Agents[idx[p[0]]].PointsGiven += v
			r.Agents[idx[p[1]]].PointsReceived += v
		} else {
			pu.Reason = g.pInvalid[p]
		}
		r.Punishments = append(r.Punishments, pu)
	}
	for i := range r.Agents {
		ar := &r.Agents[i]
		if !ar.Valid { // sat the round out: neither punished nor punishing, payoff not determined
			continue
		}
		ar.Cost = ar.PointsGiven
		ar.Damage = min(PGRatio*ar.PointsReceived, max(ar.Stage1, 0))
		ar.Payoff = ar.Stage1 - ar.Damage - ar.Cost
	}
}

func (g *PGGame) finish(r PGRound) *PGRound {
	g.history = append(g.history, r)
	g.view(r)
	g.round++
	g.resetRound()
	g.stage = PGContribute
	if g.round > g.rounds {
		g.stage = PGDone
	}
	return cloneRound(r)
}

func cloneRound(r PGRound) *PGRound {
	r.Agents = slices.Clone(r.Agents)
	r.Punishments = slices.Clone(r.Punishments)
	return &r
}
