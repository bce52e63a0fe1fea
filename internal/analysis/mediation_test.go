package analysis

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Paths a, b, c, c' and their SEs vs R lm + sandwich::vcovCL (testdata/fixtures.R).
func TestMediationVsR(t *testing.T) {
	ref := rRef(t)
	c := readCSV(t, "testdata/mediation.csv")
	x, m, y, cv := floats(t, c["x"]), floats(t, c["m"]), floats(t, c["y"]), floats(t, c["cov"])
	cl := ints(t, c["cluster"])
	for _, withCov := range []bool{false, true} {
		tag := "med"
		opt := MediationOptions{Reps: 500, Seed: 1}
		if withCov {
			tag = "med.cov"
			opt.Covariates = mat.NewDense(len(cv), 1, cv)
		}
		for _, clustered := range []bool{false, true} {
			var cls []int
			kind := "classical"
			if clustered {
				cls, kind = cl, "cluster"
			}
			r, err := Mediation(x, m, y, cls, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkRel(t, tag+".a", r.A, ref(tag+".a"), 1e-10)
			checkRel(t, tag+".b", r.B, ref(tag+".b"), 1e-10)
			checkRel(t, tag+".c", r.C, ref(tag+".c"), 1e-10)
			checkRel(t, tag+".cprime", r.CPrime, ref(tag+".cprime"), 1e-10)
			checkRel(t, tag+" se a "+kind, r.SEA, ref(tag+".se.a."+kind), 1e-10)
			checkRel(t, tag+" se b "+kind, r.SEB, ref(tag+".se.b."+kind), 1e-10)
			// OLS identity c = c' + a·b on one sample with the same covariates.
			if d := math.Abs(r.C - (r.CPrime + r.Indirect)); d > 1e-12 {
				t.Errorf("%s: c - (c' + ab) = %g", tag, d)
			}
			if !(r.BootLow < r.Indirect && r.Indirect < r.BootHigh && r.MCLow < r.Indirect && r.Indirect < r.MCHigh) {
				t.Errorf("%s: CIs [%g,%g] / [%g,%g] do not contain the estimate %g", tag, r.BootLow, r.BootHigh, r.MCLow, r.MCHigh, r.Indirect)
			}
			if clustered && r.NClusters != 25 {
				t.Errorf("clusters = %d", r.NClusters)
			}
		}
	}
}

func TestMediationDeterministic(t *testing.T) {
	x, m, y, cl := simMediation(rand.New(rand.NewPCG(3, 4)), 20, 5, 0.4, 0.4)
	r1, err := Mediation(x, m, y, cl, MediationOptions{Reps: 300, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Mediation(x, m, y, cl, MediationOptions{Reps: 300, Seed: 9})
	r3, _ := Mediation(x, m, y, cl, MediationOptions{Reps: 300, Seed: 10})
	if r1.BootLow != r2.BootLow || r1.MCHigh != r2.MCHigh {
		t.Error("same seed gave different intervals")
	}
	if r1.BootLow == r3.BootLow {
		t.Error("different seeds gave identical bootstrap intervals")
	}
}

// simMediation draws G clusters of size s with cluster random intercepts in
// m and y: m = a·x + u + e, y = b·m + 0.2·x + v + e.
func simMediation(r *rand.Rand, G, s int, a, b float64) (x, m, y []float64, cl []int) {
	for g := range G {
		u, v := 0.5*r.NormFloat64(), 0.5*r.NormFloat64()
		for range s {
			xi := r.NormFloat64()
			mi := a*xi + u + r.NormFloat64()
			x = append(x, xi)
			m = append(m, mi)
			y = append(y, b*mi+0.2*xi+v+r.NormFloat64())
			cl = append(cl, g)
		}
	}
	return
}

// Coverage of the 95% intervals for a known indirect effect a·b = 0.16 over
// 200 seeded data sets; binomial SD at 0.95 is 0.015, so 0.88..0.99 only
// fails for a real defect. The clustered run checks the cluster bootstrap and
// cluster-robust Monte Carlo intervals.
func TestMediationCoverage(t *testing.T) {
	const trueAB, sims = 0.4 * 0.4, 200
	reps := 400
	if testing.Short() {
		reps = 200
	}
	for _, clustered := range []bool{false, true} {
		var bootHit, mcHit int
		for s := range sims {
			x, m, y, cl := simMediation(rand.New(rand.NewPCG(uint64(s), 77)), 40, 4, 0.4, 0.4)
			if !clustered {
				cl = nil
			}
			r, err := Mediation(x, m, y, cl, MediationOptions{Reps: reps, Seed: uint64(1000 + s)})
			if err != nil {
				t.Fatal(err)
			}
			if r.BootLow <= trueAB && trueAB <= r.BootHigh {
				bootHit++
			}
			if r.MCLow <= trueAB && trueAB <= r.MCHigh {
				mcHit++
			}
		}
		for name, hit := range map[string]int{"bootstrap": bootHit, "Monte Carlo": mcHit} {
			cov := float64(hit) / sims
			t.Logf("clustered=%v %s coverage %.3f", clustered, name, cov)
			if cov < 0.88 || cov > 0.99 {
				t.Errorf("clustered=%v %s coverage %.3f outside [0.88, 0.99]", clustered, name, cov)
			}
		}
	}
}

// The bootstrap solves normal equations from summed per-unit cross products;
// on the full sample (each unit once) they must reproduce R's a and b.
func TestSolveNormalMatchesR(t *testing.T) {
	ref := rRef(t)
	c := readCSV(t, "testdata/mediation.csv")
	x, m, y, cv := floats(t, c["x"]), floats(t, c["m"]), floats(t, c["y"]), floats(t, c["cov"])
	mx, mm, my, mc := mean(x), mean(m), mean(y), mean(cv)
	const nz = 5 // [1 x m cov y]
	s := make([]float64, nz*nz)
	for i := range x {
		z := []float64{1, x[i] - mx, m[i] - mm, cv[i] - mc, y[i] - my}
		for j := range nz {
			for l := j; l < nz; l++ {
				s[j*nz+l] += z[j] * z[l]
			}
		}
	}
	work := make([]float64, (nz+1)*nz)
	a, okA := solveNormal(s, nz, []int{0, 1, 3}, 2, 1, work)
	b, okB := solveNormal(s, nz, []int{0, 1, 2, 3}, 4, 2, work)
	if !okA || !okB {
		t.Fatal("singular")
	}
	checkRel(t, "a", a, ref("med.cov.a"), 1e-10)
	checkRel(t, "b", b, ref("med.cov.b"), 1e-10)
	s[1*nz+1] = s[0*nz+1] * s[0*nz+1] / s[0] // make x collinear with the intercept
	if _, ok := solveNormal(s, nz, []int{0, 1, 3}, 2, 1, work); ok {
		t.Error("singular system not detected")
	}
}

// No observations is an error, not a panic in the matrix library (Study 3 with nobody at
// distance 1 used to crash here).
func TestMediationEmpty(t *testing.T) {
	if _, err := Mediation(nil, nil, nil, nil, MediationOptions{Reps: 10}); err == nil || !strings.Contains(err.Error(), "no observations") {
		t.Errorf("got %v", err)
	}
	if _, err := Mediation([]float64{}, []float64{}, []float64{}, []int{}, MediationOptions{Reps: 10}); err == nil {
		t.Error("empty clustered sample accepted")
	}
}
