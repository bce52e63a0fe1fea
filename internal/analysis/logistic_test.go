package analysis

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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

// LogisticCounts on the (cluster, pattern) counts of discrete trials is Logistic on the
// trials: the same estimates and covariances up to rounding, for every SE type.
func TestLogisticCountsIsLogistic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const agents, per = 60, 25
	// Patterns: x1 in 0..5, x2 in 0..9, and one pattern (the last) no trial has.
	np := 6*10 + 1
	px := mat.NewDense(np, 2, nil)
	for i := range np {
		px.Set(i, 0, float64(i%6))
		px.Set(i, 1, float64(i/6))
	}
	var y, rows []float64
	var cl []int
	counts := make([][]CountCell, agents) // per agent, by pattern
	for a := range agents {
		counts[a] = make([]CountCell, np)
		bias := 0.5 * r.NormFloat64() // a cluster effect, so clustered SEs differ
		for range per {
			pi := r.IntN(np - 1)
			x1, x2 := px.At(pi, 0), px.At(pi, 1)
			v := 0.0
			if r.Float64() < invLogit(-1+0.4*x1-0.15*x2+bias) {
				v = 1
			}
			y, rows, cl = append(y, v), append(rows, x1, x2), append(cl, 1000+a)
			c := &counts[a][pi]
			c.Pattern, c.Trials, c.Successes = pi, c.Trials+1, c.Successes+v
		}
	}
	X := mat.NewDense(len(y), 2, rows)
	clusters := func(yield func([]CountCell) bool) {
		for a := agents - 1; a >= 0; a-- { // another order than the trials'
			var cells []CountCell
			for _, c := range counts[a] {
				if c.Trials > 0 {
					cells = append(cells, c)
				}
			}
			if !yield(cells) {
				return
			}
		}
	}
	rel := func(what string, got, want float64) {
		t.Helper()
		if !(math.Abs(got-want) <= 1e-9*math.Abs(want)) {
			t.Errorf("%s: counts %.15g, trials %.15g", what, got, want)
		}
	}
	for _, se := range []SEType{Classical, HC1, Cluster} {
		want, err := Logistic(y, X, []string{"x1", "x2"}, LogitOptions{Intercept: true, SE: se, Clusters: cl})
		if err != nil {
			t.Fatal(err)
		}
		got, err := LogisticCounts(px, clusters, []string{"x1", "x2"}, LogitOptions{Intercept: true, SE: se})
		if err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			rel(fmt.Sprintf("SE %v coef %d", se, j), got.Coef[j], want.Coef[j])
			rel(fmt.Sprintf("SE %v se %d", se, j), got.SE[j], want.SE[j])
			rel(fmt.Sprintf("SE %v p %d", se, j), got.P[j], want.P[j])
		}
		rel("loglik", got.LogLik, want.LogLik)
		rel("null deviance", got.NullDeviance, want.NullDeviance)
		if got.N != want.N || got.K != want.K || got.NClusters != want.NClusters || !got.Converged {
			t.Errorf("SE %v: N %d K %d clusters %d (converged %v), want %d %d %d", se, got.N, got.K, got.NClusters, got.Converged, want.N, want.K, want.NClusters)
		}
		if len(got.Fitted) != np || !math.IsNaN(got.Fitted[np-1]) {
			t.Errorf("fitted: %d patterns, the unseen one %v (want %d, NaN)", len(got.Fitted), got.Fitted[np-1], np)
		}
	}
}

// A count fit's messages write counts in full: 1,200,000 trials are not "1.2e+06".
func TestLogisticCountsMessagesWriteCountsInFull(t *testing.T) {
	X := mat.NewDense(2, 1, []float64{0, 1})
	clusters := func(yield func([]CountCell) bool) {
		yield([]CountCell{{Pattern: 0, Trials: 600000}, {Pattern: 1, Trials: 600000}})
	}
	_, err := LogisticCounts(X, clusters, []string{"x"}, LogitOptions{Intercept: true, SE: Classical})
	if err == nil || !strings.Contains(err.Error(), "outcome is constant: 0 of 1200000 are 1") {
		t.Fatalf("got %v", err)
	}
}
