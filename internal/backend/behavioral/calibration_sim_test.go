package behavioral

import (
	"math"
	"testing"
)

// TestCalibrationTPP plays the full Study 2 schedule (x 10..15, y 0..9, each pair twice) with
// 1,000 personas through Decide and compares punishment rates with the human figures.
func TestCalibrationTPP(t *testing.T) {
	m := New()
	pop := testPopulation(1000, 2024)
	var byX [6]float64
	var byY, nY [10]float64
	var vByX [6]float64
	seed := uint64(1)
	for _, p := range pop {
		for rep := 0; rep < 2; rep++ {
			for x := 10; x <= 15; x++ {
				for y := 0; y <= 9; y++ {
					seed++
					v := decide(t, m, p, game("tpp", float64(x), float64(y)), tppSchema, seed)
					pun := v["choice"]
					byX[x-10] += pun
					vByX[x-10] += v["valence_before"]
					if x < 15 {
						byY[y] += pun
						nY[y]++
					}
				}
			}
		}
	}
	perX := float64(len(pop) * 2 * 10)
	t.Logf("%-8s %8s %8s", "x", "model", "human")
	for x := 10; x <= 14; x++ {
		got := byX[x-10] / perX
		t.Logf("x=%-6d %8.3f %8.3f   valence(-4..4) %.2f human %.2f", x, got, humanTPPByX[x], vByX[x-10]/perX, humanValence[15-x]/25)
		if math.Abs(got-humanTPPByX[x]) > 0.05 {
			t.Errorf("punishment at x=%d: model %.3f, human %.3f", x, got, humanTPPByX[x])
		}
	}
	t.Logf("x=15 (fair) %.3f (human participant means .122 low cost, .079 high cost)", byX[5]/perX)
	if f := byX[5] / perX; f < 0.03 || f > 0.2 {
		t.Errorf("fair-offer punishment %.3f, want about .10", f)
	}
	for y := 0; y <= 9; y++ {
		got := byY[y] / nY[y]
		t.Logf("y=%-6d %8.3f %8.3f", y, got, humanTPPByY[y])
		if math.Abs(got-humanTPPByY[y]) > 0.05 {
			t.Errorf("punishment at y=%d: model %.3f, human %.3f", y, got, humanTPPByY[y])
		}
	}
	for x := 10; x < 14; x++ {
		if byX[x-10] <= byX[x-9] {
			t.Errorf("punishment does not fall from x=%d to x=%d", x, x+1)
		}
	}
	if vByX[0] >= vByX[4] {
		t.Errorf("valence before choosing should fall with inequity: x=10 %.3f, x=14 %.3f", vByX[0]/perX, vByX[4]/perX)
	}
}

func TestCalibrationGames(t *testing.T) {
	m := New()
	pop := testPopulation(1000, 77)
	seed := uint64(1 << 20)
	next := func() uint64 { seed++; return seed }

	// Dictator, endowment 10: distribution by amount.
	var dist [11]float64
	var mean float64
	for rep := 0; rep < 3; rep++ {
		for _, p := range pop {
			g := decide(t, m, p, game("dictator", 10), amountSchema("give", 10), next())["give"]
			dist[int(g)]++
			mean += g / 10
		}
	}
	n := float64(3 * len(pop))
	for i := range dist {
		dist[i] /= n
	}
	mean /= n
	t.Logf("dictator: mean share %.3f (human %.3f); at 0 %.3f (.31-.36), half %.3f (.17-.21), all %.3f (.05-.07)", mean, humanDictatorMean, dist[0], dist[5], dist[10])
	t.Logf("dictator distribution model %.3f", dist)
	t.Logf("dictator distribution human %.3f", humanDictator)
	if math.Abs(mean-0.28) > 0.05 {
		t.Errorf("dictator mean share %.3f, want 0.28 +- .05", mean)
	}
	if dist[0] < .25 || dist[0] > .42 || dist[5] < .13 || dist[5] > .26 || dist[10] < .02 || dist[10] > .11 {
		t.Errorf("dictator masses at 0/half/all %.3f/%.3f/%.3f outside plausible ranges", dist[0], dist[5], dist[10])
	}

	// Ultimatum, endowment 10.
	var offer, rejLow, nLow, rejFair, nFair float64
	for _, p := range pop {
		offer += decide(t, m, p, game("ultimatum_proposer", 10), amountSchema("offer", 10), next())["offer"] / 10
		for _, o := range []float64{1, 2} {
			rejLow += decide(t, m, p, game("ultimatum_responder", 10, o), choiceSchema("accept", "reject"), next())["choice"]
			nLow++
		}
		for _, o := range []float64{4, 5} {
			rejFair += decide(t, m, p, game("ultimatum_responder", 10, o), choiceSchema("accept", "reject"), next())["choice"]
			nFair++
		}
	}
	offer /= float64(len(pop))
	t.Logf("ultimatum: mean offer %.3f (human .40); rejection of 10-20%% offers %.3f (~.5); of 40-50%% %.3f (~0)", offer, rejLow/nLow, rejFair/nFair)
	if math.Abs(offer-humanUGOffer) > .05 {
		t.Errorf("ultimatum mean offer %.3f, want .40 +- .05", offer)
	}
	if r := rejLow / nLow; r < .35 || r > .65 {
		t.Errorf("low-offer rejection %.3f, want about .5", r)
	}
	if r := rejFair / nFair; r > .08 {
		t.Errorf("fair-offer rejection %.3f, want near 0", r)
	}
	// Minimum acceptable offer is consistent with the responder.
	var mao float64
	for _, p := range pop {
		mao += decide(t, m, p, game("ultimatum_mao", 10), amountSchema("min_accept", 10), next())["min_accept"] / 10
	}
	t.Logf("ultimatum: mean minimum acceptable offer %.3f", mao/float64(len(pop)))

	// Trust, endowment 10, multiplier 3.
	var sent, rec, ret float64
	for _, p := range pop {
		s := decide(t, m, p, game("trust_sender", 10, 3), amountSchema("send", 10), next())["send"]
		sent += s / 10
		if s > 0 {
			q := pop[(p.ID*7)%len(pop)]
			ret += decide(t, m, q, game("trust_returner", 10, 3, s), amountSchema("return", 3*s), next())["return"]
			rec += 3 * s
		}
	}
	sent /= float64(len(pop))
	t.Logf("trust: sent %.3f (human %.3f), returned %.3f of received (human %.3f)", sent, humanTrustSent, ret/rec, humanTrustReturned)
	if math.Abs(sent-humanTrustSent) > .05 || math.Abs(ret/rec-humanTrustReturned) > .05 {
		t.Errorf("trust sent %.3f returned %.3f, want .51 and .37 (+- .05)", sent, ret/rec)
	}

	// Graded TPP (Fehr & Fischbacher 2004).
	var punBelow, nBelow float64
	var pts [6]float64
	for _, p := range pop {
		for k := 0; k <= 5; k++ {
			v := decide(t, m, p, game("tpp_graded", float64(10*k)), amountSchema("points", 50), next())["points"]
			pts[k] += v / float64(len(pop))
			if k < 5 {
				nBelow++
				if v > 0 {
					punBelow++
				}
			}
		}
	}
	t.Logf("graded tpp: share punishing transfers below half %.3f (human ~.60)", punBelow/nBelow)
	for k := 0; k <= 5; k++ {
		t.Logf("graded tpp: transfer %2d mean points %5.2f (human ~%.1f)", 10*k, pts[k], humanGradedSlope*float64(50-10*k))
	}
	if r := punBelow / nBelow; math.Abs(r-humanGradedRate) > .1 {
		t.Errorf("graded punishment rate %.3f, want about .60", r)
	}
	for k := 0; k < 5; k++ {
		if pts[k] <= pts[k+1] {
			t.Errorf("graded punishment does not grow as the transfer falls (%d: %.2f, %d: %.2f)", 10*k, pts[k], 10*k+10, pts[k+1])
		}
	}
}

// TestPublicGoods plays 10-round public goods games in groups of 4 (endowment 20, multiplier
// 1.6), with and without a punishment stage, as in Fehr & Gachter (2000, 2002).
func TestPublicGoods(t *testing.T) {
	m := New()
	pop := testPopulation(400, 5)
	for _, punish := range []float64{0, 1} {
		means := pgRun(t, m, pop, punish)
		t.Logf("public goods punishment=%v: mean share by round %.2f", punish, means)
		if means[0] < .4 || means[0] > .6 {
			t.Errorf("punishment=%v: round-1 mean %.2f, want .4-.6", punish, means[0])
		}
		if punish == 0 && means[9] > 0.6*means[0] {
			t.Errorf("without punishment contributions should decay: round 1 %.2f, round 10 %.2f", means[0], means[9])
		}
		if punish == 1 && means[9] < means[0] {
			t.Errorf("with punishment contributions should stay high: round 1 %.2f, round 10 %.2f", means[0], means[9])
		}
	}
}

func pgRun(t *testing.T, m *Model, pop []*personaT, punish float64) [10]float64 {
	const E, G = 20.0, 4
	var means [10]float64
	seed := uint64(punish*1e6 + 1)
	for g0 := 0; g0+G <= len(pop); g0 += G {
		grp := pop[g0 : g0+G]
		var prev, hit [G]float64
		for i := range prev {
			prev[i] = -1
		}
		for round := 1; round <= 10; round++ {
			var c [G]float64
			for i, p := range grp {
				others := -1.0
				if round > 1 {
					others = 0
					for j := range grp {
						if j != i {
							others += prev[j] / (G - 1)
						}
					}
				}
				seed++
				sit := backendSituation("public_goods", map[string]float64{"endowment": E, "multiplier": 1.6,
					"group_size": G, "round": float64(round), "rounds": 10, "punishment": punish,
					"others_prev": others, "own_prev": prev[i], "punished_prev": hit[i]})
				c[i] = decide(t, m, p, sit, amountSchema("contribute", E), seed)["contribute"]
				means[round-1] += c[i] / E / float64(len(pop))
			}
			hit = [G]float64{}
			if punish == 1 {
				for i, p := range grp {
					for j := range grp {
						if i == j {
							continue
						}
						seed++
						sit := game("public_goods_punish", E, c[i], c[j], 3)
						hit[j] += decide(t, m, p, sit, amountSchema("points", 10), seed)["points"]
					}
				}
			}
			prev = c
		}
	}
	return means
}
