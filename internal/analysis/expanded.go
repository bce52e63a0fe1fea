package analysis

import (
	"cmp"
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

// ClusterBootstrapShareCI is the expanded percentile bootstrap interval of a pooled share
// Σk/Σn whose answers come in clusters (cluster i gave k[i] yeses in n[i] > 0 answers: an
// agent's trials or replicates, a group's members): reps resamples of the clusters with
// replacement, each the pooled share of its clusters' answers, read at ExpandedLevel for the
// number of clusters. Answers of one cluster are correlated, which Wilson's interval over
// answers takes for independent, so it is too narrow. Within [0, 1]; it collapses to a point
// at a share of 0 or 1 (see ClusteredShareCI). level 0 means 0.95; reps 0 means 2000. NaNs
// for fewer than two clusters.
func ClusterBootstrapShareCI(k, n []int, level float64, reps int, seed uint64) (lo, hi float64) {
	level, err := checkLevel(level)
	if err != nil || len(k) < 2 || len(n) != len(k) {
		return math.NaN(), math.NaN()
	}
	if reps <= 0 {
		reps = 2000
	}
	num, den := make([]float64, len(k)), make([]float64, len(k))
	for i := range k {
		num[i], den[i] = float64(k[i]), float64(n[i])
	}
	return percentileCI(bootstrapRatios(num, den, reps, seed), ExpandedLevel(level, len(k)))
}

// ClusteredShareCI is the interval of a pooled share Σk/Σn whose answers come in clusters,
// as ClusterBootstrapShareCI takes them, and boot says which it is: Wilson's over the
// clusters (each a yes when its answers are) when every cluster gave one answer (they are then
// independent), and when the share is 0 or 1, where the bootstrap collapses to a point: Wilson
// for 0 (or all) of G clusters, the sample size a perfect correlation within clusters would
// leave, so at least as wide as any correlation warrants. Otherwise ClusterBootstrapShareCI
// (boot true). NaNs without clusters, or with one cluster of several answers.
func ClusteredShareCI(k, n []int, level float64, reps int, seed uint64) (lo, hi float64, boot bool) {
	var sk, sn int
	once := true
	for i := range k {
		sk, sn = sk+k[i], sn+n[i]
		once = once && n[i] == 1
	}
	g := len(k)
	switch {
	case g == 0 || len(n) != g:
		return math.NaN(), math.NaN(), false
	case once:
		lo, hi = ProportionCI(sk, g, level)
		return lo, hi, false
	case sk == 0:
		lo, hi = ProportionCI(0, g, level)
		return lo, hi, false
	case sk == sn:
		lo, hi = ProportionCI(g, g, level)
		return lo, hi, false
	}
	lo, hi = ClusterBootstrapShareCI(k, n, level, reps, seed)
	return lo, hi, g > 1
}

// bootstrapMeans are reps means of resamples of x with replacement.
func bootstrapMeans(x []float64, reps int, seed uint64) []float64 {
	return bootstrapRatios(x, nil, reps, seed)
}

// bootstrapRatios are reps ratios Σnum/Σden of resamples with replacement of the sample's
// units (unit i adds num[i] and den[i]; den nil: 1 each, so the ratio is num's mean). When the
// units take few distinct values (agents' mean ratings: on a 1-7 scale with R replicates at
// most 6R+1 of them; an agent's punishments of its trials), a resample is drawn as the counts
// of those values, a multinomial draw made of sequential binomials: the same distribution, at a
// cost per resample of the distinct values instead of the units (2000 resamples of a
// 100,000-agent cell were 2e8 draws). Otherwise each resample draws len(num) indices.
func bootstrapRatios(num, den []float64, reps int, seed uint64) []float64 {
	us, counts := distinctUnits(num, den)
	if len(us)*countsPathRatio <= len(num) {
		return bootstrapRatiosByCounts(us, counts, len(num), reps, seed)
	}
	return bootstrapRatiosByIndex(num, den, reps, seed)
}

// countsPathRatio: resampling by counts pays when the sample has this many values per
// distinct value (a binomial draw costs tens of index draws).
const countsPathRatio = 32

func bootstrapRatiosByIndex(num, den []float64, reps int, seed uint64) []float64 {
	r := newRand(seed)
	n := len(num)
	draws := make([]float64, reps)
	for b := range draws {
		var s, d float64
		for range n {
			i := r.IntN(n)
			s += num[i]
			if den != nil {
				d += den[i]
			}
		}
		if den == nil {
			d = float64(n)
		}
		draws[b] = s / d
	}
	return draws
}

// unit is a sampled unit's numerator and denominator.
type unit struct{ num, den float64 }

// bootstrapRatiosByCounts draws each resample of n from the units us (counts[k] of them in
// the sample) as multinomial counts: unit k is drawn Binomial(left, counts[k]/rest) times,
// left being the draws not yet made and rest the sample's units not yet visited.
func bootstrapRatiosByCounts(us []unit, counts []int, n, reps int, seed uint64) []float64 {
	bin := distuv.Binomial{Src: rand.NewPCG(seed, 0x9e3779b97f4a7c15)}
	draws := make([]float64, reps)
	for b := range draws {
		left, rest := n, n
		var s, d float64
		for k, u := range us {
			if left == 0 {
				break
			}
			c := left // the last value takes the draws left
			if k < len(us)-1 {
				bin.N, bin.P = float64(left), float64(counts[k])/float64(rest)
				c = int(bin.Rand())
			}
			s += float64(c) * u.num
			d += float64(c) * u.den
			left -= c
			rest -= counts[k]
		}
		draws[b] = s / d
	}
	return draws
}

// distinctUnits are the distinct (num, den) of the units (den nil: 1 each), ascending, and how
// often each occurs.
func distinctUnits(num, den []float64) (us []unit, counts []int) {
	s := make([]unit, len(num))
	for i, v := range num {
		s[i] = unit{v, 1}
		if den != nil {
			s[i].den = den[i]
		}
	}
	slices.SortFunc(s, func(a, b unit) int {
		if c := cmp.Compare(a.num, b.num); c != 0 {
			return c
		}
		return cmp.Compare(a.den, b.den)
	})
	for i, u := range s {
		if i == 0 || u != s[i-1] {
			us, counts = append(us, u), append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	return us, counts
}
