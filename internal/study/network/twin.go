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
//     (inequity minus twin) of willingness and unfairness over agent x replicate pairs with both decisions
//     valid. Agent i falls in bucket i when there are at most maxBuckets agents (the bootstrap
//     then resamples agents exactly); with more, agents are spread over maxBuckets buckets by
//     a fixed hash of their index and the bootstrap resamples buckets (blocks of agents that
//     are exchangeable units), so its cost and memory do not grow with N.
//   - Contagion: per round and exposure group, agents and affected agents (the label of the
//     world's rows, label.go) of the inequity run, and of the placebo: the label on the
//     control against the next replicate's control (aggregator.placebo), grouped by distance
//     from pseudo-victims chosen by the same targeting rule on a third replicate's
//     pre-treatment ratings (label.go).
//   - For the p-values of spread (twinstats.go: placements or sign flips): per round, the agents whose willingness
//     differs from their twin's, with the difference (8 bytes each; none with common random
//     numbers and no effect), and the agents without both decisions valid.

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

// effGroupKeys are the exposure_group column of network_effects.csv (and
// network_contagion.csv's), groupKeys' spelling, and the groups' names in the summary and the
// report; effGroupNames are the report's and the live view's, which add to the split of
// distance 2 what it means. legacyEffGroupKeys are the keys of runs written before, read back
// by a summary run's report.
var (
	effGroupKeys = [nEffGroups]string{groupKeys[gVictims], groupKeys[gDist1], groupKeys[gDist2], groupKeys[gDist3], groupKeys[gUnreachable],
		"distance_2_changed", "distance_2_unchanged"}
	effGroupNames = [nEffGroups]string{effGroupKeys[eVictim], effGroupKeys[eDist1], effGroupKeys[eDist2], effGroupKeys[eDist3], effGroupKeys[eUnreach],
		effGroupKeys[eDist2Changed] + ": distance 2, a distance-1 neighbour affected the round before", effGroupKeys[eDist2Unchanged] + ": distance 2, none affected the round before"}
	legacyEffGroupKeys = [nEffGroups]string{"victim", "1", "2", "3+", "unreachable", "2|1 changed", "2|1 unchanged"}
)

// contagion groups are the exposure groups (gVictims..gUnreachable) and gAll.

// maxBuckets bounds the bootstrap's resampling units per replicate.
const maxBuckets = 256

// effCell sums the paired differences of one (round, group, bucket).
type effCell struct {
	SumW, SumU float64
	N          int32
}

// contCell counts one (round, contagion group): its agent x replicate pairs, and the placebo's
// and affected (the real affected are counted in the pair's cells, aggregate.go).
type contCell struct {
	N, PlaceboN, PlaceboAffected int
}

// twinAgg is one pair's twin-design accumulators.
type twinAgg struct {
	g       *network.Graph // the replicate's graph (graph.per_replicate: its own)
	from    int
	buckets int
	// hasPlacebo: the placebo has a twin (another replicate's control).
	hasPlacebo bool
	cur, pc    []bool    // this round's labels: the run's (its rows), the placebo's (aggregator.placebo)
	prevLab    []bool    // the run's labels after the previous round
	prevSel    roundView // the placebo selector's previous round (its targeting, label.go; a copy)
	pdist      []int32   // distances from the placebo's pseudo-victims (nil until From)
	eff        [][nEffGroups][]effCell
	cont       [][nGroups]contCell
	diffs      [][]agentDiff // nonzero willingness differences by round (permutation test)
	invalid    [][]int32     // agents without both decisions valid, by round
	pending    []twinPending
}

type twinPending struct{ x, c roundView } // copies

// agentDiff is one agent's willingness difference from its twin in a round (scenario scale).
type agentDiff struct {
	U int32
	D float32
}

func newTwinAgg(n, rounds, from int) *twinAgg {
	k := min(n, maxBuckets)
	a := &twinAgg{from: from, buckets: k, cur: make([]bool, n), pc: make([]bool, n), prevLab: make([]bool, n),
		eff: make([][nEffGroups][]effCell, rounds), cont: make([][nGroups]contCell, rounds),
		diffs: make([][]agentDiff, rounds), invalid: make([][]int32, rounds)}
	for t := range a.eff {
		for g := range nEffGroups {
			a.eff[t][g] = make([]effCell, k)
		}
	}
	return a
}

// bucketOf is agent u's resampling unit (u itself when n <= maxBuckets).
func (a *twinAgg) bucketOf(u int) int {
	if len(a.cur) <= maxBuckets {
		return u
	}
	z := uint64(u)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int((z ^ (z >> 31)) % uint64(a.buckets))
}

// round folds round t of an inequity world (its rows x, labelled by the world, distances
// dist, nil before the group is chosen), its control (rows c), whether the placebo has a
// twin (its labels are in a.pc) and the run whose ratings choose the placebo's
// pseudo-victims (sel).
func (s *netStudy) twinRound(a *twinAgg, w *world, t int, x, c roundView, placebo bool, sel roundView) {
	a.g = w.g
	copy(a.prevLab, a.cur)
	for u := range x.w {
		a.cur[u] = x.lab[u]
	}
	a.hasPlacebo = placebo
	if a.pdist == nil && w.dist != nil {
		a.pdist = s.placeboDistances(w, a.prevSel)
	}
	a.prevSel = roundView{}
	if a.pdist == nil {
		a.prevSel = sel // kept only until the pseudo-victims are chosen
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
func (s *netStudy) twinFold(a *twinAgg, w *world, r int, x, c roundView, labelled bool) {
	g := w.g
	var diffs []agentDiff
	var invalid []int32
	for u := range x.w {
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
		if x.ok[u] && c.ok[u] {
			k := a.bucketOf(u)
			dw, du := float64(x.w[u])-float64(c.w[u]), float64(x.u[u])-float64(c.u[u])
			if dw != 0 {
				diffs = append(diffs, agentDiff{int32(u), float32(dw)})
			}
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
		} else {
			invalid = append(invalid, int32(u))
		}
		cg := groupOf(d)
		cc := &a.cont[r-1][cg]
		all := &a.cont[r-1][gAll]
		cc.N++
		all.N++
		pg := groupOf(a.pdist[u])
		pc := &a.cont[r-1][pg]
		pc.PlaceboN++
		all.PlaceboN++
		if labelled && a.pc[u] {
			pc.PlaceboAffected++
			all.PlaceboAffected++
		}
	}
	a.diffs[r-1], a.invalid[r-1] = diffs, invalid
}

// placeboDistances are the distances from the pseudo-victims: the inequity's targeting rule
// ranking (target top) the selector's ratings of the round before From (prev: a third
// replicate's control, label.go), with the same tie-breaking seed, on the replicate's graph.
func (s *netStudy) placeboDistances(w *world, prev roundView) []int32 {
	iv := w.cond.iv
	agents := s.env.Agents
	p := policy.Population{N: w.n,
		Degree: w.g.Degree,
		Income: func(u int) (int, float64) { return agents[u].IncomeQuintile, agents[u].AnnualIncome },
		Choice: func(u int) (float64, bool) {
			if prev.w == nil || !prev.ok[u] {
				return 0, false
			}
			if w.cond.by == "unfairness" {
				return float64(prev.u[u]), true
			}
			return float64(prev.w[u]), true
		},
	}
	nodes, err := policy.Select(iv.Rule, p, seed.Derive(s.seed, "target", w.rep))
	if err != nil {
		// The same rule succeeded on the inequity run; on the control's ratings it can only
		// fail for want of valid choices: then the pseudo-victims are the real ones.
		return w.dist
	}
	return network.Distances(w.g, nodes)
}
