package analysis

import (
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Upper-tail probabilities are computed from the regularised incomplete beta
// function directly rather than as 1-CDF, so small p-values keep their
// relative precision.

// fSurvival returns P(F(d1,d2) > f).
func fSurvival(f, d1, d2 float64) float64 {
	if math.IsNaN(f) {
		return math.NaN()
	}
	if f <= 0 {
		return 1
	}
	if math.IsInf(f, 1) {
		return 0
	}
	return mathext.RegIncBeta(d2/2, d1/2, d2/(d2+d1*f))
}

// tTwoSided returns P(|T(df)| > |t|).
func tTwoSided(t, df float64) float64 {
	if math.IsNaN(t) {
		return math.NaN()
	}
	if math.IsInf(t, 0) {
		return 0
	}
	return mathext.RegIncBeta(df/2, 0.5, df/(df+t*t))
}

// zTwoSided returns P(|Z| > |z|) for a standard normal Z.
func zTwoSided(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// tCrit returns the (1+level)/2 quantile of Student's t with df degrees of freedom.
func tCrit(level, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile((1 + level) / 2)
}

// zCrit returns the (1+level)/2 quantile of the standard normal.
func zCrit(level float64) float64 {
	return distuv.UnitNormal.Quantile((1 + level) / 2)
}

func checkLevel(level float64) (float64, error) {
	if level == 0 {
		return 0.95, nil
	}
	if !(level > 0 && level < 1) {
		return 0, errorf("confidence level %v not in (0,1)", level)
	}
	return level, nil
}
