package analysis

import (
	"math"
	"slices"
)

// DistanceCI is the bias-corrected value and basic bootstrap interval of a plug-in distance
// est >= 0 between distributions (Jensen-Shannon, Wasserstein, RMSE of a curve), from its
// bootstrap draws (NaNs ignored), computed on the squared scale: with D = est² and D* = draws²,
// lo, hi = sqrt(max(0, 2D - q*)) for q* the (1+level)/2 and (1-level)/2 type-7 quantiles of D*
// (Davison & Hinkley 1997, eq. 5.6), and value the same at q* = median(D*), so value lies in
// [lo, hi]. A plug-in distance is biased upward (a sample is lumpier than its population, a
// resample more so), by about c/n on the squared scale; the percentile interval then lies above
// the estimate and misses small distances, while 2D - D* subtracts the bias the bootstrap
// measures. level 0 means 0.95.
func DistanceCI(est float64, draws []float64, level float64) (value, lo, hi float64) {
	level, err := checkLevel(level)
	if err != nil || math.IsNaN(est) || est < 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	sq := make([]float64, 0, len(draws))
	for _, v := range draws {
		if !math.IsNaN(v) {
			sq = append(sq, v*v)
		}
	}
	if len(sq) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	slices.Sort(sq)
	at := func(p float64) float64 { return math.Sqrt(max(0, 2*est*est-quantileSorted(sq, p))) }
	a := (1 - level) / 2
	return at(0.5), at(1 - a), at(a)
}
