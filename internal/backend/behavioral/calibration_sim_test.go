package behavioral

import (
	"math"
	"testing"

	games "github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/persona"
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

// samplePopulation is n personas of the engine's generator (population: {source: sample}).
func samplePopulation(t testing.TB, n int, seed uint64) []*personaT {
	t.Helper()
	ps, err := persona.Sample(n, seed, persona.SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*personaT, n)
	for i := range ps {
		out[i] = &ps[i]
	}
	return out
}

// TestCalibrationGames plays the one-shot games through Decide with 1,500 sampled personas,
// with the library's parameters (dictator and ultimatum endowment 100, trust 10 x3), and
// compares the games summary's measures with the human figures: second movers answer a
// partner's actual move, low offers are those below 20% of the pie, the share returned is the
// mean over returners. TestCalibrationGamesRun checks the same through the engine.
func TestCalibrationGames(t *testing.T) {
	m := New()
	pop := samplePopulation(t, 1500, 77)
	n := len(pop)
	partner := func(i int) *personaT { return pop[(i*7+3)%n] }
	seed := uint64(1 << 20)
	next := func() uint64 { seed++; return seed }

	// Dictator, endowment 100: distribution by decile.
	var dist [11]float64
	var mean float64
	for rep := 0; rep < 2; rep++ {
		for _, p := range pop {
			g := decide(t, m, p, game("dictator", 100), amountSchema("give", 100), next())["give"]
			dist[int(math.Round(g/10))]++
			mean += g / 100
		}
	}
	for i := range dist {
		dist[i] /= float64(2 * n)
	}
	mean /= float64(2 * n)
	t.Logf("dictator: mean share %.3f (human %.3f); by decile model %.3f", mean, humanDictatorMean, dist)
	t.Logf("dictator: by decile human %.3f", humanDictator)
	if math.Abs(mean-humanDictatorMean) > .03 {
		t.Errorf("dictator mean share %.3f, want %.3f +- .03", mean, humanDictatorMean)
	}
	if dist[0] < .25 || dist[0] > .42 || dist[5] < .13 || dist[5] > .26 || dist[10] < .02 || dist[10] > .11 {
		t.Errorf("dictator masses at 0/half/all %.3f/%.3f/%.3f outside plausible ranges", dist[0], dist[5], dist[10])
	}

	// Ultimatum, endowment 100: every persona proposes twice, a partner answers the offer.
	var offer, rej, rejLow, nLow, rejFair, nFair float64
	for rep := 0; rep < 2; rep++ {
		for i, p := range pop {
			o := decide(t, m, p, game("ultimatum_proposer", 100), amountSchema("offer", 100), next())["offer"]
			r := decide(t, m, partner(i), game("ultimatum_responder", 100, o), choiceSchema("accept", "reject"), next())["choice"]
			offer += o / 100
			rej += r
			if o < 100*games.HumanUltimatum.LowOffer {
				rejLow += r
				nLow++
			}
			if o >= 40 && o <= 50 {
				rejFair += r
				nFair++
			}
		}
	}
	offer /= float64(2 * n)
	rej /= float64(2 * n)
	t.Logf("ultimatum: mean offer %.3f (human %.2f); rejected %.3f (%.2f); offers below 20%% rejected %.3f of %.0f (about %.2f); offers of 40-50%% %.3f",
		offer, humanUGOffer, rej, humanUGRejAll, rejLow/nLow, nLow, humanUGRejLow, rejFair/nFair)
	if math.Abs(offer-humanUGOffer) > .03 {
		t.Errorf("ultimatum mean offer %.3f, want %.2f +- .03", offer, humanUGOffer)
	}
	if math.Abs(rej-humanUGRejAll) > .04 {
		t.Errorf("ultimatum rejection %.3f, want %.2f +- .04", rej, humanUGRejAll)
	}
	if r := rejLow / nLow; r < .4 || r > .6 {
		t.Errorf("rejection of offers below 20%% %.3f, want .4-.6", r)
	}
	if r := rejFair / nFair; r > .05 {
		t.Errorf("rejection of offers of 40-50%% %.3f, want near 0", r)
	}
	// Minimum acceptable offer is consistent with the responder.
	var mao float64
	for _, p := range pop {
		mao += decide(t, m, p, game("ultimatum_mao", 100), amountSchema("min_accept", 100), next())["min_accept"] / 100
	}
	t.Logf("ultimatum: mean minimum acceptable offer %.3f", mao/float64(n))

	// Trust, endowment 10, multiplier 3: the partner returns part of what it received.
	var sent, share, nRet, rec, ret float64
	for rep := 0; rep < 2; rep++ {
		for i, p := range pop {
			s := decide(t, m, p, game("trust_sender", 10, 3), amountSchema("send", 10), next())["send"]
			sent += s / 10
			if s > 0 {
				r := decide(t, m, partner(i), game("trust_returner", 10, 3, s), amountSchema("return", 3*s), next())["return"]
				share += r / (3 * s)
				nRet++
				ret += r
				rec += 3 * s
			}
		}
	}
	sent /= float64(2 * n)
	share /= nRet
	t.Logf("trust: sent %.3f (human %.3f); returned: mean share of the amount received %.3f (human %.3f), total returned / total received %.3f",
		sent, humanTrustSent, share, humanTrustReturned, ret/rec)
	if math.Abs(sent-humanTrustSent) > .05 || math.Abs(share-humanTrustReturned) > .05 {
		t.Errorf("trust sent %.3f returned %.3f, want %.3f and %.3f (+- .05)", sent, share, humanTrustSent, humanTrustReturned)
	}

	// Graded TPP (Fehr & Fischbacher 2004).
	var punBelow, nBelow float64
	var pts [6]float64
	for _, p := range pop {
		for k := 0; k <= 5; k++ {
			v := decide(t, m, p, game("tpp_graded", float64(10*k)), amountSchema("points", 50), next())["points"]
			pts[k] += v / float64(n)
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
// 1.6), with and without a punishment stage, as in Fehr & Gachter (2000, 2002), through Decide
// with the parameters the engine's game sends (internal/game.PGGame.Requests).
func TestPublicGoods(t *testing.T) {
	m := New()
	pop := samplePopulation(t, 800, 5)
	h := games.HumanPublicGoods
	for _, punish := range []float64{0, 1} {
		st := pgRun(t, m, pop, punish)
		t.Logf("public goods punishment=%v: mean share by round %.2f", punish, st.mean)
		if punish == 0 {
			t.Logf("  round 10: nothing %.3f (human %.3f)", st.zero[9], h.LastZeroNoPunish)
		} else {
			t.Logf("  round 10: everything %.3f (human %.3f); punished at least once %.3f (human %.3f)", st.all[9], h.LastAllPunish, st.punishedOnce, h.PunishedOnce)
		}
		if st.mean[0] < h.FirstLo || st.mean[0] > h.FirstHi {
			t.Errorf("punishment=%v: round-1 mean %.2f, want %.2f-%.2f", punish, st.mean[0], h.FirstLo, h.FirstHi)
		}
		if punish == 0 {
			if st.mean[9] > 0.5*st.mean[0] {
				t.Errorf("without punishment contributions should decay: round 1 %.2f, round 10 %.2f", st.mean[0], st.mean[9])
			}
			if math.Abs(st.zero[9]-h.LastZeroNoPunish) > .1 {
				t.Errorf("without punishment %.3f contribute nothing in round 10, human %.3f", st.zero[9], h.LastZeroNoPunish)
			}
		} else {
			if st.mean[9] < st.mean[0]+.2 {
				t.Errorf("with punishment contributions should rise and stay high: round 1 %.2f, round 10 %.2f", st.mean[0], st.mean[9])
			}
			if math.Abs(st.all[9]-h.LastAllPunish) > .1 {
				t.Errorf("with punishment %.3f contribute everything in round 10, human %.3f", st.all[9], h.LastAllPunish)
			}
			if math.Abs(st.punishedOnce-h.PunishedOnce) > .08 {
				t.Errorf("%.3f punished at least once, human %.3f", st.punishedOnce, h.PunishedOnce)
			}
		}
	}
}

func pgRun(t *testing.T, m *Model, pop []*personaT, punish float64) (st pgStats) {
	const E, G = 20.0, 4
	seed := uint64(punish*1e6 + 1)
	n := float64(len(pop) / G * G)
	for g0 := 0; g0+G <= len(pop); g0 += G {
		grp := pop[g0 : g0+G]
		var prev, hit [G]float64
		var punished [G]bool
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
				st.mean[round-1] += c[i] / E / n
				if c[i] == 0 {
					st.zero[round-1] += 1 / n
				}
				if c[i] == E {
					st.all[round-1] += 1 / n
				}
			}
			hit = [G]float64{}
			if punish == 1 {
				for i, p := range grp {
					for j := range grp {
						if i == j {
							continue
						}
						seed++
						sit := backendSituation("public_goods_punish", map[string]float64{"endowment": E, "own": c[i],
							"target": c[j], "ratio": games.PGRatio, "round": float64(round), "rounds": 10})
						if v := decide(t, m, p, sit, amountSchema("points", 10), seed)["points"]; v > 0 {
							hit[j] += v
							punished[i] = true
						}
					}
				}
			}
			prev = c
		}
		for _, p := range punished {
			if p {
				st.punishedOnce += 1 / n
			}
		}
	}
	return st
}
