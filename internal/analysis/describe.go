package analysis

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

func errorf(format string, a ...any) error { return fmt.Errorf("analysis: "+format, a...) }

// ErrTooFew is returned when there are not enough observations for the requested statistic.
var ErrTooFew = errors.New("analysis: too few observations")

// Summary holds descriptive statistics of a sample.
type Summary struct {
	N                int
	Mean, SD, SE     float64 // SD uses the n-1 denominator; SE = SD/sqrt(N)
	Min, Max, Median float64
}

// Describe summarises x. For N=0 all statistics are NaN; for N=1 SD and SE are NaN.
func Describe(x []float64) Summary {
	s := Summary{N: len(x)}
	nan := math.NaN()
	if len(x) == 0 {
		s.Mean, s.SD, s.SE, s.Min, s.Max, s.Median = nan, nan, nan, nan, nan, nan
		return s
	}
	s.Mean = mean(x)
	s.SD = sd(x, s.Mean)
	s.SE = s.SD / math.Sqrt(float64(len(x)))
	sorted := slices.Clone(x)
	slices.Sort(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	s.Median = quantileSorted(sorted, 0.5)
	return s
}

// mean is a two-pass mean: the correction term recovers digits lost when the
// values share a large common offset (as in NIST SiRstv).
func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	m := s / float64(len(x))
	var c float64
	for _, v := range x {
		c += v - m
	}
	return m + c/float64(len(x))
}

func sd(x []float64, m float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	var ss, c float64
	for _, v := range x {
		d := v - m
		ss += d * d
		c += d
	}
	n := float64(len(x))
	return math.Sqrt((ss - c*c/n) / (n - 1))
}

// quantileSorted is R's default (type 7) quantile: linear interpolation
// between order statistics at position (n-1)p.
func quantileSorted(s []float64, p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	h := float64(len(s)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	if lo < 0 {
		return s[0]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// percentileCI returns the (1-level)/2 and (1+level)/2 type-7 quantiles of
// the draws, ignoring NaNs (failed replicates).
func percentileCI(draws []float64, level float64) (lo, hi float64) {
	s := make([]float64, 0, len(draws))
	for _, v := range draws {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	slices.Sort(s)
	a := (1 - level) / 2
	return quantileSorted(s, a), quantileSorted(s, 1-a)
}

// MeanCI returns the t-based interval mean ± t_{(1+level)/2, n-1}·SD/√n.
// level 0 means 0.95. It returns NaNs for fewer than two observations.
func MeanCI(x []float64, level float64) (lo, hi float64) {
	level, err := checkLevel(level)
	if err != nil || len(x) < 2 {
		return math.NaN(), math.NaN()
	}
	s := Describe(x)
	h := tCrit(level, float64(s.N-1)) * s.SE
	return s.Mean - h, s.Mean + h
}

// newRand returns the package's deterministic generator for a seed.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// BootstrapMeanCI returns the percentile bootstrap interval of the mean
// (type-7 quantiles of reps resampled means). level 0 means 0.95; reps 0 means 2000.
func BootstrapMeanCI(x []float64, level float64, reps int, seed uint64) (lo, hi float64) {
	level, err := checkLevel(level)
	if err != nil || len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	if reps <= 0 {
		reps = 2000
	}
	return percentileCI(bootstrapMeans(x, reps, seed), level)
}

// BootstrapMeanCIClustered is BootstrapMeanCI resampling whole clusters with
// replacement (cluster[i] labels observation i); each replicate is the mean
// over all observations of the drawn clusters, so unequal cluster sizes
// weight as in the pooled mean.
func BootstrapMeanCIClustered(x []float64, cluster []int, level float64, reps int, seed uint64) (lo, hi float64, err error) {
	level, err = checkLevel(level)
	if err != nil {
		return math.NaN(), math.NaN(), err
	}
	if len(cluster) != len(x) {
		return math.NaN(), math.NaN(), errorf("len(cluster)=%d, len(x)=%d", len(cluster), len(x))
	}
	if len(x) == 0 {
		return math.NaN(), math.NaN(), ErrTooFew
	}
	if reps <= 0 {
		reps = 2000
	}
	groups := clusterIndex(cluster)
	sums := make([]float64, len(groups))
	for g, idx := range groups {
		for _, i := range idx {
			sums[g] += x[i]
		}
	}
	r := newRand(seed)
	G := len(groups)
	draws := make([]float64, reps)
	for b := range draws {
		var s float64
		var n int
		for range G {
			g := r.IntN(G)
			s += sums[g]
			n += len(groups[g])
		}
		draws[b] = s / float64(n)
	}
	lo, hi = percentileCI(draws, level)
	return lo, hi, nil
}

// clusterIndex groups observation indices by cluster label, in order of first appearance.
func clusterIndex(cluster []int) [][]int {
	pos := map[int]int{}
	var groups [][]int
	for i, c := range cluster {
		g, ok := pos[c]
		if !ok {
			g = len(groups)
			pos[c] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// ProportionCI returns the Wilson score interval for a binomial proportion
// successes/n (without continuity correction, as R's prop.test(correct=FALSE)).
func ProportionCI(successes, n int, level float64) (lo, hi float64) {
	level, err := checkLevel(level)
	if err != nil || n <= 0 || successes < 0 || successes > n {
		return math.NaN(), math.NaN()
	}
	z := zCrit(level)
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi = max(0, center-half), min(1, center+half)
	// At 0 and n the bounds are exactly 0 and 1 (center-half rounds to 1e-17, above the share).
	if successes == 0 {
		lo = 0
	}
	if successes == n {
		hi = 1
	}
	return lo, hi
}

// RMSE returns sqrt(mean((a-b)²)); NaN if lengths differ or are zero.
func RMSE(a, b []float64) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(a)))
}

// MeanOrZero is the plain mean sum/n, and 0 for no values: for tallies whose n is reported
// beside the mean (a cell with no valid answer shows n = 0), where the summary, the tables and
// the report must print the very same digits.
func MeanOrZero(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// PercentileCI is the percentile bootstrap interval of draws at level (0.95 for 95%): their
// (1-level)/2 and (1+level)/2 type-7 quantiles, NaNs (failed resamples) ignored.
func PercentileCI(draws []float64, level float64) (lo, hi float64) { return percentileCI(draws, level) }
