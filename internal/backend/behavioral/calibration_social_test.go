package behavioral

import (
	"math"
	"testing"
)

// Study 3's social-influence calibration target: the figures of Fowler & Christakis 2010 (PNAS
// 107:5334, cooperation cascades in public goods games: .19, .07 and .06 at one, two and three
// degrees) put on prosim's own measure, which is not F&C's estimand (humanFCBeta is): on the
// original study's graph and agents (prosim104) in the reward-inequity design of
// examples/study3-network.yaml, the last round's willingness effect (inequity minus control
// twin) at distance 1, 2 and 3+ relative to the victims' effect.
var humanSpreadByHop = [4]float64{1, .19, .07, .06}

// fitSocial fits social.Influence (go test -run TestFit -fit -fitonly social) to the distance-1
// target alone, on a grid over 0..1.5 by .05 with 200 replicates of the design (seed 1): the
// channel cannot reach the distance-2 and 3+ targets at any strength (they stay near .03 and
// .005, see the package doc), so they do not steer the fit; they are printed beside it.
func fitSocial(t *testing.T) {
	d := prosim104(t)
	d.seed = 1
	keep := social
	defer func() { social = keep }()
	best, bestL := 0.0, math.Inf(1)
	for k := 0; k <= 30; k++ {
		social.Influence = .05 * float64(k)
		e := d.run(t, New(), 200)
		l := sq(e.Rel(1) - humanSpreadByHop[1])
		t.Logf("Influence %.2f: last-round effect victims %+.3f; relative d1 %.3f d2 %.3f d3+ %.3f; loss %.6f", social.Influence, e.Last(0), e.Rel(1), e.Rel(2), e.Rel(3), l)
		if l < bestL {
			best, bestL = social.Influence, l
		}
	}
	t.Logf("fitted social: socialConsts{Influence: %.2f} (loss %.6f)", best, bestL)
}

// TestCalibrationSocialSpread plays the design with the fitted constants on other replicates
// (seed 2) and compares the relative effects by hop with the target. Distance 1 is fitted;
// distances 2 and 3+ stay far below it (the package doc says why), so they are checked only
// to decay by hop.
func TestCalibrationSocialSpread(t *testing.T) {
	d := prosim104(t)
	d.seed = 2
	e := d.run(t, New(), 200)
	t.Logf("last round: victims %+.3f, distance 1 %+.3f, 2 %+.3f, 3+ %+.3f; relative %.3f %.3f %.3f (target %.2f %.2f %.2f)",
		e.Last(0), e.Last(1), e.Last(2), e.Last(3), e.Rel(1), e.Rel(2), e.Rel(3), humanSpreadByHop[1], humanSpreadByHop[2], humanSpreadByHop[3])
	t.Logf("mean over rounds %d-%d: victims %+.3f, distance 1 %+.3f, 2 %+.3f, 3+ %+.3f", d.from, d.rounds, e.Mean[0], e.Mean[1], e.Mean[2], e.Mean[3])
	if math.Abs(e.Rel(1)-humanSpreadByHop[1]) > .04 {
		t.Errorf("distance 1: relative effect %.3f, target %.2f", e.Rel(1), humanSpreadByHop[1])
	}
	if !(e.Rel(1) > e.Rel(2) && e.Rel(2) > e.Rel(3) && e.Rel(3) >= 0) {
		t.Errorf("the relative effect should decay by hop: %.3f %.3f %.3f", e.Rel(1), e.Rel(2), e.Rel(3))
	}
}

// humanFCBeta are Fowler & Christakis's coefficients on their own estimand (degrees 1, 2, 3):
// what one unit more in the mean of a subject's degree-d alters' contributions d periods
// before adds to the subject's contribution (calibration_fc_test.go: the estimand on the twin
// design).
var humanFCBeta = [3]float64{.19, .07, .06}

// fcBetaModel are the model's coefficients on that estimand at the constants in use, as the
// package doc states them (TestCalibrationSocialFC: seed 2, 200 replicates).
var fcBetaModel = [3]float64{.484, .208, .062}

// fitSocialFC (go test -run TestFit -fit -fitonly socialfc) asks what fitting Influence to F&C's
// beta_1 alone on their estimand would give: a grid over 0..1.5 by .05, then by .01 around the
// best, 200 replicates of the design (seed 1); beta_2 and beta_3 do not steer it. The best is
// then played on other replicates (seed 2) with bootstrap CIs and held against beta_2 and
// beta_3 within a factor 1.5 of F&C's. It prints; it changes nothing (the package doc says
// what was measured and why Influence was kept).
func fitSocialFC(t *testing.T) {
	d := prosim104(t)
	d.seed = 1
	keep := social
	defer func() { social = keep }()
	best, bestL := 0.0, math.Inf(1)
	try := func(infl float64) {
		social.Influence = infl
		b, _ := d.fcBetas(t, New(), 200, 0, false)
		l := sq(b.Beta[0] - humanFCBeta[0])
		t.Logf("Influence %.2f: beta %.3f %.3f %.3f; loss %.6f", infl, b.Beta[0], b.Beta[1], b.Beta[2], l)
		if l < bestL {
			best, bestL = infl, l
		}
	}
	for k := 0; k <= 30; k++ {
		try(.05 * float64(k))
	}
	c := best
	for k := -4; k <= 4; k++ {
		if x := c + .01*float64(k); k != 0 && x >= 0 {
			try(x)
		}
	}
	social.Influence = best
	d.seed = 2
	b, _ := d.fcBetas(t, New(), 200, 1000, false)
	t.Logf("fitted to beta_1: Influence %.2f (loss %.6f); held out (seed 2): beta_1 %.3f [%.3f, %.3f], beta_2 %.3f [%.3f, %.3f], beta_3 %.3f [%.3f, %.3f] (F&C %.2f %.2f %.2f)",
		best, bestL, b.Beta[0], b.Lo[0], b.Hi[0], b.Beta[1], b.Lo[1], b.Hi[1], b.Beta[2], b.Lo[2], b.Hi[2], humanFCBeta[0], humanFCBeta[1], humanFCBeta[2])
	for h := 1; h < 3; h++ {
		in := b.Beta[h] >= humanFCBeta[h]/1.5 && b.Beta[h] <= 1.5*humanFCBeta[h]
		t.Logf("beta_%d within 1.5x of %.2f: %v", h+1, humanFCBeta[h], in)
	}
}

// TestCalibrationSocialFC measures the model on F&C's own estimand (exposure-chain alters, the
// regression of calibration_fc_test.go; seed 2, 200 replicates, 1,000 bootstrap resamples of
// replicates) and checks what the package doc says of it: spread reaches degree 2 (CIs of beta_1
// and beta_2 above 0), the coefficients fall by degree, and they are the doc's figures. Nothing
// is fitted to these coefficients (Influence is fitted to the relative distance-1 effect), so
// the comparison with F&C's .19 / .07 / .06 is held out; the doc says why they differ.
func TestCalibrationSocialFC(t *testing.T) {
	d := prosim104(t)
	d.seed = 2
	b, fe := d.fcBetas(t, New(), 200, 1000, false)
	g, gfe := d.fcBetas(t, New(), 200, 1000, true)
	for _, r := range []struct {
		name string
		b    fcResult
	}{{"exposure chain", b}, {"exposure chain, day fixed effects", fe}, {"graph distance", g}, {"graph distance, day fixed effects", gfe}} {
		t.Logf("%s: beta_1 %.3f [%.3f, %.3f] (%d agent-days), beta_2 %.3f [%.3f, %.3f] (%d), beta_3 %.3f [%.3f, %.3f] (%d); F&C %.2f %.2f %.2f",
			r.name, r.b.Beta[0], r.b.Lo[0], r.b.Hi[0], r.b.N[0], r.b.Beta[1], r.b.Lo[1], r.b.Hi[1], r.b.N[1], r.b.Beta[2], r.b.Lo[2], r.b.Hi[2], r.b.N[2],
			humanFCBeta[0], humanFCBeta[1], humanFCBeta[2])
	}
	if !(b.Lo[0] > 0 && b.Lo[1] > 0) {
		t.Errorf("spread should reach degree 2: beta_1 CI low %.3f, beta_2 CI low %.3f", b.Lo[0], b.Lo[1])
	}
	if !(b.Beta[0] > b.Beta[1] && b.Beta[1] > b.Beta[2]) {
		t.Errorf("the coefficients should fall by degree: %.3f %.3f %.3f", b.Beta[0], b.Beta[1], b.Beta[2])
	}
	for h := range 3 {
		if math.Abs(b.Beta[h]-fcBetaModel[h]) > .01 {
			t.Errorf("beta_%d = %.3f, the package doc says %.3f: update fcBetaModel and doc.go", h+1, b.Beta[h], fcBetaModel[h])
		}
	}
}
