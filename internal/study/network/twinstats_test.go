package network

import (
	"math"
	"math/rand/v2"
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
