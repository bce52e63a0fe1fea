package network

import (
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/seed"
)

// The twin design's online accumulators: each inequity run beside its control run (the same
// agents, graph, activations and random numbers), folded round by round with memory bounded
// by the number of agents (no per-round history), so the summary store of a million agents
// gets the same analysis as the full store.
//
//   - Effects: per round, effect group and agent bucket, the sums of the paired differences
//     (inequity minus twin) of willingness and unfairness over agent-runs with both decisions
//     valid. Agent i falls in bucket i when there are at most maxBuckets agents (the bootstrap
//     then resamples agents exactly); with more, agents are spread over maxBuckets buckets by
//     a fixed hash of their index and the bootstrap resamples buckets (blocks of agents that
//     are exchangeable units), so its cost and memory do not grow with N.
//   - Contagion: per round and exposure group, agents and affected agents (label.go) of the
//     inequity run, and of the placebo: the label on the control against the next replicate's
//     control, grouped by distance from pseudo-victims chosen by the same targeting rule in
//     the control.
//   - For the permutation test: per round, the indices of the affected agents (4 bytes per
//     affected agent-round).

// Effect groups: the exposure groups, and distance 2 split by whether a distance-1 neighbour
// was affected (label) in the round before.
const (
	eVictim = iota
	eDist1
	eDist2
	eDist3
	eUnreach
	eDist2Changed
	eDist2Unchanged
	nEffGroups
)

// effGroupKeys are the group column of network_effects.csv; effGroupNames the summary's.
var (
	effGroupKeys  = [nEffGroups]string{"victim", "1", "2", "3+", "unreachable", "2|1 changed", "2|1 unchanged"}
	effGroupNames = [nEffGroups]string{"victims", "distance 1", "distance 2", "distance 3+", "unreachable",
		"distance 2, a distance-1 neighbour affected the round before", "distance 2, none affected the round before"}
)

// contagion groups are the exposure groups (gVictims..gUnreachable) and gAll.

// maxBuckets bounds the bootstrap's resampling units per replicate.
const maxBuckets = 256

// effCell sums the paired differences of one (round, group, bucket).
type effCell struct {
	SumW, SumU float64
	N          int32
}

// contCell counts one (round, contagion group).
type contCell struct {
	N, Affected, PlaceboN, PlaceboAffected int
}

// twinAgg is one pair's twin-design accumulators.
type twinAgg struct {
	from    int
	buckets int
	lab, pl *Labeler
	// hasPlacebo: the placebo has a twin (another replicate's control).
	hasPlacebo bool
	xs, cs     []Obs
	cur, pc    []bool
	prevLab    []bool  // labels after the previous round
	prevCtrl   []row   // the control's previous round (the placebo's targeting)
	pdist      []int32 // distances from the placebo's pseudo-victims (nil until From)
	eff        [][nEffGroups][]effCell
	cont       [][nGroups]contCell
	affected   [][]int32 // affected agents by round (permutation test)
	pending    []twinPending
}

type twinPending struct{ x, c []row }

func newTwinAgg(n, rounds, from int) *twinAgg {
	k := min(n, maxBuckets)
	a := &twinAgg{from: from, buckets: k, lab: NewLabeler(n, from), pl: NewLabeler(n, from),
		xs: make([]Obs, n), cs: make([]Obs, n), cur: make([]bool, n), pc: make([]bool, n), prevLab: make([]bool, n),
		eff: make([][nEffGroups][]effCell, rounds), cont: make([][nGroups]contCell, rounds), affected: make([][]int32, rounds)}
	for t := range a.eff {
		for g := range nEffGroups {
			a.eff[t][g] = make([]effCell, k)
		}
	}
	return a
}

// bucketOf is agent u's resampling unit (u itself when n <= maxBuckets).
func (a *twinAgg) bucketOf(u int) int {
	if len(a.xs) <= maxBuckets {
		return u
	}
	z := uint64(u)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int((z ^ (z >> 31)) % uint64(a.buckets))
}

// round folds round t of an inequity world (its rows x, distances dist, nil before the
// group is chosen) and its control (rows c).
func (s *netStudy) twinRound(a *twinAgg, w *world, t int, x, c, pt []row) {
	for u := range x {
		a.xs[u] = Obs{W: s.wScale.to7(float64(x[u].w)), OK: x[u].valid}
		a.cs[u] = Obs{W: s.wScale.to7(float64(c[u].w)), OK: c[u].valid}
	}
	copy(a.prevLab, a.lab.Last())
	a.lab.Step(t, a.xs, a.cs, a.cur)
	if pt != nil {
		a.hasPlacebo = true
		for u := range pt {
			a.xs[u] = Obs{W: s.wScale.to7(float64(pt[u].w)), OK: pt[u].valid}
		}
		// The control (cs) against the next replicate's control (xs) as its twin.
		a.pl.Step(t, a.cs, a.xs, a.pc)
	}
	if a.pdist == nil && w.dist != nil {
		a.pdist = s.placeboDistances(w, a.prevCtrl)
	}
	a.prevCtrl = nil
	if a.pdist == nil {
		a.prevCtrl = c // kept only until the pseudo-victims are chosen
	}
	if w.dist == nil {
		// Before the group is chosen (t < From) nobody is labelled: keep the rows until then.
		a.pending = append(a.pending, twinPending{x, c})
		return
	}
	for i, p := range a.pending {
		s.twinFold(a, w, t-len(a.pending)+i, p.x, p.c, false)
	}
	a.pending = nil
	s.twinFold(a, w, t, x, c, true)
}

// twinFold adds round r's rows to the sums; labelled says the labels of this round are in
// a.cur/a.pc/a.prevLab (rounds folded late, before From, have none).
func (s *netStudy) twinFold(a *twinAgg, w *world, r int, x, c []row, labelled bool) {
	g := s.g
	var aff []int32
	for u := range x {
		d := w.dist[u]
		eg := groupOf(d)
		if eg == gDist2 {
			eg = eDist2Unchanged
			if labelled {
				for _, v := range g.Neighbours(u) {
					if w.dist[v] == 1 && a.prevLab[v] {
						eg = eDist2Changed
						break
					}
				}
			}
		}
		if x[u].valid && c[u].valid {
			k := a.bucketOf(u)
			dw, du := float64(x[u].w)-float64(c[u].w), float64(x[u].u)-float64(c[u].u)
			add := func(e int) {
				cl := &a.eff[r-1][e][k]
				cl.SumW += dw
				cl.SumU += du
				cl.N++
			}
			add(groupOf(d))
			if eg != groupOf(d) {
				add(eg)
			}
		}
		cg := groupOf(d)
		cc := &a.cont[r-1][cg]
		all := &a.cont[r-1][gAll]
		cc.N++
		all.N++
		if labelled && a.cur[u] {
			cc.Affected++
			all.Affected++
			aff = append(aff, int32(u))
		}
		pg := groupOf(a.pdist[u])
		pc := &a.cont[r-1][pg]
		pc.PlaceboN++
		all.PlaceboN++
		if labelled && a.pc[u] {
			pc.PlaceboAffected++
			all.PlaceboAffected++
		}
	}
	a.affected[r-1] = aff
}

// placeboDistances are the distances from the pseudo-victims: the inequity's targeting rule
// applied to the control run, ranking (target top) the control's ratings of the round before
// From (prev), with the same tie-breaking seed.
func (s *netStudy) placeboDistances(w *world, prev []row) []int32 {
	iv := w.cond.iv
	agents := s.env.Agents
	p := policy.Population{N: w.n,
		Degree: s.g.Degree,
		Income: func(u int) (int, float64) { return agents[u].IncomeQuintile, agents[u].AnnualIncome },
		Choice: func(u int) (float64, bool) {
			if prev == nil || !prev[u].valid {
				return 0, false
			}
			if w.cond.by == "unfairness" {
				return float64(prev[u].u), true
			}
			return float64(prev[u].w), true
		},
	}
	nodes, err := policy.Select(iv.Rule, p, seed.Derive(s.seed, "target", w.rep))
	if err != nil {
		// The same rule succeeded on the inequity run; on the control's ratings it can only
		// fail for want of valid choices: then the pseudo-victims are the real ones.
		return w.dist
	}
	return network.Distances(s.g, nodes)
}
