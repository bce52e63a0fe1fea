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

// Resampling by counts (a sample of few distinct values) draws from the same distribution as
// resampling indices: their resampled means agree in mean, spread and tails.
func TestBootstrapByCountsMatchesByIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := make([]float64, 3000)
	for i := range x {
		x[i] = float64(1 + r.IntN(7)) // ratings 1-7: 7 distinct values, so the counts path
	}
	vals, counts := distinctValues(x)
	if len(vals) != 7 || len(vals)*countsPathRatio > len(x) {
		t.Fatalf("fixture: %d distinct values", len(vals))
	}
	const reps = 20000
	a, b := bootstrapMeansByCounts(vals, counts, len(x), reps, 5), bootstrapMeansByIndex(x, reps, 6)
	sa, sb := Describe(a), Describe(b)
	se := Describe(x).SD / math.Sqrt(float64(len(x)))
	if math.Abs(sa.Mean-sb.Mean) > 0.05*se || math.Abs(sa.SD/se-1) > 0.03 || math.Abs(sb.SD/se-1) > 0.03 {
		t.Errorf("by counts mean %v sd %v, by index mean %v sd %v; sample mean %v, se %v", sa.Mean, sa.SD, sb.Mean, sb.SD, Describe(x).Mean, se)
	}
	alo, ahi := percentileCI(a, 0.95)
	blo, bhi := percentileCI(b, 0.95)
	if math.Abs(alo-blo) > 0.1*se || math.Abs(ahi-bhi) > 0.1*se {
		t.Errorf("95%% percentile: by counts [%v, %v], by index [%v, %v] (se %v)", alo, ahi, blo, bhi, se)
	}
	if got := bootstrapMeans(x, 10, 5); !slices.Equal(got, bootstrapMeansByCounts(vals, counts, len(x), 10, 5)) {
		t.Error("a sample of 7 values in 3000 is not resampled by counts")
	}
}

func BenchmarkBootstrapMeans(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 100_000)
	for i := range x {
		x[i] = float64(3+r.IntN(19)) / 3 // agents' means of 3 ratings on 1-7
	}
	vals, counts := distinctValues(x)
	b.Run("by-index", func(b *testing.B) {
		for b.Loop() {
			bootstrapMeansByIndex(x, 2000, 1)
		}
	})
	b.Run("by-counts", func(b *testing.B) {
		for b.Loop() {
			bootstrapMeansByCounts(vals, counts, len(x), 2000, 1)
		}
	})
}
