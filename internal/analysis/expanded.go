package analysis

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

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

// bootstrapMeans are reps means of resamples of x with replacement. When x holds few distinct
// values (agents' mean ratings: on a 1-7 scale with R replicates at most 6R+1 of them), a
// resample is drawn as the counts of those values, a multinomial draw made of sequential
// binomials: the same distribution, at a cost per resample of the distinct values instead of
// len(x) (2000 resamples of a 100,000-agent cell were 2e8 draws). Otherwise each resample
// draws len(x) indices.
func bootstrapMeans(x []float64, reps int, seed uint64) []float64 {
	vals, counts := distinctValues(x)
	if len(vals)*countsPathRatio <= len(x) {
		return bootstrapMeansByCounts(vals, counts, len(x), reps, seed)
	}
	return bootstrapMeansByIndex(x, reps, seed)
}

// countsPathRatio: resampling by counts pays when the sample has this many values per
// distinct value (a binomial draw costs tens of index draws).
const countsPathRatio = 32

func bootstrapMeansByIndex(x []float64, reps int, seed uint64) []float64 {
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

// bootstrapMeansByCounts draws each resample of n from the values vals (counts[k] of them in
// the sample) as multinomial counts: value k is drawn Binomial(left, counts[k]/rest) times,
// left being the draws not yet made and rest the sample's values not yet visited.
func bootstrapMeansByCounts(vals []float64, counts []int, n, reps int, seed uint64) []float64 {
	bin := distuv.Binomial{Src: rand.NewPCG(seed, 0x9e3779b97f4a7c15)}
	draws := make([]float64, reps)
	for b := range draws {
		left, rest := n, n
		var s float64
		for k, v := range vals {
			if left == 0 {
				break
			}
			c := left // the last value takes the draws left
			if k < len(vals)-1 {
				bin.N, bin.P = float64(left), float64(counts[k])/float64(rest)
				c = int(bin.Rand())
			}
			s += float64(c) * v
			left -= c
			rest -= counts[k]
		}
		draws[b] = s / float64(n)
	}
	return draws
}

// distinctValues are x's distinct values, ascending, and how often each occurs.
func distinctValues(x []float64) (vals []float64, counts []int) {
	s := slices.Clone(x)
	slices.Sort(s)
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			vals, counts = append(vals, v), append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	return vals, counts
}
