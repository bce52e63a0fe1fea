package behavioral

import (
	"flag"
	"fmt"
	"math"
	"strings"
	"testing"
)

// Human calibration targets, with their sources (../shared/reference/).
var (
	// human_tpp.md: 1,017 adults, the Study 2 game; punishment rate by x (costs pooled).
	humanTPPByX = map[int]float64{10: .571, 11: .519, 12: .437, 13: .322, 14: .154}
	// human_tpp.md: punishment rate by cost y, unfair offers (x < 15) pooled.
	humanTPPByY = [10]float64{.713, .601, .532, .438, .377, .380, .311, .241, .219, .192}
	// human_tpp.md: participant means for fair offers (x = 15), low (y 0-4) and high (5-9) cost.
	humanTPPFairLow, humanTPPFairHigh = .122, .079
	// human_games.md (Engel 2011): dictator giving by decile of the pie, and the mean share.
	humanDictator     = [11]float64{.31, .08, .09, .09, .08, .21, .03, .01, .01, .01, .07}
	humanDictatorMean = .2835
	// human_games.md (Oosterbeek et al. 2004): mean offer .40; offers below ~20% rejected
	// about half the time; 40-50% almost always accepted; 16% of offers rejected.
	humanUGOffer, humanUGRejLow, humanUGRejAll = .40, .50, .16
	// human_games.md (Johnson & Mislin 2011): share sent .509, share of received returned .365.
	humanTrustSent, humanTrustReturned = .509, .365
	// human_games.md (Fehr & Fischbacher 2004): ~60% punish transfers below half; points
	// about 0.28*(50 - transfer).
	humanGradedRate, humanGradedSlope = .60, .28
)

var (
	fitFlag = flag.Bool("fit", false, "run the calibration fit and print the fitted constants")
	fitOnly = flag.String("fitonly", "", "with -fit: fit only this part (tpp, games)")
)

// ---- analytic model statistics (expected values over a population) ------------------------

type tppStats struct {
	byX           [5]float64 // x = 10..14, y pooled
	byY           [10]float64
	fairLow, fair float64 // fair x = 15: y 0-4, y 5-9
	fairHigh      float64
}

func modelTPP(c *gameConsts, ps []params) tppStats {
	var st tppStats
	for i := range ps {
		for x := 10; x <= 15; x++ {
			for y := 0; y <= 9; y++ {
				pr := c.tppProb(&ps[i], float64(x), float64(y), 30, 10)
				switch {
				case x == 15 && y <= 4:
					st.fairLow += pr
				case x == 15:
					st.fairHigh += pr
				default:
					st.byX[x-10] += pr
					st.byY[y] += pr
				}
			}
		}
	}
	n := float64(len(ps))
	for i := range st.byX {
		st.byX[i] /= n * 10
	}
	for i := range st.byY {
		st.byY[i] /= n * 5
	}
	st.fairLow /= n * 5
	st.fairHigh /= n * 5
	return st
}

func tppLoss(st tppStats) float64 {
	var l float64
	for i, h := range humanTPPByX {
		d := st.byX[i-10] - h
		l += d * d
	}
	for i, h := range humanTPPByY {
		d := st.byY[i] - h
		l += d * d
	}
	l += sq(st.fairLow-humanTPPFairLow) + sq(st.fairHigh-humanTPPFairHigh)
	return l
}

func sq(x float64) float64 { return x * x }

func modelDictator(c *gameConsts, ps []params) (dist [11]float64, mean float64) {
	var pr [nGrid]float64
	for i := range ps {
		c.dictatorProbs(&ps[i], &pr)
		for j := range pr {
			dist[j] += pr[j] / float64(len(ps))
			mean += pr[j] * float64(j) / 10 / float64(len(ps))
		}
	}
	return
}

func dictatorLoss(c *gameConsts, ps []params) float64 {
	d, m := modelDictator(c, ps)
	var l float64
	for j := range d {
		l += sq(d[j] - humanDictator[j])
	}
	return l + 2*sq(m-humanDictatorMean)
}

// modelUltimatum: mean offer, rejection at offers of 10-20%, at 40-50%, and overall under the
// model's own offer distribution.
func modelUltimatum(c *gameConsts, ps []params) (offer, rejLow, rejFair, rejAll float64) {
	var pr [nGrid]float64
	n := float64(len(ps))
	for i := range ps {
		p := &ps[i]
		c.proposerProbs(p, &pr)
		for j := range pr {
			offer += pr[j] * float64(j) / 10 / n
		}
		rejLow += (c.rejectProb(p, .1) + c.rejectProb(p, .2)) / 2 / n
		rejFair += (c.rejectProb(p, .4) + c.rejectProb(p, .5)) / 2 / n
	}
	// overall rejection: population offers met by population responders
	var offDist [nGrid]float64
	for i := range ps {
		c.proposerProbs(&ps[i], &pr)
		for j := range pr {
			offDist[j] += pr[j] / n
		}
	}
	for i := range ps {
		for j := range offDist {
			rejAll += offDist[j] * c.rejectProb(&ps[i], float64(j)/10) / n
		}
	}
	return
}

func ultimatumLoss(c *gameConsts, ps []params) float64 {
	o, lo, fair, all := modelUltimatum(c, ps)
	return sq(o-humanUGOffer) + sq(lo-humanUGRejLow) + sq(math.Max(0, fair-.05)) + sq(all-humanUGRejAll)
}

func modelTrust(c *gameConsts, ps []params) (sent, returned float64) {
	var pr, pr2 [nGrid]float64
	n := float64(len(ps))
	var rec, ret float64
	for i := range ps {
		p := &ps[i]
		c.senderProbs(p, 3, &pr)
		for j := range pr {
			sent += pr[j] * float64(j) / 10 / n
			if j == 0 {
				continue
			}
			// a returner drawn from the same population receives 3*j (endowment 10)
			q := &ps[(i*7+3)%len(ps)]
			c.returnerProbs(q, 10, 3, float64(j), &pr2)
			R := 3 * float64(j)
			for k := range pr2 {
				ret += pr[j] * pr2[k] * float64(k) / 10 * R
			}
			rec += pr[j] * R
		}
	}
	return sent, ret / rec
}

func trustLoss(c *gameConsts, ps []params) float64 {
	s, r := modelTrust(c, ps)
	return sq(s-humanTrustSent) + sq(r-humanTrustReturned)
}

// modelGraded: share punishing transfers below half, mean points by transfer 0,10,..,40.
func modelGraded(c *gameConsts, ps []params) (rate float64, pts [5]float64) {
	n := float64(len(ps))
	for i := range ps {
		for k := 0; k < 5; k++ {
			t := float64(10 * k)
			pr := c.gradedProb(&ps[i], t, 100)
			rate += pr / n / 5
			pts[k] += pr * c.gradedMean(&ps[i], t, 100, 3) / n
		}
	}
	return
}

func gradedLoss(c *gameConsts, ps []params) float64 {
	rate, pts := modelGraded(c, ps)
	l := 10 * sq(rate-humanGradedRate)
	for k := range pts {
		l += sq((pts[k] - humanGradedSlope*float64(50-10*k)) / 14)
	}
	return l
}

// coordSearch minimises loss over the pointed-to constants by coordinate search with
// shrinking steps.
func coordSearch(loss func() float64, xs []*float64, steps []float64, iters int) float64 {
	best := loss()
	for it := 0; it < iters; it++ {
		improved := false
		for i, x := range xs {
			for _, dir := range []float64{1, -1} {
				old := *x
				*x = old + dir*steps[i]
				if l := loss(); l < best {
					best, improved = l, true
				} else {
					*x = old
				}
			}
		}
		if !improved {
			done := true
			for i := range steps {
				steps[i] /= 2
				if steps[i] > 1e-4 {
					done = false
				}
			}
			if done {
				break
			}
		}
	}
	return best
}

// TestFit runs the calibration fit (go test -run TestFit -fit) and prints the constants to
// paste into fitted. It does not change the package.
func TestFit(t *testing.T) {
	if !*fitFlag {
		t.Skip("calibration fit runs with -fit")
	}
	ps := popParams(testPopulation(1000, 7))
	c := fitted
	if *fitOnly != "games" {
		l := coordSearch(func() float64 { return tppLoss(modelTPP(&c, ps)) },
			[]*float64{&c.Iota0, &c.IotaS, &c.Rho, &c.CostW, &c.B0, &c.Lapse0, &c.Lapse1},
			[]float64{.5, .2, .2, .1, .5, .03, .03}, 400)
		t.Logf("tpp loss %.5f", l)
	}
	if *fitOnly == "tpp" {
		t.Logf("fitted:\n%s", constsLiteral(c))
		return
	}
	// The games are fitted on a larger population: the altruism tail matters for giving all.
	ps = append(popParams(testPopulation(3000, 8)), ps...)
	bound := func(x, hi float64) float64 { return 100 * sq(math.Max(0, x-hi)) }
	l := coordSearch(func() float64 { return dictatorLoss(&c, ps) + bound(c.OmegaS, 1.2) + bound(-c.AlphaD, -c.Beta0) },
		[]*float64{&c.Beta0, &c.BetaS, &c.Omega0, &c.OmegaS, &c.AlphaD, &c.TauD},
		[]float64{.1, .1, .1, .2, .1, .02}, 400)
	t.Logf("dictator loss %.5f", l)
	l = coordSearch(func() float64 { return ultimatumLoss(&c, ps) },
		[]*float64{&c.Alpha0, &c.AlphaS, &c.TauR, &c.AccMid, &c.AccSlope},
		[]float64{.05, .2, .02, .05, .02}, 300)
	t.Logf("ultimatum loss %.5f", l)
	l = coordSearch(func() float64 { return trustLoss(&c, ps) },
		[]*float64{&c.Eta0, &c.Gamma}, []float64{.1, .1}, 200)
	t.Logf("trust loss %.5f", l)
	l = coordSearch(func() float64 { return gradedLoss(&c, ps) },
		[]*float64{&c.CostG, &c.Phi0}, []float64{.3, .1}, 200)
	t.Logf("graded loss %.5f", l)
	t.Logf("fitted:\n%s", constsLiteral(c))
	logTables(t, &c, ps)
}

func constsLiteral(c gameConsts) string {
	s := fmt.Sprintf("%#v", c)
	s = strings.TrimPrefix(s, "behavioral.gameConsts")
	return s
}

func logTables(t *testing.T, c *gameConsts, ps []params) {
	st := modelTPP(c, ps)
	for x := 10; x <= 14; x++ {
		t.Logf("tpp x=%d expected %.3f human %.3f", x, st.byX[x-10], humanTPPByX[x])
	}
	for y := 0; y <= 9; y++ {
		t.Logf("tpp y=%d expected %.3f human %.3f", y, st.byY[y], humanTPPByY[y])
	}
	t.Logf("tpp fair low %.3f (%.3f) high %.3f (%.3f)", st.fairLow, humanTPPFairLow, st.fairHigh, humanTPPFairHigh)
	d, m := modelDictator(c, ps)
	t.Logf("dictator mean %.3f (%.3f) dist %.3f", m, humanDictatorMean, d)
	o, lo, fair, all := modelUltimatum(c, ps)
	t.Logf("ultimatum offer %.3f rejLow %.3f rejFair %.3f rejAll %.3f", o, lo, fair, all)
	s, r := modelTrust(c, ps)
	t.Logf("trust sent %.3f returned %.3f", s, r)
	rate, pts := modelGraded(c, ps)
	t.Logf("graded rate %.3f points by t=0..40 %.2f", rate, pts)
}
