package analysis

import (
	"math"
	"slices"
)

// TTest is a one-sample t-test of mean zero, as R's t.test(x): applied to paired differences
// it is the paired t-test (t.test(a, b, paired = TRUE)).
type TTest struct {
	N          int
	Mean, SD   float64 // SD uses the n-1 denominator
	Lo, Hi     float64 // t confidence interval of the mean
	T, DF, P   float64 // statistic, degrees of freedom, two-sided p-value
	EffectSize float64 // Mean/SD: Cohen's d_z for paired differences
}

// OneSampleT tests mean(x) = 0 at the given confidence level (0 means 0.95). With fewer than
// two observations every statistic but N and Mean is NaN; when every x is the same (SD 0)
// the test is undefined, as in R ("data are essentially constant"): T, P and EffectSize are
// NaN and the interval is the point.
func OneSampleT(x []float64, level float64) TTest {
	nan := math.NaN()
	r := TTest{N: len(x), Mean: nan, SD: nan, Lo: nan, Hi: nan, T: nan, DF: nan, P: nan, EffectSize: nan}
	if len(x) == 0 {
		return r
	}
	r.Mean = mean(x)
	if len(x) < 2 {
		return r
	}
	r.SD = sd(x, r.Mean)
	r.DF = float64(len(x) - 1)
	r.Lo, r.Hi = MeanCI(x, level)
	if r.SD == 0 {
		r.Lo, r.Hi = r.Mean, r.Mean
		return r
	}
	r.T = r.Mean / (r.SD / math.Sqrt(float64(len(x))))
	r.P = tTwoSided(r.T, r.DF)
	r.EffectSize = r.Mean / r.SD
	return r
}

// Holm returns Holm's step-down adjusted p-values (R's p.adjust(p, "holm")), in the order
// given. NaN p-values are left out of the family and stay NaN.
func Holm(p []float64) []float64 {
	out := make([]float64, len(p))
	var idx []int
	for i, v := range p {
		out[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	// Stable sort: ties keep their order, as R's order().
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	m := len(idx)
	run := 0.0
	for k, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-k)*p[i]))
		out[i] = run
	}
	return out
}
