package behavioral

import (
	"math"
	"testing"
)

// Study 3's social-influence calibration target (Fowler & Christakis 2010, PNAS 107:5334,
// cooperation cascades in public goods games: one unit more given by a subject raises what
// the people it met give by about .19 in later periods, those they met by .07 and the next
// by .06). prosim's measure: on the original study's graph and agents (prosim104) in the
// reward-inequity design of examples/study3-network.yaml, the last round's willingness effect
// (inequity minus control twin) at distance 1, 2 and 3+ relative to the victims' effect.
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
