package analysis

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"

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
	N, K           int // trials, coefficients
	NClusters      int
	LogLik         float64
	NullLogLik     float64 // intercept-only model (or p = 1/2 without intercept)
	Deviance       float64 // -2 LogLik
	NullDeviance   float64
	AIC            float64
	Iterations     int
	Converged      bool
	Fitted         []float64 // fitted probabilities, per row of X (LogisticCounts: per pattern)
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
	n, _ := X.Dims()
	if len(y) != n {
		return nil, errorf("len(y)=%d but X has %d rows", len(y), n)
	}
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, errorf("y[%d]=%v: outcome must be 0 or 1", i, v)
		}
	}
	if opt.SE == Cluster && len(opt.Clusters) != n {
		return nil, errorf("cluster SE needs one cluster label per observation (got %d for %d)", len(opt.Clusters), n)
	}
	// Each observation is its own covariate pattern of one trial.
	f, D, err := logitFit(X, nil, y, names, opt)
	if err != nil {
		return nil, err
	}
	resid := make([]float64, n)
	for i := range n {
		resid[i] = y[i] - f.Fitted[i]
	}
	switch opt.SE {
	case Classical:
	case HC1:
		f.Vcov = sandwich(D, resid, nil, f.Vcov, seScale(HC1, n, f.K, 0))
	case Cluster:
		g := numClusters(opt.Clusters)
		if g < 2 {
			return nil, errorf("cluster SE needs at least 2 clusters (got %d)", g)
		}
		f.NClusters = g
		f.Vcov = sandwich(D, resid, opt.Clusters, f.Vcov, seScale(Cluster, n, f.K, g))
	default:
		return nil, errorf("unknown SE type %v", opt.SE)
	}
	return f, f.infer(opt)
}

// CountCell is the trials of one cluster at one covariate pattern (a row of the patterns'
// design) and how many of them had outcome 1.
type CountCell struct {
	Pattern           int
	Trials, Successes float64
}

// LogisticCounts fits the model Logistic fits to binary trials whose regressors are discrete,
// from counts: X has one row per covariate pattern, and clusters yields each cluster's cells
// (a cluster once, with its cells; opt.Clusters is not read). It is called twice: for the
// patterns' totals, then at the solution for the sandwich. The estimates, deviances and
// covariances (Classical, HC1 and Cluster alike, with n the number of trials) are Logistic's on
// the trials the counts stand for, up to rounding, while its memory is the patterns' and one
// cluster's cells, not the trials'. Fitted holds one probability per pattern.
func LogisticCounts(X *mat.Dense, clusters iter.Seq[[]CountCell], names []string, opt LogitOptions) (*LogitFit, error) {
	np, _ := X.Dims()
	m, s := make([]float64, np), make([]float64, np)
	g := 0
	var bad error
	for cells := range clusters {
		g++
		for _, c := range cells {
			if c.Pattern < 0 || c.Pattern >= np || c.Trials < 0 || c.Successes < 0 || c.Successes > c.Trials {
				bad = errorf("cell %+v: pattern out of range or successes not within 0..trials", c)
				continue
			}
			m[c.Pattern] += c.Trials
			s[c.Pattern] += c.Successes
		}
	}
	if bad != nil {
		return nil, bad
	}
	// A pattern without trials has no weight: it is left out of the fit. row maps X's
	// patterns to the fit's rows (-1: left out).
	row := make([]int, np)
	used, fm, fs := X, m, s
	kept := 0
	for i := range np {
		row[i] = -1
		if m[i] > 0 {
			row[i] = kept
			kept++
		}
	}
	if kept < np {
		_, p := X.Dims()
		used, fm, fs = mat.NewDense(max(kept, 1), p, nil), make([]float64, max(kept, 1)), make([]float64, max(kept, 1))
		for i, r := range row {
			if r >= 0 {
				used.SetRow(r, X.RawRowView(i))
				fm[r], fs[r] = m[i], s[i]
			}
		}
	}
	f, D, err := logitFit(used, fm, fs, names, opt)
	if err != nil {
		return nil, err
	}
	fitted := make([]float64, np) // per pattern of X; NaN for one without trials
	for i, r := range row {
		fitted[i] = math.NaN()
		if r >= 0 {
			fitted[i] = f.Fitted[r]
		}
	}
	f.Fitted = fitted
	_, k := D.Dims()
	meat := mat.NewSymDense(k, nil)
	u := make([]float64, k)
	score := mat.NewVecDense(k, u)
	switch opt.SE {
	case Classical:
	case HC1:
		// Each trial is its own cluster: a cell adds Successes rank-one terms of x(1-p) and
		// Trials-Successes of x(0-p).
		for cells := range clusters {
			for _, c := range cells {
				r := row[c.Pattern]
				mu := fitted[c.Pattern]
				for _, t := range [2]struct{ n, e float64 }{{c.Successes, 1 - mu}, {c.Trials - c.Successes, -mu}} {
					if t.n == 0 {
						continue
					}
					for j := range k {
						u[j] = D.At(r, j) * t.e
					}
					meat.SymRankOne(meat, t.n, score)
				}
			}
		}
		f.Vcov = bake(f.Vcov, meat, seScale(HC1, f.N, f.K, 0))
	case Cluster:
		if g < 2 {
			return nil, errorf("cluster SE needs at least 2 clusters (got %d)", g)
		}
		f.NClusters = g
		for cells := range clusters {
			clear(u)
			for _, c := range cells {
				if c.Trials == 0 {
					continue
				}
				r := row[c.Pattern]
				e := c.Successes - c.Trials*fitted[c.Pattern]
				for j := range k {
					u[j] += D.At(r, j) * e
				}
			}
			meat.SymRankOne(meat, 1, score)
		}
		f.Vcov = bake(f.Vcov, meat, seScale(Cluster, f.N, f.K, g))
	default:
		return nil, errorf("unknown SE type %v", opt.SE)
	}
	return f, f.infer(opt)
}

// seScale is the small-sample factor of a sandwich covariance of Logistic and LogisticCounts
// (n trials, k coefficients): n/(n-k) for HC1, G/(G-1)·(n-1)/(n-k) for Cluster with g clusters.
func seScale(se SEType, n, k, g int) float64 {
	nf, kf := float64(n), float64(k)
	if se == Cluster {
		gf := float64(g)
		return gf / (gf - 1) * (nf - 1) / (nf - kf)
	}
	return nf / (nf - kf)
}

// logitFit is the one Newton-Raphson fit behind Logistic and LogisticCounts: row i of X is a
// covariate pattern with m[i] trials (1 each when m is nil), s[i] of them with outcome 1. It
// returns the fit with Coef, Fitted (per row), the counts and Vcov the inverse information
// (X'WX)^-1, and the design read (with its intercept column).
func logitFit(X *mat.Dense, m, s []float64, names []string, opt LogitOptions) (*LogitFit, mat.Matrix, error) {
	n, p := X.Dims()
	if names != nil && len(names) != p {
		return nil, nil, errorf("%d names for %d columns", len(names), p)
	}
	if _, err := checkLevel(opt.Level); err != nil {
		return nil, nil, err
	}
	trials := func(i int) float64 {
		if m == nil {
			return 1
		}
		return m[i]
	}
	var ones, total float64
	for i, v := range s {
		ones += v
		total += trials(i)
	}
	if ones == 0 || ones == total {
		return nil, nil, fmt.Errorf("%w (outcome is constant: %s of %s are 1)", ErrSeparation, count(ones), count(total))
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
	if total <= float64(k) {
		return nil, nil, fmt.Errorf("%w: n=%s, k=%d", ErrTooFew, count(total), k)
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
	// The log-likelihood of the trials: Σ s·eta - m·log(1+e^eta), with a stable softplus.
	dev := func() float64 {
		var l float64
		for i, e := range eta {
			l += s[i]*e - trials(i)*(max(e, 0)+math.Log1p(math.Exp(-math.Abs(e))))
		}
		return -2 * l
	}
	separated := func() error {
		var c float64
		for i, e := range eta {
			if math.Abs(e) > separationEta {
				c += trials(i)
			}
		}
		return fmt.Errorf("%w (%s of %s observations fitted with probability 0 or 1)", ErrSeparation, count(c), count(total))
	}
	linpred(beta)
	d := dev()
	f := &LogitFit{Names: nm, N: int(total), K: k, SEType: opt.SE}
	wx := mat.NewDense(n, k, nil)
	z := make([]float64, n)
	prevEta := make([]float64, n)
	for it := 1; it <= maxIter; it++ {
		f.Iterations = it
		for i := range n {
			// p and 1-p each computed directly so that neither the weight nor
			// the residual s - m·p (= s(1-p) - (m-s)p) underflows to 0 when |eta| is
			// large (separation).
			p1, p0 := invLogit(eta[i]), invLogit(-eta[i])
			mi := trials(i)
			w := mi * p1 * p0
			r := s[i]*p0 - (mi-s[i])*p1
			sw := math.Sqrt(w)
			for j := range k {
				wx.Set(i, j, sw*D.At(i, j))
			}
			z[i] = sw*eta[i] + r/sw
		}
		nb, _, err := lsqScratch(wx, z, false) // wx is rebuilt before each use
		if err != nil {
			if errors.Is(err, ErrCollinear) && maxAbs(eta) > separationEta {
				return nil, nil, separated()
			}
			return nil, nil, err
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
			return nil, nil, separated()
		}
		return nil, nil, fmt.Errorf("%w after %d iterations", ErrNoConvergence, f.Iterations)
	}

	f.Coef = beta
	f.Fitted = make([]float64, n)
	for i := range n {
		mu := invLogit(eta[i])
		f.Fitted[i] = mu
		sw := math.Sqrt(trials(i) * mu * (1 - mu))
		for j := range k {
			wx.Set(i, j, sw*D.At(i, j))
		}
	}
	_, bread, err := lsqScratch(wx, z, true) // (X'WX)^-1 at the solution; wx is not read again
	if err != nil {
		return nil, nil, err
	}
	f.Vcov = bread
	f.LogLik = -dev() / 2
	f.Deviance = -2 * f.LogLik
	f.AIC = f.Deviance + 2*float64(k)
	p0 := 0.5
	if opt.Intercept {
		p0 = ones / total
	}
	f.NullLogLik = ones*math.Log(p0) + (total-ones)*math.Log1p(-p0)
	f.NullDeviance = -2 * f.NullLogLik
	return f, D, nil
}

// infer fills the Wald inference from Coef and Vcov.
func (f *LogitFit) infer(opt LogitOptions) error {
	level, err := checkLevel(opt.Level)
	if err != nil {
		return err
	}
	tmp := Fit{Coef: f.Coef, Vcov: f.Vcov}
	tmp.fillInference(level, true)
	f.SE, f.Z, f.P, f.CILow, f.CIHigh = tmp.SE, tmp.T, tmp.P, tmp.CILow, tmp.CIHigh
	return nil
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

// count writes a count summed as a float in full, as an integer is (%v would write
// 1,200,000 trials as 1.2e+06).
func count(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
