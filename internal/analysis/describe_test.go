package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

var small = []float64{3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9, 4.0, 5.2}

// Reference numbers from R 4.2.2: mean, sd, sd/sqrt(n), median, t.test(conf.level = 0.9).
func TestDescribeVsR(t *testing.T) {
	s := Describe(small)
	checkRel(t, "mean", s.Mean, 4.23, 1e-14)
	checkRel(t, "sd", s.SD, 1.2858633070604528, 1e-14)
	checkRel(t, "se", s.SE, 0.40662568099475027, 1e-14)
	checkRel(t, "median", s.Median, 4.2, 1e-14)
	if s.N != 10 || s.Min != 2.2 || s.Max != 6.1 {
		t.Errorf("N/min/max = %d %v %v", s.N, s.Min, s.Max)
	}
	lo, hi := MeanCI(small, 0.9)
	checkRel(t, "t CI lo", lo, 3.4846092054183746, 1e-10)
	checkRel(t, "t CI hi", hi, 4.9753907945816271, 1e-10)
	if e := Describe(nil); !math.IsNaN(e.Mean) || e.N != 0 {
		t.Errorf("empty: %+v", e)
	}
}

// Type-7 quantiles as R quantile(x, c(.025, .975)).
func TestPercentileType7(t *testing.T) {
	lo, hi := percentileCI(small, 0.95)
	checkRel(t, "q.025", lo, 2.3574999999999999, 1e-14)
	checkRel(t, "q.975", hi, 6.0549999999999997, 1e-14)
}

// R: prop.test(7, 20, correct = FALSE)$conf.int and prop.test(0, 15, ...).
func TestWilsonVsR(t *testing.T) {
	lo, hi := ProportionCI(7, 20, 0.95)
	checkRel(t, "lo", lo, 0.18119182410108206, 1e-10)
	checkRel(t, "hi", hi, 0.56714572331476365, 1e-10)
	lo, hi = ProportionCI(0, 15, 0.95)
	checkRel(t, "lo0", lo, 0, 1e-12)
	checkRel(t, "hi0", hi, 0.20388330103584854, 1e-10)
	if lo, _ := ProportionCI(3, 2, 0.95); !math.IsNaN(lo) {
		t.Error("successes > n should give NaN")
	}
}

func TestRMSE(t *testing.T) {
	checkRel(t, "rmse", RMSE([]float64{1, 2, 3}, []float64{2, 2, 5}), math.Sqrt(5.0/3), 1e-15)
	if !math.IsNaN(RMSE([]float64{1}, nil)) {
		t.Error("length mismatch should be NaN")
	}
}

func TestBootstrapMeanCI(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float64, 400)
	for i := range x {
		x[i] = 10 + 2*r.NormFloat64()
	}
	lo, hi := BootstrapMeanCI(x, 0.95, 4000, 42)
	tlo, thi := MeanCI(x, 0.95)
	// For n=400 normal data the percentile interval approximates the t interval.
	if math.Abs(lo-tlo) > 0.03 || math.Abs(hi-thi) > 0.03 {
		t.Errorf("bootstrap [%v,%v] vs t [%v,%v]", lo, hi, tlo, thi)
	}
	lo2, hi2 := BootstrapMeanCI(x, 0.95, 4000, 42)
	if lo != lo2 || hi != hi2 {
		t.Error("not deterministic for a fixed seed")
	}
}

// With strongly correlated observations within clusters, resampling clusters
// must widen the interval to about the cluster-level t interval, while the
// naive bootstrap stays too narrow.
func TestBootstrapMeanCIClustered(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var x, cm []float64
	var cl []int
	for g := range 50 {
		u := r.NormFloat64()
		var s float64
		for range 8 {
			v := u + 0.1*r.NormFloat64()
			x = append(x, v)
			cl = append(cl, g)
			s += v
		}
		cm = append(cm, s/8)
	}
	lo, hi, err := BootstrapMeanCIClustered(x, cl, 0.95, 4000, 1)
	if err != nil {
		t.Fatal(err)
	}
	nlo, nhi := BootstrapMeanCI(x, 0.95, 4000, 1)
	tlo, thi := MeanCI(cm, 0.95) // equal sizes: cluster means carry all the information
	if w, tw := hi-lo, thi-tlo; math.Abs(w/tw-1) > 0.1 {
		t.Errorf("cluster bootstrap width %v vs cluster-level t width %v", w, tw)
	}
	if (nhi-nlo)/(hi-lo) > 0.6 {
		t.Errorf("naive width %v not much narrower than clustered %v", nhi-nlo, hi-lo)
	}
	if _, _, err := BootstrapMeanCIClustered(x, cl[:3], 0.95, 10, 1); err == nil {
		t.Error("length mismatch should fail")
	}
}
