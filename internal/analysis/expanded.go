package analysis

import "math"

// ExpandedBootstrapMeanCI is the expanded percentile bootstrap interval of the mean
// (Hesterberg 2015, "What teachers should know about the bootstrap", The American
// Statistician 69(4), section 6.2): the percentile interval of reps resampled means taken at
// the wider level 1-α' with z_{α'/2} = sqrt(n/(n-1))·t_{α/2,n-1}. Like every percentile
// interval it lies within the sample's own values, so within any range they keep to (a rating
// scale, a share's 0-1), which a t interval does not; the expansion undoes the plain
// percentile interval's narrowness in small samples (it is sqrt((n-1)/n) too narrow and uses
// z for t). level 0 means 0.95; reps 0 means 2000. NaNs for fewer than two observations.
func ExpandedBootstrapMeanCI(x []float64, level float64, reps int, seed uint64) (lo, hi float64) {
	level, err := checkLevel(level)
	if err != nil || len(x) < 2 {
		return math.NaN(), math.NaN()
	}
	if reps <= 0 {
		reps = 2000
	}
	return percentileCI(bootstrapMeans(x, reps, seed), ExpandedLevel(level, len(x)))
}

// ExpandedLevel is the level 1-α' at which the expanded percentile interval of a mean of n
// observations reads the bootstrap distribution for a nominal level.
func ExpandedLevel(level float64, n int) float64 {
	nf := float64(n)
	return 1 - zTwoSided(math.Sqrt(nf/(nf-1))*tCrit(level, nf-1))
}

// bootstrapMeans are reps means of resamples of x with replacement.
func bootstrapMeans(x []float64, reps int, seed uint64) []float64 {
	r := newRand(seed)
	n := len(x)
	draws := make([]float64, reps)
	for b := range draws {
		var s float64
		for range n {
			s += x[r.IntN(n)]
		}
		draws[b] = s / float64(n)
	}
	return draws
}
