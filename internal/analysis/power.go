package analysis

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// MDE is the minimum detectable effect of an estimate with standard error se: the smallest
// true effect a two-sided z test at level alpha detects with probability power,
// (z_{1-alpha/2} + z_{power}) * se (2.80 se at alpha 0.05 and power 0.8).
func MDE(se, alpha, power float64) float64 {
	n := distuv.UnitNormal
	return (n.Quantile(1-alpha/2) + n.Quantile(power)) * se
}

// SampleFactor is how many times larger a sample must be for an MDE of mde to fall to
// target, when the standard error shrinks as 1/sqrt(n): (mde/target)^2. NaN when target is 0.
func SampleFactor(mde, target float64) float64 {
	if target == 0 {
		return math.NaN()
	}
	r := mde / target
	return r * r
}
