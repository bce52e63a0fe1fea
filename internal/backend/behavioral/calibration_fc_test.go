package behavioral

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prosim/prosim/internal/network"
)

// Fowler & Christakis's estimand on the twin design. F&C 2010 (PNAS 107:5334) re-analysed
// Fehr & Gachter's public goods games with strangers re-matched every period and regressed a
// subject's contribution in period t on the MEAN contribution of the people at degree d in the
// past, controlling for the subject's own contribution the period before: degree 1 the
// subject's group-mates in t-1, degree 2 the people those group-mates played with in t-2,
// degree 3 the people those played with in t-3. Coefficients .19, .07, .06 per unit of that
// mean.
//
// Here the outcome is the twin difference y(i,t) = willingness of agent i on day t in the
// inequity run minus its control twin's, and the degree-d alters are the exposure chain the
// model actually passed a rating along (the F&C notion, "who was talked with"): on day t an
// agent sees the day t-1 ratings of the neighbours joined by an edge active on day t (its
// group-mates of t-1), D1(i,t); D2(i,t) is everyone those saw on day t-1 (their ratings of day
// t-2), D3 everyone those saw on day t-2; i itself and nearer degrees are left out, as the
// strangers design of F&C kept them apart. Each degree is its own least-squares regression
//
//	y(i,t) = a + beta_d mean_{j in Dd(i,t)} y(j,t-d) + c y(i,t-1)
//
// over replicates, days and agents with a non-empty Dd, victims left out as focal agents (their
// change is the treatment, not influence; they stay in the alters' means, as the sources).
// With graphDist the degree-d alters are instead every agent at graph distance d from i.

// fcStats are the normal equations of one replicate's regressions by degree and day: z'z and
// z'y for z = (1, x, lag). Kept by day so that a regression with day fixed effects (within-day
// deviations) comes from the same sums.
type fcStats struct {
	zz [3][][3][3]float64
	zy [3][][3]float64
}

func newFCStats(days int) fcStats {
	var s fcStats
	for h := range 3 {
		s.zz[h] = make([][3][3]float64, days+1)
		s.zy[h] = make([][3]float64, days+1)
	}
	return s
}

func (s *fcStats) add(h, t int, x, lag, y float64) {
	z := [3]float64{1, x, lag}
	for a := range 3 {
		for b := range 3 {
			s.zz[h][t][a][b] += z[a] * z[b]
		}
		s.zy[h][t][a] += z[a] * y
	}
}

func (s *fcStats) merge(o *fcStats) {
	for h := range 3 {
		for t := range s.zz[h] {
			for a := range 3 {
				for b := range 3 {
					s.zz[h][t][a][b] += o.zz[h][t][a][b]
				}
				s.zy[h][t][a] += o.zy[h][t][a]
			}
		}
	}
}

// n is degree h's number of rows.
func (s *fcStats) n(h int) int {
	var n float64
	for t := range s.zz[h] {
		n += s.zz[h][t][0][0]
	}
	return int(n)
}

// beta is degree h's coefficient of the alters' mean: pooled over days with an intercept, or
// with day fixed effects (the regression of within-day deviations); NaN when singular.
func (s *fcStats) beta(h int, dayFE bool) float64 {
	var a [3][3]float64
	var c [3]float64
	for t := range s.zz[h] {
		zz, zy := &s.zz[h][t], &s.zy[h][t]
		if !dayFE {
			for i := range 3 {
				for j := range 3 {
					a[i][j] += zz[i][j]
				}
				c[i] += zy[i]
			}
			continue
		}
		n := zz[0][0]
		if n == 0 {
			continue
		}
		for i := 1; i < 3; i++ {
			for j := 1; j < 3; j++ {
				a[i][j] += zz[i][j] - zz[i][0]*zz[0][j]/n
			}
			c[i] += zy[i] - zz[i][0]*zy[0]/n
		}
	}
	if dayFE {
		a[0][0], c[0] = 1, 0 // the intercept is absorbed by the days
	}
	return solve3(a, c)[1]
}

// solve3 solves a x = c by Gaussian elimination with partial pivoting (NaN when singular).
func solve3(a [3][3]float64, c [3]float64) [3]float64 {
	scale := 0.0
	for i := range 3 {
		scale = math.Max(scale, math.Abs(a[i][i]))
	}
	for k := range 3 {
		p := k
		for r := k + 1; r < 3; r++ {
			if math.Abs(a[r][k]) > math.Abs(a[p][k]) {
				p = r
			}
		}
		if math.Abs(a[p][k]) <= 1e-12*scale {
			return [3]float64{math.NaN(), math.NaN(), math.NaN()}
		}
		a[k], a[p] = a[p], a[k]
		c[k], c[p] = c[p], c[k]
		for r := range 3 {
			if r != k {
				f := a[r][k] / a[k][k]
				for j := k; j < 3; j++ {
					a[r][j] -= f * a[k][j]
				}
				c[r] -= f * c[k]
			}
		}
	}
	return [3]float64{c[0] / a[0][0], c[1] / a[1][1], c[2] / a[2][2]}
}

// fcChain finds the degree-d alters along the exposure chain. seen[t][j] (t >= 2) are the
// agents whose day t-1 rating j saw on day t (its neighbours across edges active on day t).
type fcChain struct {
	seen  [][][]int32
	mark  []int // mark[j] == stamp: j is already in the current agent's sets (or is the agent)
	stamp int
	sets  [3][]int32
}

// alters returns i's degree 1, 2, 3 alters for its rating of day t: D1 = seen[t][i], D2 the
// agents seen on day t-1 by D1, D3 those seen on day t-2 by D2, each without i and the nearer
// degrees (distinct agents; empty where the day would be before day 1's ratings). The slices
// are reused by the next call.
func (c *fcChain) alters(i, t int) [3][]int32 {
	c.stamp++
	c.mark[i] = c.stamp
	frontier := []int32{int32(i)}
	for h := range 3 {
		c.sets[h] = c.sets[h][:0]
		if t-h < 2 {
			continue
		}
		for _, u := range frontier {
			for _, v := range c.seen[t-h][u] {
				if c.mark[v] != c.stamp {
					c.mark[v] = c.stamp
					c.sets[h] = append(c.sets[h], v)
				}
			}
		}
		frontier = c.sets[h]
	}
	return c.sets
}

// fcResult are beta_1..beta_3 (index 0..2) with percentile bootstrap CIs over replicates.
type fcResult struct {
	Beta, Lo, Hi [3]float64
	N            [3]int // rows (agent-days)
}

// fcBetas plays reps replicates and returns F&C's coefficients with 95% CIs from boot
// resamples of whole replicates (cluster bootstrap; the replicate is the unit drawn anew):
// the regression as specified (pooled over days, with an intercept) and, beside it, with day
// fixed effects.
func (d s3Design) fcBetas(tb testing.TB, m *Model, reps, boot int, graphDist bool) (pooled, dayFE fcResult) {
	tb.Helper()
	n := d.g.N()
	var ring [][3][]int32 // ring[i][d-1]: agents at graph distance d from i
	if graphDist {
		ring = make([][3][]int32, n)
		for i := range n {
			for j, h := range network.Distances(d.g, []int{i}) {
				if h >= 1 && h <= 3 {
					ring[i][h-1] = append(ring[i][h-1], int32(j))
				}
			}
		}
	}
	var per []fcStats
	ch := fcChain{mark: make([]int, n)}
	d.play(tb, m, reps, func(r *s3Rep) {
		st := newFCStats(d.rounds)
		y := make([][]float64, d.rounds+1) // y[t][j], days 1..rounds
		for t := 1; t <= d.rounds; t++ {
			y[t] = make([]float64, n)
			for j := range n {
				y[t][j] = r.w[0][t-1][j] - r.w[1][t-1][j]
			}
		}
		ch.seen = make([][][]int32, d.rounds+1)
		for t := 2; t <= d.rounds; t++ {
			act := d.activation(r.rep, t)
			ch.seen[t] = make([][]int32, n)
			for j := range n {
				for k, v := range d.g.Neighbours(j) {
					if act.IsActive(int(d.g.EdgeIDs(j)[k])) {
						ch.seen[t][j] = append(ch.seen[t][j], v)
					}
				}
			}
		}
		for i := range n {
			if r.victim[i] {
				continue
			}
			for t := 2; t <= d.rounds; t++ {
				sets := ch.alters(i, t)
				if graphDist {
					sets = ring[i]
				}
				for h := range 3 {
					if t-h-1 < 1 || len(sets[h]) == 0 {
						continue
					}
					var s float64
					for _, j := range sets[h] {
						s += y[t-h-1][j]
					}
					st.add(h, t, s/float64(len(sets[h])), y[t-1][i], y[t][i])
				}
			}
		}
		per = append(per, st)
	})
	all := newFCStats(d.rounds)
	for k := range per {
		all.merge(&per[k])
	}
	rng := rand.New(rand.NewPCG(d.seed, 1010))
	draws := make([][2][3]float64, boot)
	for b := range boot {
		s := newFCStats(d.rounds)
		for range per {
			s.merge(&per[rng.IntN(len(per))])
		}
		for h := range 3 {
			draws[b][0][h], draws[b][1][h] = s.beta(h, false), s.beta(h, true)
		}
	}
	for k, res := range []*fcResult{&pooled, &dayFE} {
		for h := range 3 {
			res.Beta[h], res.N[h] = all.beta(h, k == 1), all.n(h)
			col := make([]float64, boot)
			for b := range boot {
				col[b] = draws[b][k][h]
			}
			slices.Sort(col) // NaN (a singular resample) sorts first
			res.Lo[h], res.Hi[h] = quantileSorted(col, .025), quantileSorted(col, .975)
		}
	}
	return pooled, dayFE
}

// quantileSorted is the q quantile of sorted xs (linear interpolation, type 7).
func quantileSorted(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	p := q * float64(len(xs)-1)
	lo := int(p)
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[lo] + (p-float64(lo))*(xs[lo+1]-xs[lo])
}

// TestFCChainAlters checks the exposure chain on a path 0-1-2-3-4: the alters of each degree
// are the agents a rating passed through, without the agent itself and nearer degrees, and a
// link not active on its day breaks the chain.
func TestFCChainAlters(t *testing.T) {
	nb := [][]int32{{1}, {0, 2}, {1, 3}, {2, 4}, {3}}
	c := fcChain{mark: make([]int, 5), seen: [][][]int32{nil, nil, nb, nb, nb}}
	for _, tc := range []struct {
		i, t int
		want [3][]int32
	}{
		{2, 4, [3][]int32{{1, 3}, {0, 4}, {}}},
		{0, 4, [3][]int32{{1}, {2}, {3}}},
		{0, 3, [3][]int32{{1}, {2}, {}}}, // degree 3 would be day 0's ratings
		{0, 2, [3][]int32{{1}, {}, {}}},
		{4, 4, [3][]int32{{3}, {2}, {1}}},
	} {
		got := c.alters(tc.i, tc.t)
		for h := range 3 {
			if !slices.Equal(got[h], tc.want[h]) {
				t.Errorf("agent %d, day %d, degree %d: alters %v, want %v", tc.i, tc.t, h+1, got[h], tc.want[h])
			}
		}
	}
	// On day 3 agent 1 talked with nobody: agent 0's chain stops at degree 1 on day 4.
	c.seen[3] = [][]int32{{1}, {}, {1, 3}, {2, 4}, {3}}
	got := c.alters(0, 4)
	if !slices.Equal(got[0], []int32{1}) || len(got[1]) != 0 || len(got[2]) != 0 {
		t.Errorf("broken chain: alters %v, want [[1] [] []]", got)
	}
}

// TestFCStatsRecovers checks the regression on rows drawn from y = a_t + .3 x + .5 lag + e:
// with a common a_t both fits recover .3; with a_t rising with the days and x correlated with
// the day, only the fit with day fixed effects does.
func TestFCStatsRecovers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, trend := range []float64{0, 1} {
		s := newFCStats(7)
		for range 20000 {
			day := 2 + r.IntN(6)
			x := r.NormFloat64() + trend*float64(day)
			lag := r.NormFloat64()
			y := .2 + trend*float64(day)*float64(day) + .3*x + .5*lag + .5*r.NormFloat64()
			s.add(0, day, x, lag, y)
		}
		fe := s.beta(0, true)
		if math.Abs(fe-.3) > .02 {
			t.Errorf("trend %v: day fixed effects beta %.3f, want .3", trend, fe)
		}
		pooled := s.beta(0, false)
		if trend == 0 && math.Abs(pooled-.3) > .02 {
			t.Errorf("no trend: pooled beta %.3f, want .3", pooled)
		}
		if trend == 1 && math.Abs(pooled-.3) < .5 {
			t.Errorf("trend: pooled beta %.3f should be confounded by the days", pooled)
		}
		if s.n(0) != 20000 {
			t.Errorf("rows %d, want 20000", s.n(0))
		}
	}
	empty := newFCStats(7)
	if b := empty.beta(0, false); !math.IsNaN(b) {
		t.Errorf("no rows: beta %v, want NaN", b)
	}
}
