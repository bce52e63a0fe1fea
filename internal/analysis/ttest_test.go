package analysis

import (
	"math"
	"testing"
)

// Student's t with 3 degrees of freedom has a closed-form CDF,
//
//	F(t) = 1/2 + (1/π) (u/(1+u²) + atan u),  u = t/√3,
//
// so the reference p-values below are hand computations, not another implementation.
func TestOneSampleTByHand(t *testing.T) {
	// d = 1, 2, 2, 3: mean 2, SD √(2/3) = 0.816497, SE 0.408248, t = 2√6 = 4.898979,
	// u = 2√2: p = 1 - (2/π)(2√2/9 + atan 2√2) = 0.0162766. t_{.975,3} = 3.182446, so the
	// CI is 2 ± 1.299236 = [0.700764, 3.299236]; d_z = 2/0.816497 = 2.449490 (√6).
	r := OneSampleT([]float64{1, 2, 2, 3}, 0.95)
	u := 2 * math.Sqrt2
	wantP := 1 - 2/math.Pi*(u/(1+u*u)+math.Atan(u))
	checkRel(t, "p", r.P, wantP, 1e-12)
	checkRel(t, "p (decimal)", r.P, 0.0162766, 1e-5)
	checkRel(t, "mean", r.Mean, 2, 1e-15)
	checkRel(t, "t", r.T, 2*math.Sqrt(6), 1e-14)
	checkRel(t, "lo", r.Lo, 2-3.182446305284263*math.Sqrt(2.0/3)/2, 1e-12)
	checkRel(t, "hi", r.Hi, 2+3.182446305284263*math.Sqrt(2.0/3)/2, 1e-12)
	checkRel(t, "d_z", r.EffectSize, math.Sqrt(6), 1e-14)
	if r.N != 4 || r.DF != 3 {
		t.Errorf("n %d df %g", r.N, r.DF)
	}
	// d = 0, 1, -1, 2: mean 0.5, SD √(5/3), t = 0.5/(√(5/3)/2) = √(3/5) = 0.774597, u = 1/√5:
	// p = 1 - (2/π)(u/1.2 + atan u) = 0.4950; d_z = 0.5/√(5/3) = 0.387298.
	r = OneSampleT([]float64{0, 1, -1, 2}, 0)
	u = 1 / math.Sqrt(5)
	checkRel(t, "p2", r.P, 1-2/math.Pi*(u/(1+u*u)+math.Atan(u)), 1e-12)
	checkRel(t, "d_z 2", r.EffectSize, 0.5/math.Sqrt(5.0/3), 1e-14)
}

func TestOneSampleTDegenerate(t *testing.T) {
	r := OneSampleT([]float64{2, 2, 2}, 0)
	if r.Mean != 2 || r.Lo != 2 || r.Hi != 2 || !math.IsNaN(r.P) || !math.IsNaN(r.EffectSize) {
		t.Errorf("constant differences: %+v", r)
	}
	r = OneSampleT([]float64{5}, 0)
	if r.Mean != 5 || !math.IsNaN(r.Lo) || !math.IsNaN(r.P) {
		t.Errorf("one difference: %+v", r)
	}
	if r := OneSampleT(nil, 0); !math.IsNaN(r.Mean) {
		t.Errorf("no difference: %+v", r)
	}
}

// R: p.adjust(c(0.01, 0.04, 0.03, 0.005, NA), "holm") = 0.030 0.060 0.060 0.020 NA
// (m = 4: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06).
func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005, math.NaN()})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i, w := range want {
		checkRel(t, "holm", got[i], w, 1e-12)
	}
	if !math.IsNaN(got[4]) {
		t.Errorf("NaN stays NaN: %v", got[4])
	}
	if got := Holm([]float64{0.6, 0.5}); got[0] != 1 || got[1] != 1 {
		t.Errorf("capped at 1: %v", got)
	}
}
