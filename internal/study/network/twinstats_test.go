package network

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prosim/prosim/internal/network"
)

// synthetic builds twin accumulators on a small world: 5 victims per replicate, willingness
// effects of eff[d] at distance d with N(0, 1) noise.
func synthetic(t *testing.T, reps, n int, eff []float64, sd uint64) (*netStudy, []*twinAgg, [][]int32) {
	t.Helper()
	g, err := network.WattsStrogatz(n, 6, 0.1, 7)
	if err != nil {
		t.Fatal(err)
	}
	s := &netStudy{g: g, seed: sd}
	r := rand.New(rand.NewPCG(sd, 2))
	const rounds = 4
	var aggs []*twinAgg
	var dists [][]int32
	for range reps {
		var victims []int
		for _, v := range r.Perm(n)[:5] {
			victims = append(victims, v)
		}
		dist := network.Distances(g, victims)
		a := newTwinAgg(n, rounds, 2)
		a.g = g
		for t := 2; t <= rounds; t++ {
			for u := range n {
				d := int(dist[u])
				cg := groupOf(dist[u])
				a.cont[t-1][cg].N++
				a.cont[t-1][gAll].N++
				r.Float64() // the draw that once chose the agent's label: kept so the seeded streams stay as they were
				e := 0.0
				if d >= 0 && d < len(eff) {
					e = eff[d]
				}
				cl := &a.eff[t-1][cg][a.bucketOf(u)]
				dw := e + r.NormFloat64()
				cl.SumW += dw
				cl.N++
				a.diffs[t-1] = append(a.diffs[t-1], agentDiff{int32(u), float32(dw)})
			}
		}
		aggs, dists = append(aggs, a), append(dists, dist)
	}
	return s, aggs, dists
}

func noShare(int, int) float64 { return math.NaN() }

func pOf(rows []ContagionRow, g, t int) float64 {
	for _, r := range rows {
		if r.G == g && r.Round == t {
			return r.P
		}
	}
	return math.NaN()
}

func TestPermutationNoSpreadBeyondOne(t *testing.T) {
	// Victims and their neighbours change, distance 2 and beyond only by noise (the test is on
	// the willingness differences, N(0, 1) noise around the effects).
	s, aggs, dists := synthetic(t, 4, 300, []float64{-1, -0.3}, 11)
	rows, perms := s.contagionStats(aggs, dists, noShare, 4, 2, 5)
	if perms != 999 {
		t.Errorf("%d permutations, want 999", perms)
	}
	for tr := 2; tr <= 4; tr++ {
		if p := pOf(rows, gDist1, tr); !(p < 0.05) {
			t.Errorf("round %d: distance-1 spread not detected, p = %.3f", tr, p)
		}
		for _, g := range []int{gDist2, gDist3} {
			if p := pOf(rows, g, tr); !(p > 0.05) {
				t.Errorf("round %d, %s: p = %.3f with no spread there, want > 0.05", tr, groupKeys[g], p)
			}
		}
	}
}

func TestPermutationSpreadAtTwo(t *testing.T) {
	// A small effect two hops out, with the larger ones nearer the victims (which the focal
	// restriction keeps out of the comparison).
	s, aggs, dists := synthetic(t, 6, 300, []float64{-1, -0.6, -0.3}, 12)
	rows, _ := s.contagionStats(aggs, dists, noShare, 4, 2, 5)
	for tr := 2; tr <= 4; tr++ {
		if p := pOf(rows, gDist2, tr); !(p < 0.05) {
			t.Errorf("round %d: spread at distance 2 not detected, p = %.3f", tr, p)
		}
	}
}

func TestEffectsBootstrapCoversKnownEffect(t *testing.T) {
	// True effects -1 (victims), -0.3 (distance 1), 0 beyond, with N(0,1) noise.
	_, aggs, _ := synthetic(t, 6, 400, []float64{-1, -0.3}, 13)
	rows := effects(aggs, 4, 9)
	want := map[int]float64{eVictim: -1, eDist1: -0.3, eDist2: 0, eDist3: 0}
	for _, e := range rows {
		w, ok := want[e.G]
		if !ok || e.Unfair || e.Round < 2 {
			continue
		}
		if !(e.Lo <= e.Effect && e.Effect <= e.Hi) {
			t.Errorf("%s round %d: estimate %.3f outside its CI [%.3f, %.3f]", effGroupNames[e.G], e.Round, e.Effect, e.Lo, e.Hi)
		}
		// 4 SEs: a fixed seed, so this cannot flake; a CI off by a scale factor would fail.
		se := (e.Hi - e.Lo) / (2 * 1.96)
		if math.Abs(e.Effect-w) > 4*se || se <= 0 || se > 1/math.Sqrt(float64(e.NAgents))*3 {
			t.Errorf("%s round %d: %.3f [%.3f, %.3f] (n %d) vs true %.2f", effGroupNames[e.G], e.Round, e.Effect, e.Lo, e.Hi, e.NAgents, w)
		}
	}
	if len(rows) == 0 {
		t.Fatal("no effects")
	}
}

func TestNiceTop(t *testing.T) {
	for _, c := range []struct{ v, want float64 }{{0, 0.01}, {0.06, 0.1}, {0.031, 0.05}, {0.7, 1}, {0.012, 0.02}} {
		if got := niceTop(c.v); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("niceTop(%g) = %g, want %g", c.v, got, c.want)
		}
	}
}

// sampleDistinct draws what a partial Fisher-Yates shuffle of a full index array draws, from
// the same stream (the permutation test's p-values depend on it).
func TestSampleDistinctMatchesArrayShuffle(t *testing.T) {
	for _, c := range []struct{ n, k int }{{1, 1}, {10, 10}, {1000, 3}, {1000, 999}, {100000, 1000}, {50, 0}} {
		a, b := rand.New(rand.NewPCG(5, 6)), rand.New(rand.NewPCG(5, 6))
		for range 3 {
			idx := make([]int, c.n)
			for i := range idx {
				idx[i] = i
			}
			for i := range c.k {
				j := i + a.IntN(c.n-i)
				idx[i], idx[j] = idx[j], idx[i]
			}
			got := sampleDistinct(b, c.n, c.k)
			if len(got) != c.k {
				t.Fatalf("n %d k %d: %d nodes", c.n, c.k, len(got))
			}
			for i := range got {
				if got[i] != idx[i] {
					t.Fatalf("n %d k %d: node %d is %d, the array shuffle's %d", c.n, c.k, i, got[i], idx[i])
				}
			}
		}
	}
}

// A placement's statistic from the BFS stopped at distance 2 (permBase.add) equals the one
// from full distances (focalSums), float for float: on a connected graph and on fragmented
// ones (isolated agents, components without a placed victim, real victims in one component
// only), with invalid decisions, non-integer differences, several replicates on one graph
// and a replicate without victims.
func TestPlacementSumsMatchFullDistances(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const rounds, from = 5, 2
	for name, g := range map[string]*network.Graph{
		"ba":        must(network.BarabasiAlbert(3000, 2, 3)),
		"gnp":       must(network.ErdosRenyiGnp(2000, 0.0012, 3)),
		"ws":        must(network.WattsStrogatz(1500, 4, 0.05, 3)),
		"ws+pieces": disjoint(must(network.WattsStrogatz(800, 4, 0.1, 4)), must(network.ErdosRenyiGnp(700, 0.002, 4))),
	} {
		n := g.N()
		var aggs []*twinAgg
		var dists [][]int32
		var nvs []int
		for rep, k := range []int{10, 0, 60, 10} {
			victims := r.Perm(n)[:k]
			if rep == 3 { // all in the first part of the graph
				for i := range victims {
					victims[i] %= 800
				}
			}
			a := newTwinAgg(n, rounds, from)
			a.g = g
			for t := from; t <= rounds; t++ {
				for range n / 3 {
					a.diffs[t-1] = append(a.diffs[t-1], agentDiff{int32(r.IntN(n)), float32(r.NormFloat64())})
				}
				for range n / 20 {
					a.invalid[t-1] = append(a.invalid[t-1], int32(r.IntN(n)))
				}
			}
			d := network.Distances(g, victims)
			nv := 0
			for _, x := range d {
				if x == 0 {
					nv++
				}
			}
			aggs, dists, nvs = append(aggs, a), append(dists, d), append(nvs, nv)
		}
		bases := permBases(aggs, dists)
		var sc permScratch
		for p := range 20 {
			placed := make([][]int, len(aggs))
			for i := range aggs {
				placed[i] = sampleDistinct(r, n, nvs[i])
			}
			want := focalSums(aggs, dists, func(i int) []int32 { return network.Distances(g, placed[i]) }, rounds, from)
			got := make([]focalSum, rounds)
			for i, a := range aggs {
				bases[i].add(got, a, placed[i], &sc, rounds, from)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s, placement %d: sums differ\n got %v\nwant %v", name, p, got, want)
			}
		}
	}
}

func must(g *network.Graph, err error) *network.Graph {
	if err != nil {
		panic(err)
	}
	return g
}

// disjoint is a beside b, b's nodes numbered after a's.
func disjoint(a, b *network.Graph) *network.Graph {
	var edges [][2]int
	for u, v := range a.Edges() {
		edges = append(edges, [2]int{int(u), int(v)})
	}
	for u, v := range b.Edges() {
		edges = append(edges, [2]int{a.N() + int(u), a.N() + int(v)})
	}
	return must(network.FromEdges(a.N()+b.N(), edges))
}

// The sign-flip reference set on hand-made sums. Three replicates with S = -2, -1, +0.5 over
// n = 10 pairs: the 8 patterns give sums -3.5, -2.5 (observed), -1.5, -0.5, 0.5, 1.5, 2.5, 3.5,
// so p = 2/8. All differences 0: every pattern ties, p = 1. The observed the most extreme of
// four replicates: p = 1/16, the smallest there is.
func TestSignFlipExactByHand(t *testing.T) {
	for _, c := range []struct {
		S    []float64
		want float64
	}{
		{[]float64{-2, -1, 0.5}, 2.0 / 8},
		{[]float64{0, 0, 0}, 1},
		{[]float64{-1, -2, -3, -0.5}, 1.0 / 16},
		{[]float64{1, 2, 3, 0.5}, 1},
		{[]float64{-1, 1}, 3.0 / 4}, // sums 0 (observed), 2, -2, 0: three at most 0 (ties count)
	} {
		pats := signPatterns(len(c.S), 1)
		if len(pats) != 1<<len(c.S) {
			t.Fatalf("%d replicates: %d patterns, want all %d", len(c.S), len(pats), 1<<len(c.S))
		}
		if got := signFlipP(c.S, 10, pats); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("S = %v: p = %v, want %v", c.S, got, c.want)
		}
	}
}

// Above maxExactFlipReps replicates the reference set is the observed pattern and flipDraws
// drawn from the seed: the same seed, the same patterns; p at least 1/1000.
func TestSignFlipDrawnPatterns(t *testing.T) {
	a, b := signPatterns(13, 5), signPatterns(13, 5)
	if len(a) != 1+flipDraws {
		t.Fatalf("%d patterns, want %d", len(a), 1+flipDraws)
	}
	for r := range 13 {
		if a[0][r] != 1 {
			t.Fatal("the first pattern is not the observed one")
		}
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatal("the same seed drew other patterns")
		}
	}
	S := make([]float64, 13)
	for r := range S {
		S[r] = -1
	}
	if p := signFlipP(S, 13, a); p != 1.0/1000 {
		t.Errorf("every replicate's sum negative: p = %v, want 1/1000 (only the observed pattern as low)", p)
	}
}

// signFlipStats reads each replicate's sums at the real distances: with a victims' effect of
// -3 against N(0, 1) noise, every replicate's victims' sum is negative, so the observed
// pattern is the only one as low (p = 2^-R); unreachable has none; all differences 0 give
// p = 1.
func TestSignFlipStatsOnReplicates(t *testing.T) {
	_, aggs, dists := synthetic(t, 6, 300, []float64{-3}, 3)
	rows, perms := signFlipStats(aggs, dists, noShare, 4, 2, 9)
	if perms != 64 {
		t.Fatalf("%d patterns, want 64", perms)
	}
	for tr := 2; tr <= 4; tr++ {
		if p := pOf(rows, gVictims, tr); p != 1.0/64 {
			t.Errorf("round %d: victims' p = %v, want 1/64", tr, p)
		}
		if p := pOf(rows, gUnreachable, tr); !math.IsNaN(p) {
			t.Errorf("round %d: unreachable has p = %v", tr, p)
		}
	}
	for _, a := range aggs {
		for t := range a.diffs {
			a.diffs[t] = nil
		}
	}
	rows, _ = signFlipStats(aggs, dists, noShare, 4, 2, 9)
	for _, g := range []int{gVictims, gDist1, gDist2} {
		if p := pOf(rows, g, 3); p != 1 {
			t.Errorf("no differences: group %d p = %v, want 1", g, p)
		}
	}
}
