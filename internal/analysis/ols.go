package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// SEType selects the coefficient covariance estimator.
type SEType int

const (
	// Classical is the model-based covariance σ²(X'X)^-1 (OLS) or (X'WX)^-1 (logistic).
	Classical SEType = iota
	// HC1 is the heteroskedasticity-consistent sandwich with n/(n-k) scaling.
	HC1
	// Cluster is the cluster-robust sandwich with the CR1 correction
	// G/(G-1)·(n-1)/(n-k) (Stata; R sandwich::vcovCL type "HC1").
	Cluster
)

func (s SEType) String() string {
	switch s {
	case Classical:
		return "classical"
	case HC1:
		return "HC1"
	case Cluster:
		return "cluster (CR1)"
	}
	return fmt.Sprintf("SEType(%d)", int(s))
}

// OLSOptions configures OLS.
type OLSOptions struct {
	Intercept bool    // prepend a column of ones named "(Intercept)"
	SE        SEType  // covariance estimator
	Clusters  []int   // cluster label per observation, required for SE == Cluster
	Level     float64 // confidence level for CIs; 0 means 0.95
}

// Fit is a fitted linear model.
type Fit struct {
	Names             []string
	Coef, SE, T, P    []float64
	CILow, CIHigh     []float64
	Vcov              *mat.SymDense // covariance of Coef under SEType
	SEType            SEType
	N, K              int     // observations, coefficients (including intercept)
	NClusters         int     // number of clusters when SEType == Cluster
	DF                float64 // df of the t reference distribution: N-K, or G-1 for Cluster
	RSS, TSS          float64 // TSS is centred with an intercept, uncentred without (as R)
	R2, AdjR2         float64
	ResidSD           float64 // sqrt(RSS/(N-K))
	F, FP             float64 // classical overall F test of all non-intercept coefficients
	FDF1, FDF2        float64
	WaldF, WaldP      float64 // same hypothesis as F, using Vcov (equals F for Classical); df (FDF1, DF)
	Fitted, Residuals []float64
}

// OLS fits y = Xb + e by least squares (column-equilibrated Householder QR).
//
// Standard errors follow opt.SE; t statistics use N-K df except for Cluster,
// which uses G-1 df (Stata convention; R's coeftest(vcovCL) default uses N-K,
// so p-values and CIs there differ slightly, the SEs do not).
func OLS(y []float64, X *mat.Dense, names []string, opt OLSOptions) (*Fit, error) {
	level, err := checkLevel(opt.Level)
	if err != nil {
		return nil, err
	}
	n, p := X.Dims()
	if len(y) != n {
		return nil, errorf("len(y)=%d but X has %d rows", len(y), n)
	}
	if names != nil && len(names) != p {
		return nil, errorf("%d names for %d columns", len(names), p)
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errorf("y[%d] is %v", i, v)
		}
	}
	D := X
	nm := make([]string, 0, p+1)
	if opt.Intercept {
		D = withIntercept(X)
		nm = append(nm, "(Intercept)")
	}
	for j := range p {
		if names != nil {
			nm = append(nm, names[j])
		} else {
			nm = append(nm, fmt.Sprintf("x%d", j+1))
		}
	}
	_, k := D.Dims()
	if n <= k {
		return nil, fmt.Errorf("%w: n=%d, k=%d", ErrTooFew, n, k)
	}
	beta, inv, err := lsq(D, y, true)
	if err != nil {
		return nil, err
	}
	f := &Fit{Names: nm, Coef: beta, SEType: opt.SE, N: n, K: k}
	f.Fitted = make([]float64, n)
	f.Residuals = make([]float64, n)
	ym := mean(y)
	for i := range n {
		var s float64
		for j := range k {
			s += D.At(i, j) * beta[j]
		}
		f.Fitted[i] = s
		f.Residuals[i] = y[i] - s
		f.RSS += f.Residuals[i] * f.Residuals[i]
		if opt.Intercept {
			f.TSS += (y[i] - ym) * (y[i] - ym)
		} else {
			f.TSS += y[i] * y[i]
		}
	}
	nf, kf := float64(n), float64(k)
	dfRes := nf - kf
	s2 := f.RSS / dfRes
	f.ResidSD = math.Sqrt(s2)
	f.R2 = 1 - f.RSS/f.TSS
	dfModel := kf
	if opt.Intercept {
		dfModel = kf - 1
	}
	nInt := 0.0
	if opt.Intercept {
		nInt = 1
	}
	f.AdjR2 = 1 - (1-f.R2)*(nf-nInt)/dfRes
	f.FDF1, f.FDF2 = dfModel, dfRes
	if dfModel > 0 {
		f.F = ((f.TSS - f.RSS) / dfModel) / s2
		f.FP = fSurvival(f.F, dfModel, dfRes)
	} else {
		f.F, f.FP = math.NaN(), math.NaN()
	}

	f.DF = dfRes
	switch opt.SE {
	case Classical:
		v := mat.NewSymDense(k, nil)
		v.ScaleSym(s2, inv)
		f.Vcov = v
	case HC1:
		f.Vcov = sandwich(D, f.Residuals, nil, inv, nf/dfRes)
	case Cluster:
		if len(opt.Clusters) != n {
			return nil, errorf("cluster SE needs one cluster label per observation (got %d for %d)", len(opt.Clusters), n)
		}
		g := numClusters(opt.Clusters)
		if g < 2 {
			return nil, errorf("cluster SE needs at least 2 clusters (got %d)", g)
		}
		gf := float64(g)
		f.NClusters = g
		f.DF = gf - 1
		f.Vcov = sandwich(D, f.Residuals, opt.Clusters, inv, gf/(gf-1)*(nf-1)/dfRes)
	default:
		return nil, errorf("unknown SE type %v", opt.SE)
	}
	f.fillInference(level, false)
	f.WaldF, f.WaldP = math.NaN(), math.NaN()
	if dfModel > 0 {
		start := k - int(dfModel)
		if w, ok := waldStat(beta[start:], f.Vcov, start); ok {
			f.WaldF = w / dfModel
			f.WaldP = fSurvival(f.WaldF, dfModel, f.DF)
		}
	}
	return f, nil
}

// fillInference sets SE, test statistics, p-values and CIs from Vcov, using
// t(DF) or, if normal, the standard normal.
func (f *Fit) fillInference(level float64, normal bool) {
	k := len(f.Coef)
	f.SE = make([]float64, k)
	f.T = make([]float64, k)
	f.P = make([]float64, k)
	f.CILow = make([]float64, k)
	f.CIHigh = make([]float64, k)
	var crit float64
	if normal {
		crit = zCrit(level)
	} else {
		crit = tCrit(level, f.DF)
	}
	for j := range k {
		f.SE[j] = math.Sqrt(f.Vcov.At(j, j))
		f.T[j] = f.Coef[j] / f.SE[j]
		if normal {
			f.P[j] = zTwoSided(f.T[j])
		} else {
			f.P[j] = tTwoSided(f.T[j], f.DF)
		}
		f.CILow[j] = f.Coef[j] - crit*f.SE[j]
		f.CIHigh[j] = f.Coef[j] + crit*f.SE[j]
	}
}

// waldStat returns b' V_sub^-1 b for the block of V starting at index start.
func waldStat(b []float64, v *mat.SymDense, start int) (float64, bool) {
	q := len(b)
	sub := mat.NewSymDense(q, nil)
	for i := range q {
		for j := i; j < q; j++ {
			sub.SetSym(i, j, v.At(start+i, start+j))
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sub) {
		return 0, false
	}
	bv := mat.NewVecDense(q, append([]float64(nil), b...))
	var x mat.VecDense
	if err := ch.SolveVecTo(&x, bv); err != nil {
		return 0, false
	}
	return mat.Dot(bv, &x), true
}

// Coefficient returns the index of the named coefficient, or -1.
func (f *Fit) Coefficient(name string) int {
	for i, n := range f.Names {
		if n == name {
			return i
		}
	}
	return -1
}
