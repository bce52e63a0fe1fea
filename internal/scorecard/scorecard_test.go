package scorecard

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("%s = %.15g, want %.15g", what, got, want)
	}
}

// Hand-computed: p = (1, 0), q = (0, 1) share no mass: m = (1/2, 1/2), KL(p||m) = log2 2 = 1,
// JSD = 1, distance 1. p = (1/2, 1/2), q = (1, 0): m = (3/4, 1/4); KL(p||m) = 1/2 log2(2/3) +
// 1/2 log2 2 = 1/2 (1 - log2 3) + 1/2 = 1 - log2(3)/2; KL(q||m) = log2(4/3) = 2 - log2 3;
// JSD = (3 - 1.5 log2 3)/2, distance its square root.
func TestJSDistanceHandComputed(t *testing.T) {
	d, err := JSDistance([]float64{1, 0}, []float64{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "disjoint", d, 1)
	d, _ = JSDistance([]float64{1, 1}, []float64{2, 0}) // normalised to (1/2, 1/2) and (1, 0)
	near(t, "half vs point", d, math.Sqrt((3-1.5*math.Log2(3))/2))
	d, _ = JSDistance([]float64{.2, .3, .5}, []float64{.2, .3, .5})
	near(t, "equal", d, 0)
	if _, err := JSDistance([]float64{1}, []float64{1, 0}); err == nil {
		t.Error("bins of different lengths accepted")
	}
}

// Hand-computed: all mass at 0 vs all at 1 on points 0, 0.5, 1 moves 1 unit by 1: W = 1.
// p = (.5, .5, 0), q = (0, .5, .5) on 0, .5, 1: F_p - F_q = .5, .5 on both gaps of .5: W = .5.
func TestWassersteinHandComputed(t *testing.T) {
	pos := []float64{0, .5, 1}
	w, err := Wasserstein([]float64{1, 0, 0}, []float64{0, 0, 1}, pos)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "ends", w, 1)
	w, _ = Wasserstein([]float64{.5, .5, 0}, []float64{0, .5, .5}, pos)
	near(t, "shifted", w, .5)
	w, _ = Wasserstein([]float64{3, 1, 0}, []float64{3, 1, 0}, pos)
	near(t, "equal", w, 0)
}

func TestHumanDictatorReference(t *testing.T) {
	d, err := HumanDictator()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Share) != 11 || d.Proportion[0] != .31 || d.Proportion[5] != .21 || d.Share[10] != 1 {
		t.Errorf("reference = %+v", d)
	}
}

// The bootstrap of a mean over agents brackets the mean and is reproducible by seed.
func TestBootstrapReproducible(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	mean := func(idx []int) float64 {
		var s float64
		for _, i := range idx {
			s += x[i]
		}
		return s / float64(len(idx))
	}
	lo, hi := Bootstrap(len(x), 3, mean)
	lo2, hi2 := Bootstrap(len(x), 3, mean)
	if lo != lo2 || hi != hi2 || !(lo < 4.5 && 4.5 < hi) {
		t.Errorf("CI [%v, %v] then [%v, %v]", lo, hi, lo2, hi2)
	}
}
