package network

import (
	"github.com/prosim/prosim/internal/policy"
)

// Exposure groups, by distance from the victims in the inequity run. Agents no victim can
// reach (another component of the graph) are a group of their own: not folded into 3+, not
// dropped. all is every agent.
const (
	gVictims = iota
	gDist1
	gDist2
	gDist3
	gUnreachable
	gAll
	nGroups
)

// groupNames are the labels of the summary and the report; groupKeys those of the tables.
var (
	groupNames = [nGroups]string{"victims", "distance 1", "distance 2", "distance 3+", "unreachable", "all"}
	groupKeys  = [nGroups]string{"victims", "distance_1", "distance_2", "distance_3plus", "unreachable", "all"}
)

func groupOf(d int32) int {
	switch {
	case d < 0:
		return gUnreachable
	case d >= 3:
		return gDist3
	}
	return int(d)
}

// side accumulates one (run, round, group): every agent-run counts once.
type side struct {
	Agents, Valid, Affected, Treated int
	SumW, SumU                       float64
}

func (c *side) add(x row) {
	c.Agents++
	if x.affected {
		c.Affected++
	}
	if x.treated {
		c.Treated++
	}
	if x.valid {
		c.Valid++
		c.SumW += float64(x.w)
		c.SumU += float64(x.u)
	}
}

func (c *side) plus(o side) {
	c.Agents += o.Agents
	c.Valid += o.Valid
	c.Affected += o.Affected
	c.Treated += o.Treated
	c.SumW += o.SumW
	c.SumU += o.SumU
}

// cells[t-1][g][0] is the inequity run, [1] the same agents in the control run.
type cells [][nGroups][2]side

// pairAgg is one inequity run and its control run (same backend, replicate and policy),
// aggregated by round and exposure group; the unit every output is computed from.
type pairAgg struct {
	w, ctrl int // world (cell) indices
	cells   cells
	// placebo[t-1]: agents the contagion rule calls affected in the control run given its own
	// ratings and the inequity run's exposures.
	placebo []int
	// State while the rounds are played.
	plState []bool
	plPrev  []row
	pending [][2][]row // rounds before the group is chosen
}

// aggregator folds each round of every world into the pairs' aggregates.
type aggregator struct {
	s     *netStudy
	pairs []*pairAgg
}

// controlOf reports whether cell c is the control of inequity cell i: no inequity, same
// backend, replicate and policy.
func (s *netStudy) controlOf(c, i int) bool {
	cc, ci := s.env.Cells[c], s.env.Cells[i]
	return s.conds[cc.Condition].iv == nil && cc.Backend == ci.Backend && cc.Replicate == ci.Replicate && cc.Policy == ci.Policy
}

// pairs lists every inequity cell with its control, in design order.
func (s *netStudy) pairs() []*pairAgg {
	var out []*pairAgg
	for i, c := range s.env.Cells {
		if s.conds[c.Condition].iv == nil {
			continue
		}
		for j := range s.env.Cells {
			if s.controlOf(j, i) {
				out = append(out, &pairAgg{w: i, ctrl: j, cells: make(cells, s.cfg.Rounds), placebo: make([]int, s.cfg.Rounds)})
				break
			}
		}
	}
	return out
}

func newAggregator(s *netStudy) *aggregator { return &aggregator{s: s, pairs: s.pairs()} }

// round folds round t (rows by world) into the aggregates.
func (a *aggregator) round(t int, rows [][]row) {
	for _, p := range a.pairs {
		w := a.s.worlds[p.w]
		var k int
		p.plState, k = a.s.placeboStep(a.s.contagion(w.rep), t, p.plPrev, rows[p.ctrl], w.exposures, p.plState)
		p.plPrev = rows[p.ctrl]
		p.placebo[t-1] = k
		p.pending = append(p.pending, [2][]row{rows[p.w], rows[p.ctrl]})
		if w.dist == nil {
			continue // the group is chosen at round From: keep the rows until then
		}
		for i, pr := range p.pending {
			r := t - len(p.pending) + i
			for u, x := range pr[0] {
				c := pr[1][u]
				g := groupOf(w.dist[u])
				cl := &p.cells[r][g]
				cl[0].add(x)
				cl[1].add(c)
				all := &p.cells[r][gAll]
				all[0].add(x)
				all[1].add(c)
			}
		}
		p.pending = nil
	}
}

// placeboStep is round t of the placebo: the contagion rule applied to the control run's own
// ratings (rows) with the inequity run's exposures, from the placebo states before the round
// (prev, nil in round 1). It returns the states after the round and how many are affected.
func (s *netStudy) placeboStep(cont policy.Contagion, t int, prevRows, rows []row, exposures []int32, prev []bool) ([]bool, int) {
	next := make([]bool, len(rows))
	k := 0
	for u, c := range rows {
		a := policy.AgentRound{Exposures: int(exposures[u])}
		if c.valid {
			a.W, a.U = s.wScale.to7(float64(c.w)), s.uScale.to7(float64(c.u))
		}
		if prev != nil {
			p := prevRows[u]
			a.PrevAffected = prev[u]
			if p.valid {
				a.PrevW, a.PrevU = s.wScale.to7(float64(p.w)), s.uScale.to7(float64(p.u))
			}
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
