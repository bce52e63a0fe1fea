package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
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
	us, counts := distinctUnits(x, nil)
	if len(us) != 7 || len(us)*countsPathRatio > len(x) {
		t.Fatalf("fixture: %d distinct values", len(us))
	}
	const reps = 20000
	a, b := bootstrapRatiosByCounts(us, counts, len(x), reps, 5), bootstrapRatiosByIndex(x, nil, reps, 6)
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
	if got := bootstrapMeans(x, 10, 5); !slices.Equal(got, bootstrapRatiosByCounts(us, counts, len(x), 10, 5)) {
		t.Error("a sample of 7 values in 3000 is not resampled by counts")
	}
}

// betaBinomialAgents are g agents' punishments of m trials each, an agent punishing each of its
// trials with its own probability, Beta(a, b): trials of one agent are correlated (ICC
// 1/(a+b+1)), and the pooled rate's estimand is a/(a+b).
func betaBinomialAgents(r *rand.Rand, g, m int, a, b float64) (k, n []int) {
	ga, gb := distuv.Gamma{Alpha: a, Beta: 1, Src: r}, distuv.Gamma{Alpha: b, Beta: 1, Src: r}
	for range g {
		x, y := ga.Rand(), gb.Rand()
		p, c := x/(x+y), 0
		for range m {
			if r.Float64() < p {
				c++
			}
		}
		k, n = append(k, c), append(n, m)
	}
	return k, n
}

// Agents' trials are correlated (ICC 0.2: 30 agents x 12 trials, rate 0.3): over 400 data
// sets the cluster bootstrap covers the pooled rate about 95% of the time, Wilson over
// trials (which takes the 360 trials as independent) far less.
func TestClusterBootstrapShareCICoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const sets, truth = 400, 0.3
	boot, wilson := 0, 0
	for i := range sets {
		k, n := betaBinomialAgents(r, 30, 12, 1.2, 2.8)
		lo, hi := ClusterBootstrapShareCI(k, n, 0.95, 1000, uint64(i))
		if lo <= truth && truth <= hi {
			boot++
		}
		sk, sn := 0, 0
		for j := range k {
			sk, sn = sk+k[j], sn+n[j]
		}
		if lo, hi := ProportionCI(sk, sn, 0.95); lo <= truth && truth <= hi {
			wilson++
		}
	}
	cb, cw := float64(boot)/sets, float64(wilson)/sets
	t.Logf("coverage: cluster bootstrap %.3f, Wilson over trials %.3f", cb, cw)
	if cb < 0.92 || cb > 0.98 || cw > 0.8 {
		t.Errorf("coverage: cluster bootstrap %.3f (want 0.92-0.98), Wilson over trials %.3f (want below 0.8)", cb, cw)
	}
}

// With one answer per cluster, the cluster bootstrap of a share is the expanded bootstrap of
// the mean of the 0/1 answers, draw for draw, by index (20 clusters) and by counts (500).
func TestClusterBootstrapShareOfOneAnswerEach(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, g := range []int{20, 500} {
		k, n, x := make([]int, g), make([]int, g), make([]float64, g)
		for i := range k {
			k[i], n[i] = r.IntN(2), 1
			x[i] = float64(k[i])
		}
		lo, hi := ClusterBootstrapShareCI(k, n, 0.95, 2000, 7)
		mlo, mhi := ExpandedBootstrapMeanCI(x, 0.95, 2000, 7)
		if lo != mlo || hi != mhi || math.IsNaN(lo) {
			t.Errorf("%d clusters: share [%v, %v], mean [%v, %v]", g, lo, hi, mlo, mhi)
		}
	}
}

// Clusters of unequal sizes (1-4 trials): resampling them by counts and by index draws the
// same distribution of the pooled share.
func TestClusterShareByCountsMatchesByIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	var num, den []float64
	for range 2000 {
		m := 1 + r.IntN(4)
		num, den = append(num, float64(r.IntN(m+1))), append(den, float64(m))
	}
	us, counts := distinctUnits(num, den)
	if len(us)*countsPathRatio > len(num) {
		t.Fatalf("fixture: %d distinct units", len(us))
	}
	const reps = 20000
	a, b := bootstrapRatiosByCounts(us, counts, len(num), reps, 5), bootstrapRatiosByIndex(num, den, reps, 6)
	sa, sb := Describe(a), Describe(b)
	if math.Abs(sa.Mean-sb.Mean) > 0.05*sb.SD || math.Abs(sa.SD/sb.SD-1) > 0.04 {
		t.Errorf("by counts mean %v sd %v, by index mean %v sd %v", sa.Mean, sa.SD, sb.Mean, sb.SD)
	}
	alo, ahi := percentileCI(a, 0.95)
	blo, bhi := percentileCI(b, 0.95)
	if math.Abs(alo-blo) > 0.1*sb.SD || math.Abs(ahi-bhi) > 0.1*sb.SD {
		t.Errorf("95%% percentile: by counts [%v, %v], by index [%v, %v]", alo, ahi, blo, bhi)
	}
}

// ClusteredShareCI: Wilson over the clusters when each answered once (R: prop.test(3, 10,
// correct = FALSE) gives [0.1078, 0.6032]) or when the share is 0 or 1 (0 of 10 agents, however
// many trials: [0, 0.2775]); otherwise the cluster bootstrap; no interval for one cluster of
// several answers.
func TestClusteredShareCI(t *testing.T) {
	ones := slices.Repeat([]int{1}, 10)
	k := []int{1, 0, 0, 1, 0, 0, 1, 0, 0, 0}
	if lo, hi, boot := ClusteredShareCI(k, ones, 0.95, 100, 1); boot || math.Abs(lo-0.1078) > 1e-4 || math.Abs(hi-0.6032) > 1e-4 {
		t.Errorf("one answer each: [%v, %v] boot %v", lo, hi, boot)
	}
	tens := slices.Repeat([]int{10}, 10)
	if lo, hi, boot := ClusteredShareCI(make([]int, 10), tens, 0.95, 100, 1); boot || lo != 0 || math.Abs(hi-0.2775) > 1e-4 {
		t.Errorf("none of 100 trials: [%v, %v] boot %v", lo, hi, boot)
	}
	if lo, hi, boot := ClusteredShareCI(tens, tens, 0.95, 100, 1); boot || math.Abs(lo-0.7225) > 1e-4 || hi != 1 {
		t.Errorf("all of 100 trials: [%v, %v] boot %v", lo, hi, boot)
	}
	k2 := []int{3, 0, 0, 9, 0, 1, 10, 0, 0, 2}
	lo, hi, boot := ClusteredShareCI(k2, tens, 0.95, 2000, 1)
	if blo, bhi := ClusterBootstrapShareCI(k2, tens, 0.95, 2000, 1); !boot || lo != blo || hi != bhi {
		t.Errorf("25 of 100 trials: [%v, %v] boot %v, bootstrap [%v, %v]", lo, hi, boot, blo, bhi)
	}
	if wlo, whi := ProportionCI(25, 100, 0.95); hi-lo < 2*(whi-wlo) {
		t.Errorf("25 of 100 trials in 10 agents: [%v, %v] not much wider than Wilson over trials [%v, %v]", lo, hi, wlo, whi)
	}
	if lo, hi, _ := ClusteredShareCI([]int{3}, []int{10}, 0.95, 100, 1); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("one agent of 10 trials: [%v, %v], want none", lo, hi)
	}
}

func BenchmarkBootstrapMeans(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 100_000)
	for i := range x {
		x[i] = float64(3+r.IntN(19)) / 3 // agents' means of 3 ratings on 1-7
	}
	us, counts := distinctUnits(x, nil)
	b.Run("by-index", func(b *testing.B) {
		for b.Loop() {
			bootstrapRatiosByIndex(x, nil, 2000, 1)
		}
	})
	b.Run("by-counts", func(b *testing.B) {
		for b.Loop() {
			bootstrapRatiosByCounts(us, counts, len(x), 2000, 1)
		}
	})
}

// 100,000 agents' punishments of their 10 trials at one x (Study 2's rates by x): 2000
// resamples by counts of the (k, n) the agents take.
func BenchmarkClusterBootstrapShare(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	k, n := betaBinomialAgents(r, 100_000, 10, 1.2, 2.8)
	for b.Loop() {
		ClusterBootstrapShareCI(k, n, 0.95, 2000, 1)
	}
}
