package analysis

import (
	"math"
	"testing"
)

// Hand-computed: draws whose squares are 0.1 ... 0.5. Type-7 quantiles of the squares at
// 0.025, 0.5, 0.975: positions 0.1, 2, 3.9, so 0.11, 0.3, 0.49. est 0.5 (D = 0.25, 2D = 0.5):
// value sqrt(0.2), lo sqrt(0.01) = 0.1, hi sqrt(0.39). est 0.4 (2D = 0.32): value sqrt(0.02),
// lo 0 (0.32 - 0.49 < 0), hi sqrt(0.21).
func TestDistanceCIHandComputed(t *testing.T) {
	var draws []float64
	for _, d := range []float64{0.3, 0.1, 0.5, 0.2, 0.4, math.NaN()} { // unsorted, a NaN ignored
		draws = append(draws, math.Sqrt(d))
	}
	for _, c := range []struct{ est, value, lo, hi float64 }{
		{0.5, math.Sqrt(0.2), 0.1, math.Sqrt(0.39)},
		{0.4, math.Sqrt(0.02), 0, math.Sqrt(0.21)},
	} {
		v, lo, hi := DistanceCI(c.est, draws, 0.95)
		if math.Abs(v-c.value) > 1e-12 || math.Abs(lo-c.lo) > 1e-12 || math.Abs(hi-c.hi) > 1e-12 {
			t.Errorf("est %v: %v [%v, %v], want %v [%v, %v]", c.est, v, lo, hi, c.value, c.lo, c.hi)
		}
	}
	if v, lo, hi := DistanceCI(0.5, []float64{math.NaN()}, 0.95); !math.IsNaN(v) || !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("no draws: %v [%v, %v], want NaNs", v, lo, hi)
	}
}
