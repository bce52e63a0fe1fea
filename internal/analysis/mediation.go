package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// MediationOptions configures Mediation.
type MediationOptions struct {
	Reps       int        // bootstrap resamples and Monte Carlo draws; 0 means 5000
	Seed       uint64     // seeds both the bootstrap and the Monte Carlo stream
	Level      float64    // CI level; 0 means 0.95
	Covariates *mat.Dense // optional n×q covariates, entered in all three regressions
}

// MediationResult holds a single-mediator analysis X -> M -> Y.
type MediationResult struct {
	A        float64 // M ~ X (+cov): coefficient of X
	B        float64 // Y ~ X + M (+cov): coefficient of M
	C        float64 // Y ~ X (+cov): total effect of X
	CPrime   float64 // Y ~ X + M (+cov): direct effect of X
	Indirect float64 // A·B; equals C - CPrime exactly (up to rounding) for OLS on one sample
	// SEA, SEB: cluster-robust (CR1) when clusters are given, classical otherwise.
	SEA, SEB          float64
	PathA, PathB      *Fit // the fitted regressions (same SE type)
	PathC             *Fit
	BootLow, BootHigh float64 // percentile bootstrap CI of A·B
	BootReps          int     // resamples that produced an estimate (degenerate ones are skipped)
	MCLow, MCHigh     float64 // Monte Carlo CI of A·B
	SobelZ, SobelP    float64 // first-order Sobel test: A·B / sqrt(B²SEA² + A²SEB²)
	N, NClusters      int
}

// Mediation estimates the indirect effect of x on y through m by three OLS
// regressions (a: m on x; b and c': y on x and m; c: y on x; all with an
// intercept and opt.Covariates). Intervals for a·b:
//   - percentile bootstrap (type-7 quantiles of Reps resampled a·b),
//     resampling whole clusters with replacement when clusters is non-nil,
//     observations otherwise;
//   - Monte Carlo (Selig & Preacher): a ~ N(â, SEA²) and b ~ N(b̂, SEB²)
//     drawn independently, with CR1 cluster-robust SEs when clusters is non-nil;
//   - Sobel z with the same SEs, for reference only (it assumes a·b is normal).
func Mediation(x, m, y []float64, clusters []int, opt MediationOptions) (*MediationResult, error) {
	level, err := checkLevel(opt.Level)
	if err != nil {
		return nil, err
	}
	n := len(x)
	if len(m) != n || len(y) != n {
		return nil, errorf("lengths differ: x %d, m %d, y %d", n, len(m), len(y))
	}
	if n == 0 {
		return nil, errorf("no observations")
	}
	if clusters != nil && len(clusters) != n {
		return nil, errorf("len(clusters)=%d, want %d", len(clusters), n)
	}
	q := 0
	if opt.Covariates != nil {
		r, c := opt.Covariates.Dims()
		if r != n {
			return nil, errorf("covariates have %d rows, want %d", r, n)
		}
		q = c
	}
	reps := opt.Reps
	if reps <= 0 {
		reps = 5000
	}
	// Designs with intercept: dA = [1 x cov], dB = [1 x m cov], dC = dA.
	build := func(withM bool) (*mat.Dense, []string) {
		k := 1 + q
		names := []string{"x"}
		if withM {
			k++
			names = append(names, "m")
		}
		for j := range q {
			names = append(names, fmt.Sprintf("cov%d", j+1))
		}
		d := mat.NewDense(n, k, nil)
		for i := range n {
			d.Set(i, 0, x[i])
			c := 1
			if withM {
				d.Set(i, 1, m[i])
				c = 2
			}
			for j := range q {
				d.Set(i, c+j, opt.Covariates.At(i, j))
			}
		}
		return d, names
	}
	xa, na := build(false)
	xb, nb := build(true)
	o := OLSOptions{Intercept: true, Level: level}
	if clusters != nil {
		o.SE, o.Clusters = Cluster, clusters
	}
	res := &MediationResult{N: n}
	if res.PathA, err = OLS(m, xa, na, o); err != nil {
		return nil, fmt.Errorf("path a (m ~ x): %w", err)
	}
	if res.PathB, err = OLS(y, xb, nb, o); err != nil {
		return nil, fmt.Errorf("path b (y ~ x + m): %w", err)
	}
	if res.PathC, err = OLS(y, xa, na, o); err != nil {
		return nil, fmt.Errorf("path c (y ~ x): %w", err)
	}
	res.NClusters = res.PathA.NClusters
	res.A, res.SEA = res.PathA.Coef[1], res.PathA.SE[1]
	res.B, res.SEB = res.PathB.Coef[2], res.PathB.SE[2]
	res.CPrime = res.PathB.Coef[1]
	res.C = res.PathC.Coef[1]
	res.Indirect = res.A * res.B
	se := math.Sqrt(res.B*res.B*res.SEA*res.SEA + res.A*res.A*res.SEB*res.SEB)
	res.SobelZ = res.Indirect / se
	res.SobelP = zTwoSided(res.SobelZ)

	res.MCLow, res.MCHigh = ProductCI(res.A, res.SEA, res.B, res.SEB, reps, opt.Seed, level)

	// Bootstrap: units are clusters (or observations). A resample's cross
	// products are sums of per-unit cross products of Z = [1 x m cov y], so
	// each replicate costs O(units·k²) rather than O(n·k²). Columns are
	// centred at the full-sample means first (slopes are shift invariant) to
	// keep the normal equations well conditioned.
	var units [][]int
	if clusters != nil {
		units = clusterIndex(clusters)
	} else {
		units = make([][]int, n)
		for i := range n {
			units[i] = []int{i}
		}
	}
	nz := 4 + q
	cols := make([][]float64, nz)
	cols[1], cols[2], cols[nz-1] = x, m, y
	for j := range q {
		cols[3+j] = mat.Col(nil, j, opt.Covariates)
	}
	means := make([]float64, nz)
	for j := 1; j < nz; j++ {
		means[j] = mean(cols[j])
	}
	zrow := func(i, j int) float64 {
		if j == 0 {
			return 1
		}
		return cols[j][i] - means[j]
	}
	cross := make([][]float64, len(units))
	for u, idx := range units {
		c := make([]float64, nz*nz)
		for _, i := range idx {
			for j := range nz {
				zj := zrow(i, j)
				for l := j; l < nz; l++ {
					c[j*nz+l] += zj * zrow(i, l)
				}
			}
		}
		cross[u] = c
	}
	predA := append([]int{0, 1}, seq(3, 3+q)...)    // m ~ 1 + x + cov
	predB := append([]int{0, 1, 2}, seq(3, 3+q)...) // y ~ 1 + x + m + cov
	rng := newRand(opt.Seed)
	sum := make([]float64, nz*nz)
	work := make([]float64, (nz+1)*nz)
	draws := make([]float64, reps)
	for r := range draws {
		clear(sum)
		for range units {
			for j, v := range cross[rng.IntN(len(units))] {
				sum[j] += v
			}
		}
		draws[r] = math.NaN()
		a, okA := solveNormal(sum, nz, predA, 2, 1, work)
		b, okB := solveNormal(sum, nz, predB, nz-1, 2, work)
		if okA && okB {
			draws[r] = a * b
			res.BootReps++
		}
	}
	if res.BootReps < reps/2 {
		return nil, errorf("only %d of %d bootstrap resamples were estimable", res.BootReps, reps)
	}
	res.BootLow, res.BootHigh = percentileCI(draws, level)
	return res, nil
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// solveNormal solves the normal equations S[pred,pred] β = S[pred,target]
// from the upper triangle of the nz×nz cross-product matrix S by Cholesky
// and returns β[coef]. It reports false when a pivot collapses (relative to
// its diagonal), i.e. the resample's design is singular.
func solveNormal(s []float64, nz int, pred []int, target, coef int, work []float64) (float64, bool) {
	at := func(i, j int) float64 {
		if i > j {
			i, j = j, i
		}
		return s[i*nz+j]
	}
	k := len(pred)
	l := work[:k*k]
	rhs := work[k*k : k*k+k]
	for i := range k {
		for j := 0; j <= i; j++ {
			v := at(pred[i], pred[j])
			for p := range j {
				v -= l[i*k+p] * l[j*k+p]
			}
			if i == j {
				d := at(pred[i], pred[i])
				if !(v > 1e-10*d) {
					return 0, false
				}
				l[i*k+i] = math.Sqrt(v)
			} else {
				l[i*k+j] = v / l[j*k+j]
			}
		}
	}
	for i := range k { // forward: L z = S[pred,target]
		v := at(pred[i], target)
		for p := range i {
			v -= l[i*k+p] * rhs[p]
		}
		rhs[i] = v / l[i*k+i]
	}
	for i := k - 1; i >= 0; i-- { // back: L' β = z
		v := rhs[i]
		for p := i + 1; p < k; p++ {
			v -= l[p*k+i] * rhs[p]
		}
		rhs[i] = v / l[i*k+i]
	}
	idx := -1
	for i, p := range pred {
		if p == coef {
			idx = i
		}
	}
	return rhs[idx], true
}

// ProductCI is the Monte Carlo confidence interval of a·b for independent estimates a (standard
// error sa) and b (sb): the percentile interval of reps products of normal draws (MacKinnon,
// Lockwood & Williams 2004; Tofighi & MacKinnon 2011), from its own seeded stream.
func ProductCI(a, sa, b, sb float64, reps int, seed uint64, level float64) (lo, hi float64) {
	mc := rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc909))
	draws := make([]float64, reps)
	for r := range draws {
		draws[r] = (a + sa*mc.NormFloat64()) * (b + sb*mc.NormFloat64())
	}
	return percentileCI(draws, level)
}
