package behavioral

import (
	"testing"

	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
)

// s3Design is Study 3's reward-inequity design as examples/study3-network.yaml runs it, played
// through Decide without the engine (the fit needs the model's constants, which only this
// package can vary): volunteering under the stipend, edges activated by fraction, the k most
// willing agents of round 1 treated unfairly from round from, grounded observation (activated
// neighbours' willingness and how many were treated unfairly the round before), and a control
// twin with the same graph, activations and decision seeds.
type s3Design struct {
	g               *network.Graph
	pop             []persona.Persona
	rounds, k, from int
	frac            float64
	seed            uint64
}

// s3Effects are the inequity-minus-control differences in mean willingness by exposure group
// (0 victims, 1 distance 1, 2 distance 2, 3 distance 3+), pooled over agent x replicate pairs: ByRound[t-1]
// in round t, and Mean over rounds from..rounds (the summary's "diff" column).
type s3Effects struct {
	ByRound [][4]float64
	Mean    [4]float64
	N       [4]int // agent x replicate pairs per round
}

// Last is the effect of group h in the last round.
func (e s3Effects) Last(h int) float64 { return e.ByRound[len(e.ByRound)-1][h] }

// Rel is the last round's effect at hop d (1..3) relative to the victims': the measure of the
// calibration target (Fowler & Christakis 2010's .19, .07, .06 put on this measure; their own
// estimand is fcBetas').
func (e s3Effects) Rel(d int) float64 { return e.Last(d) / e.Last(0) }

func prosim104(tb testing.TB) s3Design {
	tb.Helper()
	g, err := network.Builtin("prosim104")
	if err != nil {
		tb.Fatal(err)
	}
	pop, err := persona.Builtin("prosim104")
	if err != nil {
		tb.Fatal(err)
	}
	return s3Design{g: g, pop: pop, rounds: 7, k: 5, from: 2, frac: 0.3, seed: 20250521}
}

// s3Rep is one replicate as played: w[cond][day-1][node] the willingness ratings (cond 0
// inequity, 1 control), the victims, and every node's distance to the nearest victim (-1 when
// unreachable).
type s3Rep struct {
	rep    int
	w      [2][][]float64
	victim []bool
	dist   []int32
}

// activation is the set of edges active on day t of replicate rep, as play drew it.
func (d s3Design) activation(rep, t int) network.Active {
	return network.ActivateEdges(d.g, d.frac, seed.Derive(d.seed, "activation", rep), t)
}

// run plays reps replicates of the inequity run and its control and returns the effects.
func (d s3Design) run(tb testing.TB, m *Model, reps int) s3Effects {
	tb.Helper()
	n := d.g.N()
	sum := make([][4]float64, d.rounds)
	var cnt [4]int
	d.play(tb, m, reps, func(r *s3Rep) {
		w, dist := r.w, r.dist
		for t := 1; t <= d.rounds; t++ {
			for u := range n {
				if dist[u] < 0 {
					continue // unreachable
				}
				h := int(min(dist[u], 3))
				sum[t-1][h] += w[0][t-1][u] - w[1][t-1][u]
				if t == 1 {
					cnt[h]++
				}
			}
		}
	})
	e := s3Effects{ByRound: make([][4]float64, d.rounds)}
	for h := range 4 {
		e.N[h] = cnt[h]
		if cnt[h] == 0 {
			continue
		}
		for t := 1; t <= d.rounds; t++ {
			e.ByRound[t-1][h] = sum[t-1][h] / float64(cnt[h])
			if t >= d.from {
				e.Mean[h] += e.ByRound[t-1][h] / float64(d.rounds-d.from+1)
			}
		}
	}
	return e
}

// play plays reps replicates of the inequity run and its control and hands each to f.
func (d s3Design) play(tb testing.TB, m *Model, reps int, f func(*s3Rep)) {
	tb.Helper()
	n := d.g.N()
	for rep := 1; rep <= reps; rep++ {
		var w [2][][]float64 // w[cond][round-1][node]; cond 0 inequity, 1 control
		var victim []bool
		var dist []int32
		for c := range 2 {
			prev := make([]float64, n)
			prevU := make([]float64, n)
			prevT := make([]bool, n)
			for t := 1; t <= d.rounds; t++ {
				if c == 0 && t == d.from {
					choice := func(u int) (float64, bool) { return prev[u], true }
					nodes, err := policy.Select(policy.Rule{Kind: "top", K: d.k}, policy.Population{N: n, Choice: choice}, seed.Derive(d.seed, "target", rep))
					if err != nil {
						tb.Fatal(err)
					}
					victim = make([]bool, n)
					for _, u := range nodes {
						victim[u] = true
					}
					dist = network.Distances(d.g, nodes)
				}
				act := d.activation(rep, t)
				cur, curU, curT := make([]float64, n), make([]float64, n), make([]bool, n)
				for u := range n {
					sit := vignette(0, studyPolicies[3])
					soc := situation.Social{Round: t, PrevWillingness: prev[u], PrevUnfairness: prevU[u]}
					curT[u] = c == 0 && victim != nil && victim[u]
					soc.TreatedUnfairly = curT[u]
					if t > 1 {
						var obs, unf int
						var s float64
						for j, v := range d.g.Neighbours(u) {
							if act.IsActive(int(d.g.EdgeIDs(u)[j])) {
								obs++
								s += prev[v]
								if prevT[v] {
									unf++
								}
							}
						}
						if obs > 0 {
							soc.Observed, soc.MeanObserved = obs, s/float64(obs)
						}
						soc.UnfairObserved = unf
					}
					sit.Social = soc
					a := &d.pop[u]
					v := decide(tb, m, a, sit, study3Schema, seed.Decision(d.seed, rep, a.ID, t, 0, "volunteering"))
					cur[u], curU[u] = v["willingness"], v["unfairness"]
				}
				w[c] = append(w[c], cur)
				prev, prevU, prevT = cur, curU, curT
			}
		}
		f(&s3Rep{rep: rep, w: w, victim: victim, dist: dist})
	}
}

// TestStudy3SpreadByHop: with the social-influence channel off, an agent two hops or more from
// a victim meets exactly its control twin's situation (only the victims' neighbours hear of
// unfairness), so its effect is exactly 0 in every round; with it on, the distance-2 agents'
// willingness falls below their twins'. A check on its own seed, apart from the fit and the
// calibration test.
func TestStudy3SpreadByHop(t *testing.T) {
	d := prosim104(t)
	d.seed = 3
	keep := social
	defer func() { social = keep }()
	social.Influence = 0
	off := d.run(t, New(), 30)
	social = keep
	on := d.run(t, New(), 30)
	for r, e := range off.ByRound {
		if e[2] != 0 || e[3] != 0 {
			t.Errorf("influence off, round %d: distance 2 effect %+.4f, 3+ %+.4f, want exactly 0", r+1, e[2], e[3])
		}
	}
	if off.Last(1) >= 0 || off.Last(0) >= 0 {
		t.Errorf("influence off: victims %+.3f and distance 1 %+.3f should still fall (unfairness heard of)", off.Last(0), off.Last(1))
	}
	t.Logf("influence on, last round: victims %+.3f, distance 1 %+.3f, 2 %+.3f, 3+ %+.3f", on.Last(0), on.Last(1), on.Last(2), on.Last(3))
	if on.Last(2) > -0.02 || on.Mean[2] >= 0 {
		t.Errorf("influence on: distance 2 effect %+.3f in the last round (mean %+.3f), want below -0.02", on.Last(2), on.Mean[2])
	}
	if !(on.Last(1) < off.Last(1)) {
		t.Errorf("influence should deepen the distance-1 effect: on %+.3f, off %+.3f", on.Last(1), off.Last(1))
	}
}
