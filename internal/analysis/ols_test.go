package analysis

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// NIST StRD Longley certified values (testdata/nist_longley_certified.md).
func TestOLSLongleyNIST(t *testing.T) {
	c := readCSV(t, "testdata/nist_longley.csv")
	y := floats(t, c["y"])
	X := mat.NewDense(len(y), 6, nil)
	for j, h := range []string{"x1", "x2", "x3", "x4", "x5", "x6"} {
		X.SetCol(j, floats(t, c[h]))
	}
	f, err := OLS(y, X, nil, OLSOptions{Intercept: true})
	if err != nil {
		t.Fatal(err)
	}
	coef := []float64{-3482258.63459582, 15.0618722713733, -0.0358191792925910, -2.02022980381683, -1.03322686717359, -0.0511041056535807, 1829.15146461355}
	se := []float64{890420.383607373, 84.9149257747669, 0.0334910077722432, 0.488399681651699, 0.214274163161675, 0.226073200069370, 455.478499142212}
	const need = 10 // QR with column equilibration gives 11-14 digits here
	for j := range coef {
		checkDigits(t, "B"+f.Names[j], f.Coef[j], coef[j], need)
		checkDigits(t, "SE "+f.Names[j], f.SE[j], se[j], need)
	}
	checkDigits(t, "residual SD", f.ResidSD, 304.854073561965, need)
	checkDigits(t, "R2", f.R2, 0.995479004577296, need)
	checkDigits(t, "RSS", f.RSS, 836424.055505915, need)
	checkDigits(t, "F", f.F, 330.285339234588, need)
	if f.FDF1 != 6 || f.FDF2 != 9 {
		t.Errorf("F df = %v, %v", f.FDF1, f.FDF2)
	}
	for j := range coef {
		t.Logf("%s: coef %.1f digits, SE %.1f digits", f.Names[j], digits(f.Coef[j], coef[j]), digits(f.SE[j], se[j]))
	}
}

func TestOLSCollinear(t *testing.T) {
	X := mat.NewDense(5, 2, []float64{1, 2, 2, 4, 3, 6, 4, 8, 5, 10})
	if _, err := OLS([]float64{1, 2, 3, 4, 6}, X, nil, OLSOptions{Intercept: true}); err == nil {
		t.Fatal("expected collinearity error")
	}
}

func regressionData(t *testing.T) (y, yb []float64, X *mat.Dense, cl []int) {
	c := readCSV(t, "testdata/regression.csv")
	y, yb = floats(t, c["y"]), floats(t, c["yb"])
	X = mat.NewDense(len(y), 2, nil)
	X.SetCol(0, floats(t, c["x1"]))
	X.SetCol(1, floats(t, c["x2"]))
	return y, yb, X, ints(t, c["cluster"])
}

// Classical, HC1 and CR1 SEs vs R lm + sandwich (testdata/fixtures.R).
func TestOLSRobustVsR(t *testing.T) {
	ref := rRef(t)
	y, _, X, cl := regressionData(t)
	names := []string{"x1", "x2"}
	idx := func(j int) string { return "." + string(rune('1'+j)) }
	cls, err := OLS(y, X, names, OLSOptions{Intercept: true})
	if err != nil {
		t.Fatal(err)
	}
	for j := range 3 {
		checkRel(t, "coef"+idx(j), cls.Coef[j], ref("ols.coef"+idx(j)), 1e-10)
		checkRel(t, "se classical"+idx(j), cls.SE[j], ref("ols.se.classical"+idx(j)), 1e-10)
		checkRel(t, "p classical"+idx(j), cls.P[j], ref("ols.p.classical"+idx(j)), 1e-8)
	}
	checkRel(t, "R2", cls.R2, ref("ols.r2"), 1e-10)
	checkRel(t, "adj R2", cls.AdjR2, ref("ols.adjr2"), 1e-10)
	checkRel(t, "sigma", cls.ResidSD, ref("ols.sigma"), 1e-10)
	checkRel(t, "F", cls.F, ref("ols.F"), 1e-10)
	checkRel(t, "Wald F classical = F", cls.WaldF, cls.F, 1e-9)

	hc, err := OLS(y, X, names, OLSOptions{Intercept: true, SE: HC1})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := OLS(y, X, names, OLSOptions{Intercept: true, SE: Cluster, Clusters: cl})
	if err != nil {
		t.Fatal(err)
	}
	if cr.NClusters != 30 || cr.DF != 29 {
		t.Errorf("clusters %d, df %v", cr.NClusters, cr.DF)
	}
	for j := range 3 {
		checkRel(t, "se HC1"+idx(j), hc.SE[j], ref("ols.se.hc1"+idx(j)), 1e-10)
		checkRel(t, "se CR1"+idx(j), cr.SE[j], ref("ols.se.cluster"+idx(j)), 1e-10)
		checkRel(t, "p CR1 (G-1 df)"+idx(j), cr.P[j], ref("ols.p.cluster.Gm1"+idx(j)), 1e-8)
	}
	// Upper triangle of the CR1 covariance in R's column-major order.
	n := 1
	for j := range 3 {
		for i := 0; i <= j; i++ {
			checkRel(t, "vcov CR1", cr.Vcov.At(i, j), ref("ols.vcov.cluster."+itoa(n)), 1e-10)
			n++
		}
	}
	checkRel(t, "Wald F CR1", cr.WaldF, ref("ols.waldF.cluster"), 1e-9)
	if _, err := OLS(y, X, names, OLSOptions{Intercept: true, SE: Cluster}); err == nil {
		t.Error("cluster SE without clusters should fail")
	}
}
