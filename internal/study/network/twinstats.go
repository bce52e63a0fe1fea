package network

import (
	"math"
	"math/rand/v2"
	"slices"

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
	effectEstimand    = "mean over agent-runs of (inequity run minus its control twin), both decisions valid"
	contagionEstimand = "share of agent-runs labelled affected (label.go), pooled over replicates"
)

// EffectRow is one row of network_effects.csv.
type EffectRow struct {
	G       int // effect group (eVictim..)
	Round   int
	Unfair  bool // outcome unfairness (else willingness)
	Effect  float64
	Lo, Hi  float64
	NAgents int // agent-runs with both decisions valid
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
	c.Contagion, c.Perms = s.contagionStats(aggs, dists, c.Rounds, c.From, seed.Derive(s.seed, "permutation", c.Label))
}

// effects are the paired differences by group and round, with percentile CIs from a
// two-way (pigeonhole) bootstrap: each resample draws the replicates with replacement and,
// independently, the agents (buckets, twin.go) with replacement; an agent-run weighs the
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

// permutations is how many victim placements the permutation test draws: 999, fewer for
// very large runs (each costs a breadth-first search per replicate), never fewer than 99.
func permutations(n, pairs int) int {
	p := 200_000_000 / max(1, n*pairs)
	return max(99, min(999, p))
}

// contagionStats is the affected share by group and round beside the placebo's, and the
// permutation test over where the victims sit: each permutation places as many victims as
// each replicate had uniformly at random, recomputes every agent's distance from them, and
// recounts the (fixed) labels by group; the p-value of a group and round is the share of
// placements (plus the observed one) whose pooled affected share is at least the observed.
// Spread that decays with distance from the real victims gives small p-values at short
// distances; labels that sit anywhere regardless of the victims give p-values near uniform.
func (s *netStudy) contagionStats(aggs []*twinAgg, dists [][]int32, rounds, from int, sd uint64) ([]ContagionRow, int) {
	var out []ContagionRow
	obs := make([][nGroups][2]int, rounds) // [t-1][g]{affected, n}
	for t := from; t <= rounds; t++ {      // nobody is labelled before the unfair treatment
		for g := range nGroups {
			var k, n, pk, pn int
			for _, a := range aggs {
				c := a.cont[t-1][g]
				k, n = k+c.Affected, n+c.N
				if a.hasPlacebo {
					pk, pn = pk+c.PlaceboAffected, pn+c.PlaceboN
				}
			}
			obs[t-1][g] = [2]int{k, n}
			if n == 0 && pn == 0 {
				continue
			}
			out = append(out, ContagionRow{G: g, Round: t, Share: ratioI(k, n), PlaceboShare: ratioI(pk, pn), P: math.NaN()})
		}
	}
	if len(aggs) == 0 || dists == nil {
		return out, 0
	}
	n := len(dists[0])
	P := permutations(n, len(aggs))
	rng := rand.New(rand.NewPCG(sd, 0x7065726d75746501))
	ge := make([][nGroups]int, rounds) // placements at least as extreme
	valid := make([][nGroups]int, rounds)
	idx := make([]int, n)
	for range P {
		cnt := make([][nGroups][2]int, rounds)
		for r, a := range aggs {
			nv := 0
			for _, d := range dists[r] {
				if d == 0 {
					nv++
				}
			}
			for i := range idx {
				idx[i] = i
			}
			for i := range nv { // partial Fisher-Yates: nv distinct nodes
				j := i + rng.IntN(n-i)
				idx[i], idx[j] = idx[j], idx[i]
			}
			pd := network.Distances(s.g, idx[:nv])
			var size [nGroups]int
			for _, d := range pd {
				size[groupOf(d)]++
			}
			for t := from; t <= rounds; t++ {
				for g := range gAll {
					cnt[t-1][g][1] += size[g]
				}
				for _, u := range a.affected[t-1] {
					cnt[t-1][groupOf(pd[u])][0]++
				}
			}
		}
		for t := from; t <= rounds; t++ {
			for g := range gAll {
				if cnt[t-1][g][1] == 0 || obs[t-1][g][1] == 0 {
					continue
				}
				valid[t-1][g]++
				// k/n >= k0/n0 without rounding error.
				if cnt[t-1][g][0]*obs[t-1][g][1] >= obs[t-1][g][0]*cnt[t-1][g][1] {
					ge[t-1][g]++
				}
			}
		}
	}
	for i := range out {
		r := &out[i]
		if r.G == gAll || r.Round < from || obs[r.Round-1][r.G][1] == 0 {
			continue
		}
		r.P = float64(1+ge[r.Round-1][r.G]) / float64(1+valid[r.Round-1][r.G])
	}
	return out, P
}

func ratioI(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}
