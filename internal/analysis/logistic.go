package analysis

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ErrSeparation is returned when the outcome is (quasi-)completely separated
// by the predictors, so maximum-likelihood estimates do not exist (they
// diverge to ±∞). Remedies: drop or merge the offending predictor levels,
// or use a penalised (Firth) model.
var ErrSeparation = errors.New("analysis: perfect or quasi-complete separation: maximum-likelihood estimates do not exist")

// ErrNoConvergence is returned when Newton-Raphson fails to converge.
var ErrNoConvergence = errors.New("analysis: logistic regression did not converge")

// LogitOptions configures Logistic.
type LogitOptions struct {
	Intercept bool
	SE        SEType  // Classical: inverse information; HC1; Cluster (CR1)
	Clusters  []int   // cluster label per observation for SE == Cluster
	Level     float64 // CI level; 0 means 0.95
	MaxIter   int     // 0 means 100
	Tol       float64 // relative deviance change for convergence; 0 means 1e-10
}

// LogitFit is a fitted logistic regression. Inference is Wald (normal z).
type LogitFit struct {
	Names          []string
	Coef, SE, Z, P []float64
	CILow, CIHigh  []float64
	Vcov           *mat.SymDense
	SEType         SEType
	N, K           int
	NClusters      int
	LogLik         float64
	NullLogLik     float64 // intercept-only model (or p = 1/2 without intercept)
	Deviance       float64 // -2 LogLik
	NullDeviance   float64
	AIC            float64
	Iterations     int
	Converged      bool
	Fitted         []float64 // fitted probabilities
}

// separationEta is the |linear predictor| beyond which a fitted probability
// counts as 0 or 1 (p < 3.1e-7) when Newton-Raphson fails to converge.
const separationEta = 15

// Logistic fits P(y=1) = 1/(1+exp(-Xb)) by Newton-Raphson (IRLS, each step a
// QR-solved weighted least-squares problem, with step halving if the
// deviance rises), starting from b = 0, and stops when the relative change
// in deviance |ΔD|/(|D|+0.1) < Tol (R glm's rule with a tighter default).
//
// Covariances: Classical (X'WX)^-1; HC1 n/(n-k)·sandwich; Cluster
// G/(G-1)·(n-1)/(n-k)·sandwich with scores x_i(y_i-p_i), matching R
// sandwich::vcovHC/vcovCL(type = "HC1") on a glm.
//
// Convergence also requires the last step to move every linear predictor by
// less than 1e-3. Under (quasi-)complete separation the likelihood has no
// maximum and each Newton step keeps moving the separated linear predictors
// by about 1, so the fit does not converge; if it then has fitted |eta| > 15
// the error wraps ErrSeparation and says how many observations are fitted at
// probability 0 or 1. A constant outcome is reported the same way.
func Logistic(y []float64, X *mat.Dense, names []string, opt LogitOptions) (*LogitFit, error) {
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
	var ones float64
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, errorf("y[%d]=%v: outcome must be 0 or 1", i, v)
		}
		ones += v
	}
	if ones == 0 || ones == float64(n) {
		return nil, fmt.Errorf("%w (outcome is constant: %v of %d are 1)", ErrSeparation, ones, n)
	}
	// D is the design read in place (a view adds the intercept column): a fit over a million
	// rows holds no copy of it.
	var D mat.Matrix = X
	nm := make([]string, 0, p+1)
	if opt.Intercept {
		D = interceptView{X}
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
	maxIter, tol := opt.MaxIter, opt.Tol
	if maxIter <= 0 {
		maxIter = 100
	}
	if tol <= 0 {
		tol = 1e-10
	}

	beta := make([]float64, k)
	eta := make([]float64, n)
	linpred := func(b []float64) {
		for i := range n {
			var s float64
			for j := range k {
				s += D.At(i, j) * b[j]
			}
			eta[i] = s
		}
	}
	dev := func() float64 { return -2 * logLik(y, eta) }
	linpred(beta)
	d := dev()
	f := &LogitFit{Names: nm, N: n, K: k, SEType: opt.SE}
	wx := mat.NewDense(n, k, nil)
	z := make([]float64, n)
	prevEta := make([]float64, n)
	for it := 1; it <= maxIter; it++ {
		f.Iterations = it
		for i := range n {
			// p and 1-p each computed directly so that neither the weight nor
			// the residual underflows to 0 when |eta| is large (separation).
			p1, p0 := invLogit(eta[i]), invLogit(-eta[i])
			w := p1 * p0
			r := -p1
			if y[i] == 1 {
				r = p0
			}
			sw := math.Sqrt(w)
			for j := range k {
				wx.Set(i, j, sw*D.At(i, j))
			}
			z[i] = sw*eta[i] + r/sw
		}
		nb, _, err := lsqScratch(wx, z, false) // wx is rebuilt before each use
		if err != nil {
			if errors.Is(err, ErrCollinear) && maxAbs(eta) > separationEta {
				return nil, separationErr(eta, n)
			}
			return nil, err
		}
		old := append([]float64(nil), beta...)
		copy(prevEta, eta)
		copy(beta, nb)
		linpred(beta)
		nd := dev()
		for h := 0; h < 30 && (math.IsNaN(nd) || nd > d*(1+1e-12)); h++ {
			for j := range k { // step halving
				beta[j] = (beta[j] + old[j]) / 2
			}
			linpred(beta)
			nd = dev()
		}
		change := math.Abs(nd-d) / (math.Abs(nd) + 0.1)
		d = nd
		var step float64
		for i := range n {
			step = max(step, math.Abs(eta[i]-prevEta[i]))
		}
		// Both criteria: under separation the deviance flattens while each
		// Newton step still moves the separated linear predictors by about 1.
		if change < tol && step < 1e-3 {
			f.Converged = true
			break
		}
	}
	if !f.Converged {
		if maxAbs(eta) > separationEta {
			return nil, separationErr(eta, n)
		}
		return nil, fmt.Errorf("%w after %d iterations", ErrNoConvergence, f.Iterations)
	}

	f.Coef = beta
	f.Fitted = make([]float64, n)
	resid := make([]float64, n)
	for i := range n {
		mu := invLogit(eta[i])
		f.Fitted[i] = mu
		resid[i] = y[i] - mu
		sw := math.Sqrt(mu * (1 - mu))
		for j := range k {
			wx.Set(i, j, sw*D.At(i, j))
		}
	}
	_, bread, err := lsqScratch(wx, z, true) // (X'WX)^-1 at the solution; wx is not read again
	if err != nil {
		return nil, err
	}
	nf, kf := float64(n), float64(k)
	switch opt.SE {
	case Classical:
		f.Vcov = bread
	case HC1:
		f.Vcov = sandwich(D, resid, nil, bread, nf/(nf-kf))
	case Cluster:
		if len(opt.Clusters) != n {
			return nil, errorf("cluster SE needs one cluster label per observation (got %d for %d)", len(opt.Clusters), n)
		}
		g := numClusters(opt.Clusters)
		if g < 2 {
			return nil, errorf("cluster SE needs at least 2 clusters (got %d)", g)
		}
		f.NClusters = g
		gf := float64(g)
		f.Vcov = sandwich(D, resid, opt.Clusters, bread, gf/(gf-1)*(nf-1)/(nf-kf))
	default:
		return nil, errorf("unknown SE type %v", opt.SE)
	}
	tmp := Fit{Coef: f.Coef, Vcov: f.Vcov}
	tmp.fillInference(level, true)
	f.SE, f.Z, f.P, f.CILow, f.CIHigh = tmp.SE, tmp.T, tmp.P, tmp.CILow, tmp.CIHigh

	f.LogLik = logLik(y, eta)
	f.Deviance = -2 * f.LogLik
	f.AIC = f.Deviance + 2*kf
	p0 := 0.5
	if opt.Intercept {
		p0 = ones / nf
	}
	f.NullLogLik = ones*math.Log(p0) + (nf-ones)*math.Log1p(-p0)
	f.NullDeviance = -2 * f.NullLogLik
	return f, nil
}

func separationErr(eta []float64, n int) error {
	var c int
	for _, e := range eta {
		if math.Abs(e) > separationEta {
			c++
		}
	}
	return fmt.Errorf("%w (%d of %d observations fitted with probability 0 or 1)", ErrSeparation, c, n)
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}

func invLogit(e float64) float64 {
	if e >= 0 {
		return 1 / (1 + math.Exp(-e))
	}
	x := math.Exp(e)
	return x / (1 + x)
}

// logLik is Σ y·eta - log(1+e^eta), with a stable softplus.
func logLik(y, eta []float64) float64 {
	var s float64
	for i, e := range eta {
		s += y[i]*e - (max(e, 0) + math.Log1p(math.Exp(-math.Abs(e))))
	}
	return s
}
