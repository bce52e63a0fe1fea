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
	sd := seed.Derive(s.seed, "permutation", c.Label)
	if c.SignFlip {
		c.Contagion, c.Perms = signFlipStats(aggs, dists, c.Share, c.Rounds, c.From, sd)
		return
	}
	c.Contagion, c.Perms = s.contagionStats(aggs, dists, c.Share, c.Rounds, c.From, sd)
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

// noPlacements is Comparison.Perms when every agent is a victim in every replicate (or none
// is: victimCounts): no test reports a p-value then. The p of spread says where the effect
// sits, by distance from the victims, and the all row has none; with every agent a victim the
// victims are all agents and nobody is at any distance from them. The permutation test has
// no other placement either (each would give p = 1 whatever the effect); the sign-flip test
// would give the victims' row the p of all. Their effect is in network_effects.csv.
const noPlacements = -1

// victimCounts are the victims of each replicate, and whether every replicate's victims are
// all its agents (target: all) or none (noPlacements).
func victimCounts(dists [][]int32) (nvs []int, fixed bool) {
	nvs = make([]int, len(dists))
	fixed = true
	for r, ds := range dists {
		for _, d := range ds {
			if d == 0 {
				nvs[r]++
			}
		}
		fixed = fixed && (nvs[r] == 0 || nvs[r] == len(ds))
	}
	return nvs, fixed
}

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
	out := contagionShares(aggs, share, rounds, from)
	if len(aggs) == 0 || dists == nil {
		return out, 0
	}
	n := len(dists[0])
	nvs, fixed := victimCounts(dists)
	if fixed {
		return out, noPlacements
	}
	P := permutations(n, len(aggs))
	obs := focalSums(aggs, dists, func(r int) []int32 { return dists[r] }, rounds, from)
	bases := permBases(aggs, dists)
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
	perms := make([][]focalSum, P)
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
			var sc permScratch // this worker's buffers, reused
			for pl := range queue {
				out := make([]focalSum, rounds)
				for r, a := range aggs {
					bases[r].add(out, a, pl.victims[r], &sc, rounds, from)
				}
				perms[pl.p] = out
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

// contagionShares are the rows of network_contagion.csv without their p-values (NaN): the
// affected share by group and round beside the placebo's, pooled over the pairs whose placebo
// has a twin.
func contagionShares(aggs []*twinAgg, share func(g, t int) float64, rounds, from int) []ContagionRow {
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
	return out
}

// maxExactFlipReps is the most replicates whose sign patterns the sign-flip test enumerates
// (2^12 = 4096); with more it draws flipDraws of them.
const (
	maxExactFlipReps = 12
	flipDraws        = 999
)

// signFlipExact reports whether the sign-flip test over reps replicates enumerates every
// pattern (else it draws flipDraws beside the observed one).
func signFlipExact(reps int) bool { return reps <= maxExactFlipReps }

// signFlipStats is contagionStats on a backend whose twins do not share their random numbers
// (an LLM): the same rows, and the p-values of a sign-flip (randomisation) test over
// replicates instead of over placements; it returns the number of sign patterns in the
// reference set.
//
// Why not placements: on an LLM a decision whose prompt is the same in the run and its twin is
// the twin's reply (one draw per identical request), so its difference is an exact 0, while an
// agent whose prompt differs in any word (the victims, who are told of the treatment; their
// neighbours, who hear different ratings) gets two independent draws. Under the null, the
// victims' differences are then noise with real variance while placements put "victims" mostly
// on agents whose differences are copied 0s, so the placement test's p ran low: against a
// loopback model with no effect (60 agents, 4 replicates), victims had p < 0.05 in 9, 6, 4
// and 1 of 30 runs on days 2-5.
//
// The test: under the null for group g (the unfair treatment changes nobody at distance d_g or
// beyond), each replicate's run and twin are exchangeable for the agents at d_g, and
// replicates are independent worlds, so the per-replicate sums S_r of their differences are
// symmetric about 0 and independent. Statistic: the pooled mean, sum over r of S_r over the
// pairs (as the placement test's). Reference set: every sign pattern e (sum of e_r S_r over the
// pairs) when there are at most maxExactFlipReps replicates (exact; the observed is the all-plus
// one), else flipDraws patterns drawn from sd and the observed one. p is the share of patterns
// whose mean is at most the observed (one-sided: erosion; ties count), so at least 2^-R: 1/16
// with 4 replicates, 1/64 with 6. A null that holds exactly (all differences 0) gives p = 1.
// With every agent a victim it reports none, as the permutation test (noPlacements).
func signFlipStats(aggs []*twinAgg, dists [][]int32, share func(g, t int) float64, rounds, from int, sd uint64) ([]ContagionRow, int) {
	out := contagionShares(aggs, share, rounds, from)
	if len(aggs) == 0 || dists == nil {
		return out, 0
	}
	if _, fixed := victimCounts(dists); fixed {
		return out, noPlacements
	}
	R := len(aggs)
	// Each replicate's sums at the real distances (focalSums with the real distances: the
	// agents of group g are exactly those at d_g).
	per := make([][]focalSum, R)
	for r := range aggs {
		per[r] = focalSums(aggs[r:r+1], dists[r:r+1], func(int) []int32 { return dists[r] }, rounds, from)
	}
	pats := signPatterns(R, sd)
	S := make([]float64, R)
	for i := range out {
		x := &out[i]
		if x.G >= gUnreachable || x.Round < from {
			continue
		}
		var n float64
		for r := range R {
			S[r] = per[r][x.Round-1][x.G][0]
			n += per[r][x.Round-1][x.G][1]
		}
		if n == 0 {
			continue
		}
		x.P = signFlipP(S, n, pats)
	}
	return out, len(pats)
}

// signPatterns is the sign-flip test's reference set over R replicates, the observed (all
// plus) first: every pattern when signFlipExact(R), else flipDraws drawn from sd.
func signPatterns(R int, sd uint64) [][]float64 {
	if signFlipExact(R) {
		out := make([][]float64, 1<<R)
		for m := range out {
			e := make([]float64, R)
			for r := range R {
				e[r] = 1 - 2*float64(m>>r&1)
			}
			out[m] = e
		}
		return out
	}
	rng := rand.New(rand.NewPCG(sd, 0x7369676e666c6970))
	out := make([][]float64, 1+flipDraws)
	out[0] = make([]float64, R)
	for r := range R {
		out[0][r] = 1
	}
	for i := 1; i < len(out); i++ {
		e := make([]float64, R)
		for r := range R {
			e[r] = 1 - 2*float64(rng.IntN(2))
		}
		out[i] = e
	}
	return out
}

// signFlipP is the one-sided p-value of the pooled mean sum(S)/n against the sign patterns
// pats (the observed among them): the share whose mean is at most the observed.
func signFlipP(S []float64, n float64, pats [][]float64) float64 {
	mean := func(e []float64) float64 {
		var v float64
		for r, x := range S {
			v += e[r] * x
		}
		return v / n
	}
	obs := mean(pats[0])
	le := 0
	for _, e := range pats {
		// Means compared with a tolerance: exact ties (all differences 0) count.
		if mean(e) <= obs+1e-12 {
			le++
		}
	}
	return float64(le) / float64(len(pats))
}

// focalSum is, for one round and each group g below unreachable, {sum of differences,
// agent x replicate pairs} at distance d_g among the focal agents (contagionStats).
type focalSum [gUnreachable][2]float64

// focalSums is the permutation test's statistic by round for the distances pd(r) of each
// replicate r from its victims (real or placed), real its real distances. Sums run over the
// replicates, then the rounds, then each round's differences in order: permBase.add adds in
// the same order, so both give the same floats.
func focalSums(aggs []*twinAgg, real [][]int32, pd func(r int) []int32, rounds, from int) []focalSum {
	out := make([]focalSum, rounds)
	for r, a := range aggs {
		d := pd(r)
		rd := real[r]
		var size [gUnreachable]int
		for u := range d {
			if pg := groupOf(d[u]); pg < gUnreachable && groupOf(rd[u]) >= pg {
				size[pg]++
			}
		}
		for t := from; t <= rounds; t++ {
			for g := range gUnreachable {
				out[t-1][g][1] += float64(size[g])
			}
			for _, u := range a.invalid[t-1] {
				if pg := groupOf(d[u]); pg < gUnreachable && groupOf(rd[u]) >= pg {
					out[t-1][pg][1]--
				}
			}
			for _, x := range a.diffs[t-1] {
				if pg := groupOf(d[x.U]); pg < gUnreachable && groupOf(rd[x.U]) >= pg {
					out[t-1][pg][0] += float64(x.D)
				}
			}
		}
	}
	return out
}

// permBase is what a replicate's placements share: each agent's real exposure group, the
// graph's components (comp nil when it is connected), per component how many of its agents
// are at 3+ or unreachable in reality (far), and the agents the rounds' differences and
// invalid decisions name (tracked, ascending), each difference and invalid decision by its
// index there (diffK, invK: parallel to the twinAgg's diffs and invalid).
//
// A placement needs only distances 0, 1, 2 and "3 or more" from its victims, which a BFS
// stopped after two levels gives (network.NearInto): an agent it does not reach is at 3+
// when its component holds a placed victim, else unreachable. The focal agents at 3+ are
// then counted per component, less those the BFS reached, with no pass over every agent; and
// each tracked agent's group is looked up once, not once per round it appears in (157,274
// differences name 43,928 agents in a 200,000-agent run of examples/study3-million.yaml).
type permBase struct {
	realG   []uint8
	comp    []int32
	far     []int
	tracked []int32
	diffK   [][]int32
	invK    [][]int32
}

// permScratch is one worker's reusable state for permBase.add.
type permScratch struct {
	near    []uint8
	reached []int32
	marked  []bool // components holding a placed victim (reset after each use)
	focal   []int8 // each tracked agent's group in the placement when focal there, else -1
}

// permBases builds each replicate's permBase; replicates on one graph share its components.
func permBases(aggs []*twinAgg, dists [][]int32) []permBase {
	type comps struct {
		label []int32
		n     int
	}
	byGraph := map[*network.Graph]comps{}
	out := make([]permBase, len(aggs))
	for r, a := range aggs {
		c, ok := byGraph[a.g]
		if !ok {
			label, sizes := network.Components(a.g)
			c = comps{label, len(sizes)}
			byGraph[a.g] = c
		}
		b := permBase{realG: make([]uint8, len(dists[r])), far: make([]int, max(1, c.n))}
		if c.n > 1 {
			b.comp = c.label
		}
		for u, d := range dists[r] {
			b.realG[u] = uint8(groupOf(d))
			if b.realG[u] >= gDist3 {
				b.far[b.compOf(int32(u))]++
			}
		}
		b.track(a)
		out[r] = b
	}
	return out
}

// track fills tracked, diffK and invK from a's rounds.
func (b *permBase) track(a *twinAgg) {
	idx := make([]int32, len(b.realG)) // 1 + the agent's index in tracked; 0: untracked
	for t := range a.diffs {
		for _, x := range a.diffs[t] {
			idx[x.U] = 1
		}
		for _, u := range a.invalid[t] {
			idx[u] = 1
		}
	}
	for u, i := range idx {
		if i != 0 {
			b.tracked = append(b.tracked, int32(u))
			idx[u] = int32(len(b.tracked))
		}
	}
	b.diffK, b.invK = make([][]int32, len(a.diffs)), make([][]int32, len(a.invalid))
	for t := range a.diffs {
		b.diffK[t] = make([]int32, len(a.diffs[t]))
		for i, x := range a.diffs[t] {
			b.diffK[t][i] = idx[x.U] - 1
		}
		b.invK[t] = make([]int32, len(a.invalid[t]))
		for i, u := range a.invalid[t] {
			b.invK[t][i] = idx[u] - 1
		}
	}
}

func (b *permBase) compOf(u int32) int32 {
	if b.comp == nil {
		return 0
	}
	return b.comp[u]
}

// add adds to out the statistic of one replicate's placed victims: focalSums with the
// distances from them, in the same order.
func (b *permBase) add(out []focalSum, a *twinAgg, victims []int, sc *permScratch, rounds, from int) {
	sc.near, sc.reached = network.NearInto(sc.near, sc.reached, a.g, victims, gDist2)
	near := sc.near
	if len(sc.marked) < len(b.far) {
		sc.marked = make([]bool, len(b.far))
	}
	var size [gUnreachable]int
	for _, v := range victims {
		if c := b.compOf(int32(v)); !sc.marked[c] {
			sc.marked[c] = true
			size[gDist3] += b.far[c]
		}
	}
	for _, u := range sc.reached {
		pg, rg := near[u], b.realG[u]
		if rg >= pg {
			size[pg]++
		}
		if rg >= gDist3 { // within two hops of a placed victim, so not at 3+
			size[gDist3]--
		}
	}
	// Each tracked agent's group in the placement when it is focal there (its real group at
	// least that), -1 otherwise.
	if cap(sc.focal) < len(b.tracked) {
		sc.focal = make([]int8, len(b.tracked))
	}
	focal := sc.focal[:len(b.tracked)]
	for k, u := range b.tracked {
		pg := near[u]
		if pg == network.Far {
			pg = gDist3
			if !sc.marked[b.compOf(u)] {
				pg = gUnreachable // no placed victim in u's component
			}
		}
		focal[k] = -1
		if pg < gUnreachable && b.realG[u] >= pg {
			focal[k] = int8(pg)
		}
	}
	for t := from; t <= rounds; t++ {
		for g := range gUnreachable {
			out[t-1][g][1] += float64(size[g])
		}
		for _, k := range b.invK[t-1] {
			if pg := focal[k]; pg >= 0 {
				out[t-1][pg][1]--
			}
		}
		diffs := a.diffs[t-1]
		for i, k := range b.diffK[t-1] {
			if pg := focal[k]; pg >= 0 {
				out[t-1][pg][0] += float64(diffs[i].D)
			}
		}
	}
	for _, v := range victims {
		sc.marked[b.compOf(int32(v))] = false
	}
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
