package network

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/seed"
)

// The twin design's statistics, computed once per comparison from the pairs' accumulators
// (twin.go); the summary, the tables and the report print these values.

// BootReps is the number of bootstrap resamples of the effects' CIs.
const BootReps = 1000

// effectLevel is the CIs' level.
const effectLevel = 0.95

// Estimands, named where they are printed.
const (
	effectEstimand    = "mean over agent x replicate pairs of (inequity run minus its control twin) in the round, both decisions valid"
	contagionEstimand = "share of agent x replicate pairs labelled affected in the round (label.go), pooled over replicates"
	// pairsHead heads the column that counts a group's agent x replicate pairs (an agent
	// counts once per replicate), in the summary and the report alike.
	pairsHead = "agent x replicate pairs"
)

// EffectRow is one row of network_effects.csv.
type EffectRow struct {
	G       int // effect group (eVictim..)
	Round   int
	Unfair  bool // outcome unfairness (else willingness)
	Effect  float64
	Lo, Hi  float64
	NAgents int // agent x replicate pairs with both decisions valid in the round
	NReps   int // replicates with at least one
}

// Outcome is the outcome column's value.
func (e EffectRow) Outcome() string {
	if e.Unfair {
		return "unfairness"
	}
	return "willingness"
}

// ContagionRow is one row of network_contagion.csv.
type ContagionRow struct {
	G            int // contagion group (gVictims..gUnreachable, gAll)
	Round        int
	Share        float64
	PlaceboShare float64
	P            float64 // permutation p-value; NaN for all and before the treatment
}

// twinStats fills c.Effects and c.Contagion from the pairs' accumulators (in replicate order).
func (s *netStudy) twinStats(c *Comparison, aggs []*twinAgg, dists [][]int32) {
	c.Effects = effects(aggs, c.Rounds, seed.Derive(s.seed, "effects", c.Label))
	c.BootReps = BootReps
	c.Contagion, c.Perms = s.contagionStats(aggs, dists, c.Share, c.Rounds, c.From, seed.Derive(s.seed, "permutation", c.Label))
}

// effects are the paired differences by group and round, with percentile CIs from a
// two-way (pigeonhole) bootstrap: each resample draws the replicates with replacement and,
// independently, the agents (buckets, twin.go) with replacement; an agent x replicate pair weighs the
// product of its replicate's and its agent's counts. So the CI reflects both the replicates'
// variation and the agents' (an agent is the same persona in every replicate).
func effects(aggs []*twinAgg, rounds int, sd uint64) []EffectRow {
	if len(aggs) == 0 {
		return nil
	}
	R, K := len(aggs), aggs[0].buckets
	rng := rand.New(rand.NewPCG(sd, 0x6566666563747301))
	wr := make([][]float64, BootReps)
	vk := make([][]float64, BootReps)
	for b := range BootReps {
		wr[b], vk[b] = make([]float64, R), make([]float64, K)
		for range R {
			wr[b][rng.IntN(R)]++
		}
		for range K {
			vk[b][rng.IntN(K)]++
		}
	}
	var out []EffectRow
	drawsW, drawsU := make([]float64, 0, BootReps), make([]float64, 0, BootReps)
	for g := range nEffGroups {
		for t := 1; t <= rounds; t++ {
			var sw, su float64
			var n, reps int
			for _, a := range aggs {
				m := 0
				for _, cl := range a.eff[t-1][g] {
					sw += cl.SumW
					su += cl.SumU
					m += int(cl.N)
				}
				n += m
				if m > 0 {
					reps++
				}
			}
			if n == 0 {
				continue
			}
			drawsW, drawsU = drawsW[:0], drawsU[:0]
			for b := range BootReps {
				var nw, nu, den float64
				for r, a := range aggs {
					if wr[b][r] == 0 {
						continue
					}
					var iw, iu, id float64
					for k, cl := range a.eff[t-1][g] {
						if cl.N == 0 || vk[b][k] == 0 {
							continue
						}
						iw += vk[b][k] * cl.SumW
						iu += vk[b][k] * cl.SumU
						id += vk[b][k] * float64(cl.N)
					}
					nw += wr[b][r] * iw
					nu += wr[b][r] * iu
					den += wr[b][r] * id
				}
				if den > 0 {
					drawsW = append(drawsW, nw/den)
					drawsU = append(drawsU, nu/den)
				}
			}
			for _, unfair := range []bool{false, true} {
				e := EffectRow{G: g, Round: t, Unfair: unfair, NAgents: n, NReps: reps, Effect: sw / float64(n)}
				d := drawsW
				if unfair {
					e.Effect, d = su/float64(n), drawsU
				}
				e.Lo, e.Hi = percentileCI(d, effectLevel)
				out = append(out, e)
			}
		}
	}
	return out
}

// percentileCI is the level percentile interval of the draws (sorted in place); NaN without.
func percentileCI(d []float64, level float64) (float64, float64) {
	if len(d) == 0 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(d)
	q := func(p float64) float64 {
		// Type 7 quantile (linear interpolation), as R's default.
		h := p * float64(len(d)-1)
		lo := math.Floor(h)
		if int(lo)+1 >= len(d) {
			return d[len(d)-1]
		}
		return d[int(lo)] + (h-lo)*(d[int(lo)+1]-d[int(lo)])
	}
	return q((1 - level) / 2), q((1 + level) / 2)
}

// noPlacements is Comparison.Perms when every agent is a victim in every replicate: the
// permutation test has no other placement, and reports no p-value.
const noPlacements = -1

// permutations is how many victim placements the permutation test draws: 999, fewer for
// very large runs (each costs a breadth-first search per replicate), never fewer than 99.
func permutations(n, pairs int) int {
	p := 200_000_000 / max(1, n*pairs)
	return max(99, min(999, p))
}

// contagionStats is the affected share by group and round (share: the Comparison's, from
// the same counts as network_groups.csv) beside the placebo's, and the permutation test of
// spread at each distance.
//
// The permutation test is on the willingness effect (the mean twin difference), not on the
// label share: two hops out the per-agent change is a fraction of a point, which a label
// demanding a reliable change of a point or more cannot see, while the mean of many small
// changes can. Null hypothesis for group g (victims, distance 1, 2, 3+): the unfair treatment
// changes nobody at distance d_g or beyond, i.e. their differences from their twins are noise
// unrelated to where the victims sit (with common random numbers, exactly 0). Statistic:
// the mean difference, pooled over replicates, of the agent x replicate pairs at distance d_g. Only the
// focal agents, those at a real distance of at least d_g (or unreachable), enter: the null
// says nothing about the agents nearer the victims, which would otherwise carry the
// victims' and the neighbours' own effects into every placement (a test at distance 2 would
// then compare the distance-2 agents with a mix that includes distance 1 and find nothing).
// Each permutation places as many victims as each replicate had uniformly at random on the
// replicate's graph and recomputes the focal agents' distances; the p-value is the share of
// placements (plus the observed one) whose mean at distance d_g is at most the observed one
// (one-sided: erosion). A null that holds exactly (no change at all) gives p = 1.
func (s *netStudy) contagionStats(aggs []*twinAgg, dists [][]int32, share func(g, t int) float64, rounds, from int, sd uint64) ([]ContagionRow, int) {
	var out []ContagionRow
	for t := from; t <= rounds; t++ { // nobody is labelled before the unfair treatment
		for g := range nGroups {
			var n, pk, pn int
			for _, a := range aggs {
				c := a.cont[t-1][g]
				n += c.N
				if a.hasPlacebo {
					pk, pn = pk+c.PlaceboAffected, pn+c.PlaceboN
				}
			}
			if n == 0 && pn == 0 {
				continue
			}
			out = append(out, ContagionRow{G: g, Round: t, Share: share(g, t), PlaceboShare: ratioI(pk, pn), P: math.NaN()})
		}
	}
	if len(aggs) == 0 || dists == nil {
		return out, 0
	}
	n := len(dists[0])
	nvs := make([]int, len(aggs))
	fixed := true // every replicate's victims are all agents (target: all) or none
	for r := range aggs {
		for _, d := range dists[r] {
			if d == 0 {
				nvs[r]++
			}
		}
		fixed = fixed && (nvs[r] == 0 || nvs[r] == n)
	}
	if fixed {
		// No other placement exists: every permutation would be the observed one and give
		// p = 1 whatever the effect, so no p-value is reported.
		return out, noPlacements
	}
	P := permutations(n, len(aggs))
	// sums[t-1][g] is {sum of differences, agent x replicate pairs} at distance d_g among the focal agents.
	type sums [gUnreachable][2]float64
	stat := func(pd func(r int) []int32) []sums {
		out := make([]sums, rounds)
		for r, a := range aggs {
			d := pd(r)
			real := dists[r]
			var size [gUnreachable]int
			for u := range d {
				if pg := groupOf(d[u]); pg < gUnreachable && groupOf(real[u]) >= pg {
					size[pg]++
				}
			}
			for t := from; t <= rounds; t++ {
				for g := range gUnreachable {
					out[t-1][g][1] += float64(size[g])
				}
				for _, u := range a.invalid[t-1] {
					if pg := groupOf(d[u]); pg < gUnreachable && groupOf(real[u]) >= pg {
						out[t-1][pg][1]--
					}
				}
				for _, x := range a.diffs[t-1] {
					if pg := groupOf(d[x.U]); pg < gUnreachable && groupOf(real[x.U]) >= pg {
						out[t-1][pg][0] += float64(x.D)
					}
				}
			}
		}
		return out
	}
	obs := stat(func(r int) []int32 { return dists[r] })
	// The placements are drawn serially from one stream (so the p-values do not depend on the
	// number of cores), then each placement's BFS and pass over the agents run in parallel,
	// its statistic gathered by index.
	rng := rand.New(rand.NewPCG(sd, 0x7065726d75746501))
	// One goroutine draws the placements in order and hands them on through a short queue
	// (memory: a few placements, whatever P and the number of victims).
	type placement struct {
		p       int
		victims [][]int // per replicate
	}
	queue := make(chan placement, 2)
	perms := make([][]sums, P)
	workers := min(P, runtime.GOMAXPROCS(0))
	var eg errgroup.Group
	eg.Go(func() error {
		defer close(queue)
		for p := range P {
			v := make([][]int, len(aggs))
			for r := range aggs {
				v[r] = sampleDistinct(rng, n, nvs[r])
			}
			queue <- placement{p, v}
		}
		return nil
	})
	for range workers {
		eg.Go(func() error {
			pds := make([][]int32, len(aggs)) // this worker's distance buffers, reused
			for pl := range queue {
				for r, a := range aggs {
					pds[r] = network.DistancesInto(pds[r], a.g, pl.victims[r])
				}
				perms[pl.p] = stat(func(r int) []int32 { return pds[r] })
			}
			return nil
		})
	}
	_ = eg.Wait() // no goroutine returns an error

	le := make([][gUnreachable]int, rounds) // placements at least as extreme
	valid := make([][gUnreachable]int, rounds)
	for _, perm := range perms {
		for t := from; t <= rounds; t++ {
			for g := range gUnreachable {
				pc, oc := perm[t-1][g], obs[t-1][g]
				if pc[1] == 0 || oc[1] == 0 {
					continue
				}
				valid[t-1][g]++
				// Means compared with a tolerance: exact ties (all differences 0) count.
				if pc[0]/pc[1] <= oc[0]/oc[1]+1e-12 {
					le[t-1][g]++
				}
			}
		}
	}
	for i := range out {
		r := &out[i]
		if r.G >= gUnreachable || r.Round < from || obs[r.Round-1][r.G][1] == 0 {
			continue
		}
		r.P = float64(1+le[r.Round-1][r.G]) / float64(1+valid[r.Round-1][r.G])
	}
	return out, P
}

// sampleDistinct draws k distinct nodes of 0..n-1 by a partial Fisher-Yates shuffle of the
// identity, the swapped entries kept in a map: the same draws and nodes as shuffling an
// n-entry index array, without writing n entries per placement.
func sampleDistinct(rng *rand.Rand, n, k int) []int {
	out := make([]int, k)
	moved := make(map[int]int, 2*k)
	at := func(i int) int {
		if v, ok := moved[i]; ok {
			return v
		}
		return i
	}
	for i := range k {
		j := i + rng.IntN(n-i)
		vi, vj := at(i), at(j)
		out[i] = vj
		moved[j] = vi
		moved[i] = vj
	}
	return out
}

func ratioI(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}
