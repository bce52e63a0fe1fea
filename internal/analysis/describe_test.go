package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
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

// The expanded percentile level, from published t quantiles (t_{.975,n-1} = 12.706205,
// 2.776445, 2.200985, 1.983264 for n = 2, 5, 12, 104) and the normal tail.
func TestExpandedLevel(t *testing.T) {
	for n, want := range map[int]float64{2: 1, 5: 0.99809180, 12: 0.97848677, 104: 0.95372414} {
		if got := ExpandedLevel(0.95, n); math.Abs(got-want) > 1e-7 {
			t.Errorf("n=%d: level %.9f, want %.8f", n, got, want)
		}
	}
}

// The expanded interval lies within the sample's values (two agents' shares 0 and 1: [0, 1],
// where the t interval is [-5.85, 6.85]); for a larger normal sample it is about the t interval,
// wider than the plain percentile one.
func TestExpandedBootstrapMeanCI(t *testing.T) {
	if lo, hi := ExpandedBootstrapMeanCI([]float64{0, 1}, 0.95, 2000, 3); lo != 0 || hi != 1 {
		t.Errorf("shares 0 and 1: [%v, %v], want [0, 1]", lo, hi)
	}
	if lo, hi := ExpandedBootstrapMeanCI([]float64{1}, 0.95, 2000, 3); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("one value: [%v, %v], want no interval", lo, hi)
	}
	r := rand.New(rand.NewPCG(9, 10))
	x := make([]float64, 12)
	for i := range x {
		x[i] = 4 + r.NormFloat64()
	}
	lo, hi := ExpandedBootstrapMeanCI(x, 0.95, 20000, 4)
	tlo, thi := MeanCI(x, 0.95)
	plo, phi := BootstrapMeanCI(x, 0.95, 20000, 4)
	if w, tw := hi-lo, thi-tlo; math.Abs(w/tw-1) > 0.1 {
		t.Errorf("n=12: expanded width %v vs t width %v", w, tw)
	}
	if hi-lo <= phi-plo {
		t.Errorf("n=12: expanded [%v, %v] not wider than percentile [%v, %v]", lo, hi, plo, phi)
	}
	mn, mx := slices.Min(x), slices.Max(x)
	if lo < mn || hi > mx {
		t.Errorf("[%v, %v] leaves the sample's values [%v, %v]", lo, hi, mn, mx)
	}
}
