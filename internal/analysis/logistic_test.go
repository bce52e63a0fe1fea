package analysis

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Logistic vs R glm + sandwich vcovHC/vcovCL (testdata/fixtures.R).
func TestLogisticVsR(t *testing.T) {
	ref := rRef(t)
	_, yb, X, cl := regressionData(t)
	idx := func(j int) string { return "." + itoa(j+1) }
	for _, se := range []SEType{Classical, HC1, Cluster} {
		f, err := Logistic(yb, X, []string{"x1", "x2"}, LogitOptions{Intercept: true, SE: se, Clusters: cl})
		if err != nil {
			t.Fatal(err)
		}
		key := map[SEType]string{Classical: "classical", HC1: "hc1", Cluster: "cluster"}[se]
		for j := range 3 {
			checkRel(t, "coef"+idx(j), f.Coef[j], ref("logit.coef"+idx(j)), 1e-9)
			checkRel(t, "se "+key+idx(j), f.SE[j], ref("logit.se."+key+idx(j)), 1e-8)
			if se == Classical {
				checkRel(t, "p"+idx(j), f.P[j], ref("logit.p.classical"+idx(j)), 1e-8)
			}
		}
		checkRel(t, "loglik", f.LogLik, ref("logit.loglik"), 1e-11)
		checkRel(t, "deviance", f.Deviance, ref("logit.deviance"), 1e-11)
		checkRel(t, "null deviance", f.NullDeviance, ref("logit.nulldeviance"), 1e-11)
		if !f.Converged || f.Iterations > 15 {
			t.Errorf("converged %v in %d iterations", f.Converged, f.Iterations)
		}
	}
}

func TestLogisticSeparation(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	cases := map[string][]float64{
		"complete": {0, 0, 0, 0, 1, 1, 1, 1},
		"constant": {1, 1, 1, 1, 1, 1, 1, 1},
	}
	// Quasi-complete: a binary predictor whose level 1 is always y=1.
	qx := mat.NewDense(8, 2, []float64{0, 1, 0, 2, 0, 3, 0, 4, 1, 5, 1, 6, 0, 7, 1, 8})
	qy := []float64{0, 1, 0, 1, 1, 1, 0, 1}
	if _, err := Logistic(qy, qx, nil, LogitOptions{Intercept: true}); !errors.Is(err, ErrSeparation) {
		t.Errorf("quasi-complete separation: err = %v", err)
	}
	for name, y := range cases {
		_, err := Logistic(y, mat.NewDense(8, 1, x), nil, LogitOptions{Intercept: true})
		if !errors.Is(err, ErrSeparation) {
			t.Errorf("%s: err = %v, want ErrSeparation", name, err)
		}
	}
	// Overlapping classes must fit fine.
	if _, err := Logistic([]float64{0, 0, 1, 0, 1, 0, 1, 1}, mat.NewDense(8, 1, x), nil, LogitOptions{Intercept: true}); err != nil {
		t.Errorf("overlap: %v", err)
	}
}

// A strong but non-separated effect, with some fitted |eta| well above 15,
// must still fit (no false separation error) and recover the slope.
func TestLogisticStrongEffectNotSeparation(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n := 3000
	x := make([]float64, n)
	y := make([]float64, n)
	var maxEta float64
	for i := range n {
		x[i] = 2 * r.NormFloat64()
		eta := 3 * x[i]
		maxEta = max(maxEta, math.Abs(eta))
		if r.Float64() < invLogit(eta) {
			y[i] = 1
		}
	}
	f, err := Logistic(y, mat.NewDense(n, 1, x), nil, LogitOptions{Intercept: true})
	if err != nil {
		t.Fatalf("max |eta| %.1f: %v", maxEta, err)
	}
	if math.Abs(f.Coef[1]-3) > 4*f.SE[1] {
		t.Errorf("slope %v ± %v, true 3", f.Coef[1], f.SE[1])
	}
	if maxEta < 20 {
		t.Errorf("test data not extreme enough: max |eta| %.1f", maxEta)
	}
}
