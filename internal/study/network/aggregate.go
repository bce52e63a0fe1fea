package network

import (
	"slices"
	"sync"
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

// groupKeys are the exposure groups as every table's exposure_group column spells them
// (network_groups, rounds_summary, network_effects, network_contagion, rounds.csv), and as
// the summary and the report name them: one spelling, so that the tables join without
// recoding and a printed row is found in the CSVs by its name.
var groupKeys = [nGroups]string{"victims", "distance_1", "distance_2", "distance_3plus", "unreachable", "all"}

func groupOf(d int32) int {
	switch {
	case d < 0:
		return gUnreachable
	case d >= 3:
		return gDist3
	}
	return int(d)
}

// side accumulates one (run, round, group): every agent of the run counts once.
// Affected counts the twin label (label.go; 0 in a control, which is the twin), Rule the
// contagion rule's state (world.go).
type side struct {
	Agents, Valid, Affected, Rule, Treated int
	SumW, SumU                             float64
}

func (c *side) add(x row) {
	c.Agents++
	if x.affected {
		c.Affected++
	}
	if x.rule {
		c.Rule++
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
	c.Rule += o.Rule
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
	// tw is the twin design's accumulators (twin.go): nil in a summary run read back.
	tw *twinAgg
	// plTwin is the placebo's twin cell (label.go); -1: none (one replicate, or with two the
	// second replicate's control, whose pair with the first is the first's). plSel is the cell whose
	// pre-treatment ratings choose the placebo's pseudo-victims: a third replicate's control;
	// -1: none (fewer than 3 replicates), then the control's own ratings choose them.
	plTwin, plSel int
	// State while the rounds are played.
	pending [][2]roundView // rounds before the group is chosen (copies)
}

// aggregator folds each round of every world into the pairs' aggregates.
type aggregator struct {
	s      *netStudy
	pairs  []*pairAgg
	groups []*labelGroup
}

// labelGroup is one comparison's pairs (backend, inequity condition: every replicate), which
// the label (label.go) judges together: the real label of each inequity run against its
// twin, and the placebo's (each control against the next replicate's, each pair of replicates
// once). The pairs' ratings
// are given to the labelers one pair at a time through x and c (16 bytes an agent each, for
// the group, not for each replicate).
type labelGroup struct {
	pairs   []*pairAgg
	lab, pl *Labeler // pl nil without a placebo (one replicate)
	x, c    []Obs
}

// newLabelGroup makes the labelers of a comparison; sharedDraws says its twins share their
// random numbers after their prompts differ (the behavioural model), else the real label's
// band is the placebo's (label.go), which New makes sure exists (replicates >= 2).
func newLabelGroup(pairs []*pairAgg, n, from int, sharedDraws bool) *labelGroup {
	g := &labelGroup{pairs: pairs, lab: NewLabeler(n, len(pairs), from), x: make([]Obs, n), c: make([]Obs, n)}
	if slices.ContainsFunc(pairs, func(p *pairAgg) bool { return p.plTwin >= 0 }) {
		g.pl = NewLabeler(n, len(pairs), from)
	}
	if !sharedDraws {
		if g.pl == nil {
			panic("network: an LLM comparison without a placebo to measure its band (New refuses one replicate)")
		}
		g.lab.BandFrom(g.pl)
	}
	return g
}

// step gives round t of the group's pairs to l: run(i, dst) and twin(i, dst) fill pair i's
// ratings, out(i) is where its labels go.
func (g *labelGroup) step(l *Labeler, t int, run, twin func(i int, dst []Obs), out func(i int) []bool) {
	l.Begin(t)
	for i := range g.pairs {
		run(i, g.x)
		twin(i, g.c)
		l.Label(i, g.x, g.c, out(i))
	}
}

// label steps the real label of round t, from the worlds' replies of the round (before they
// end it), into each inequity world's labOut.
func (a *aggregator) label(t int) {
	ws := a.s.wScale
	obs := func(w *world, dst []Obs) {
		for u := range dst {
			dst[u] = Obs{W: ws.to7(float64(w.curW[u])), OK: w.curOK[u]}
		}
	}
	for _, g := range a.groups {
		g.step(g.lab, t,
			func(i int, dst []Obs) { obs(a.s.worlds[g.pairs[i].w], dst) },
			func(i int, dst []Obs) { obs(a.s.worlds[g.pairs[i].ctrl], dst) },
			func(i int) []bool { return a.s.worlds[g.pairs[i].w].labOut })
	}
}

// placebo steps the placebo's label of round t from the rows of the round into each pair's
// twinAgg.pc.
func (a *aggregator) placebo(t int, rows []roundView) {
	ws := a.s.wScale
	obs := func(r roundView, dst []Obs) {
		for u := range dst {
			dst[u] = Obs{W: ws.to7(float64(r.w[u])), OK: r.ok[u]}
		}
	}
	for _, g := range a.groups {
		if g.pl == nil {
			continue
		}
		g.pl.Begin(t)
		for i, p := range g.pairs {
			if p.plTwin < 0 { // its placebo pair is another's (two replicates)
				continue
			}
			obs(rows[p.ctrl], g.x)
			obs(rows[p.plTwin], g.c)
			g.pl.Label(i, g.x, g.c, p.tw.pc)
		}
	}
}

// controlOf reports whether cell c is the control of inequity cell i: no inequity, same
// backend, replicate, policy and factor levels.
func (s *netStudy) controlOf(c, i int) bool {
	cc, ci := s.env.Cells[c], s.env.Cells[i]
	return s.conds[cc.Condition].iv == nil && cc.Backend == ci.Backend && cc.Replicate == ci.Replicate && cc.Policy == ci.Policy &&
		slices.Equal(cc.Levels, ci.Levels)
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
				out = append(out, &pairAgg{w: i, ctrl: j, cells: make(cells, s.cfg.Rounds)})
				break
			}
		}
	}
	return out
}

func newAggregator(s *netStudy) *aggregator {
	a := &aggregator{s: s, pairs: s.pairs()}
	for _, p := range a.pairs {
		// The placebo's twin: the control of the next replicate (cyclically) of the same
		// backend and policy, none with one replicate; its selector the one after that. With
		// two replicates the cycle would compare c1 with c2 and c2 with c1, one pair twice
		// (its squared differences twice in the band's pool, its agents twice in the
		// placebo's share): the pair is the first replicate's only.
		p.plTwin = s.nextControl(p.ctrl)
		p.plSel = -1
		if p.plTwin >= 0 {
			if j := s.nextControl(p.plTwin); j != p.ctrl {
				p.plSel = j
			} else if s.env.Cells[p.plTwin].Replicate < s.env.Cells[p.ctrl].Replicate {
				p.plTwin = -1
			}
		}
		p.tw = newTwinAgg(len(s.env.Agents), s.cfg.Rounds, s.conds[s.env.Cells[p.w].Condition].iv.From)
	}
	// The label groups: the pairs of each backend and inequity condition, in design order.
	byKey := map[string]int{}
	var keys [][]*pairAgg
	for _, p := range a.pairs {
		c := s.env.Cells[p.w]
		k := c.Backend + "\x00" + c.Condition
		i, ok := byKey[k]
		if !ok {
			i = len(keys)
			byKey[k] = i
			keys = append(keys, nil)
		}
		keys[i] = append(keys[i], p)
	}
	for _, ps := range keys {
		c := s.env.Cells[ps[0].w]
		a.groups = append(a.groups, newLabelGroup(ps, len(s.env.Agents), s.conds[c.Condition].iv.From, s.builtin(c.Backend)))
	}
	return a
}

// nextControl is the control cell of the next replicate (cyclically) with the same backend,
// policy and factor levels as control cell ctrl; -1 with one replicate.
func (s *netStudy) nextControl(ctrl int) int {
	ci := s.env.Cells[ctrl]
	best, first := -1, -1
	for j, c := range s.env.Cells {
		if j == ctrl || s.conds[c.Condition].iv != nil || c.Backend != ci.Backend || c.Policy != ci.Policy || !slices.Equal(c.Levels, ci.Levels) {
			continue
		}
		if first < 0 || c.Replicate < s.env.Cells[first].Replicate {
			first = j
		}
		if c.Replicate > ci.Replicate && (best < 0 || c.Replicate < s.env.Cells[best].Replicate) {
			best = j
		}
	}
	if best < 0 {
		return first
	}
	return best
}

// round folds round t (rows by world, read from the worlds' arrays) into the aggregates.
func (a *aggregator) round(t int, rows []roundView) {
	a.placebo(t, rows)
	// Rows folded at a later round (before the group is chosen, and the placebo selector's
	// round) are copied: by then the worlds' arrays hold later rounds. Each world's once.
	kept := make([]roundView, len(rows))
	keep := func(i int) roundView {
		if kept[i].w == nil {
			kept[i] = rows[i].kept()
		}
		return kept[i]
	}
	for _, p := range a.pairs {
		w := a.s.worlds[p.w]
		seli := p.ctrl
		if p.plSel >= 0 {
			seli = p.plSel
		}
		x, c, sel := rows[p.w], rows[p.ctrl], rows[seli]
		if w.dist == nil { // the group is chosen at round From: keep the rows until then
			x, c, sel = keep(p.w), keep(p.ctrl), keep(seli)
			p.pending = append(p.pending, [2]roundView{x, c})
		}
		// The group counts (p.cells) and the twin design's sums (p.tw) read the same rows
		// and write apart: they are folded on two goroutines.
		var wg sync.WaitGroup
		if w.dist != nil {
			wg.Go(func() {
				p.fold(t, w.dist, x, c)
				p.pending = nil
			})
		}
		a.s.twinRound(p.tw, w, t, x, c, p.plTwin >= 0, sel)
		wg.Wait()
	}
}

// fold adds the pending rounds and round t (its rows x and c) to the group counts, the groups
// by distance.
func (p *pairAgg) fold(t int, dist []int32, x, c roundView) {
	for i, pr := range p.pending {
		p.foldRound(t-len(p.pending)+i, dist, pr[0], pr[1])
	}
	p.foldRound(t, dist, x, c)
}

// foldRound adds round t's rows.
func (p *pairAgg) foldRound(t int, dist []int32, x, c roundView) {
	cl := &p.cells[t-1]
	for u := range x.w {
		g := groupOf(dist[u])
		xr, cr := x.at(u), c.at(u)
		cl[g][0].add(xr)
		cl[g][1].add(cr)
		cl[gAll][0].add(xr)
		cl[gAll][1].add(cr)
	}
}
