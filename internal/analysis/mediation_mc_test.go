package analysis

import (
	"math"
	"testing"
)

// productCDF is P(XY <= z) for independent X ~ N(mx, sx²), Y ~ N(my, sy²), by the midpoint
// rule over x (the integrand is bounded, so the step at x = 0 costs O(h)).
func productCDF(z, mx, sx, my, sy float64) float64 {
	const steps = 200000
	lo, hi := mx-12*sx, mx+12*sx
	h := (hi - lo) / steps
	sum := 0.0
	for i := range steps {
		x := lo + (float64(i)+0.5)*h
		px := math.Exp(-0.5*sq((x-mx)/sx)) / (sx * math.Sqrt(2*math.Pi))
		if x == 0 {
			continue
		}
		p := 0.5 * math.Erfc(-((z/x)-my)/(sy*math.Sqrt2)) // P(Y <= z/x)
		if x < 0 {
			p = 1 - p
		}
		sum += px * p
	}
	return sum * h
}

func sq(v float64) float64 { return v * v }

// productQuantile inverts productCDF by bisection.
func productQuantile(p, mx, sx, my, sy float64) float64 {
	m := math.Abs(mx) + 12*sx
	n := math.Abs(my) + 12*sy
	lo, hi := -m*n, m*n
	for range 60 {
		mid := (lo + hi) / 2
		if productCDF(mid, mx, sx, my, sy) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// The Monte Carlo interval is the 2.5% and 97.5% quantiles of the distribution of the product
// a·b with a ~ N(â, SEA²) and b ~ N(b̂, SEB²) independent (Selig & Preacher 2008; MacKinnon,
// Lockwood & Williams 2004). Check it against that distribution's exact quantiles, computed by
// numerical integration, on the R fixture with classical and with cluster-robust SEs.
func TestMediationMonteCarloCIMatchesProductDistribution(t *testing.T) {
	c := readCSV(t, "testdata/mediation.csv")
	x, m, y := floats(t, c["x"]), floats(t, c["m"]), floats(t, c["y"])
	cl := ints(t, c["cluster"])
	const reps = 200000
	for _, clusters := range [][]int{nil, cl} {
		r, err := Mediation(x, m, y, clusters, MediationOptions{Reps: reps, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		lo := productQuantile(0.025, r.A, r.SEA, r.B, r.SEB)
		hi := productQuantile(0.975, r.A, r.SEA, r.B, r.SEB)
		// A sample quantile's SE is sqrt(p(1-p)/n)/f(q); with n = 2e5 it is well under 1% of
		// the interval's width here.
		tol := 0.01 * (hi - lo)
		if math.Abs(r.MCLow-lo) > tol || math.Abs(r.MCHigh-hi) > tol {
			t.Errorf("clusters=%v: Monte Carlo CI [%.5f, %.5f], exact product-distribution quantiles [%.5f, %.5f]", clusters != nil, r.MCLow, r.MCHigh, lo, hi)
		}
		// The product distribution is skewed: the interval is not symmetric about a·b, unlike
		// Sobel's normal approximation.
		t.Logf("clusters=%v: a·b %.4f, MC [%.4f, %.4f], exact [%.4f, %.4f], Sobel [%.4f, %.4f]", clusters != nil, r.Indirect, r.MCLow, r.MCHigh, lo, hi,
			r.Indirect-1.959964*r.Indirect/r.SobelZ, r.Indirect+1.959964*r.Indirect/r.SobelZ)
	}
}

// Published reference: RMediation's methods-comparison vignette (Tofighi & MacKinnon; RMediation
// 1.5.0) computes, for a = 0.5 (SE 0.08) and b = 0.6 (SE 0.04), the 95% CI of a·b as
// [0.201, 0.405] by the distribution of the product (Meeker & Escobar 1994) and [0.201, 0.406]
// by Monte Carlo. Both our Monte Carlo interval and the exact quantiles used as the oracle
// above must give those values to the printed three decimals.
func TestProductCIMatchesRMediation(t *testing.T) {
	lo, hi := ProductCI(0.5, 0.08, 0.6, 0.04, 400_000, 1, 0.95)
	if math.Abs(lo-0.201) > 0.0015 || math.Abs(hi-0.406) > 0.0015 {
		t.Errorf("Monte Carlo CI [%.4f, %.4f], RMediation [0.201, 0.406]", lo, hi)
	}
	elo, ehi := productQuantile(0.025, 0.5, 0.08, 0.6, 0.04), productQuantile(0.975, 0.5, 0.08, 0.6, 0.04)
	if math.Abs(elo-0.201) > 0.0006 || math.Abs(ehi-0.405) > 0.0006 {
		t.Errorf("distribution of the product [%.4f, %.4f], RMediation [0.201, 0.405]", elo, ehi)
	}
}
