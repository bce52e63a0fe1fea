package network

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// rating is a noisy 1-7 rating around mu (normal noise of sd, rounded and clipped).
func rating(r *rand.Rand, mu, sd float64) float64 {
	return math.Max(1, math.Min(7, math.Round(mu+sd*r.NormFloat64())))
}

// runLabel labels n agents over rounds with treatment from round from: the twin rates around
// mu with noise sd; the run rates around mu+shift from round from (shared noise when crn:
// then before the treatment the run and its twin are the same decisions).
func runLabel(n, rounds, from int, mu, sd, shift float64, crn bool, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	l := NewLabeler(n, 1, from)
	shares := make([]float64, rounds)
	x, c := make([]Obs, n), make([]Obs, n)
	for t := 1; t <= rounds; t++ {
		for u := range n {
			e1, e2 := r.NormFloat64(), r.NormFloat64()
			if crn {
				e2 = e1
			}
			m := mu
			if t >= from {
				m += shift
			}
			c[u] = Obs{W: math.Max(1, math.Min(7, math.Round(mu+sd*e1))), OK: true}
			x[u] = Obs{W: math.Max(1, math.Min(7, math.Round(m+sd*e2))), OK: true}
		}
		shares[t-1] = float64(l.Step(t, [][]Obs{x}, [][]Obs{c}, nil)) / float64(n)
	}
	return shares
}

func TestLabelNoiseAloneDoesNotTrip(t *testing.T) {
	// Common random numbers: the run is its twin, nobody is ever affected.
	for i, sh := range runLabel(2000, 7, 2, 4, 1.05, 0, true, 1) {
		if sh != 0 {
			t.Errorf("round %d: %.3f affected by noise with common random numbers", i+1, sh)
		}
	}
	// Independent noise (an LLM that ignores the seed): one round's test fires in about 2.5%
	// of agents, two rounds running in about 0.06% (independent rounds here); 0.01 leaves
	// room for the band estimated from one pre-treatment round.
	for i, sh := range runLabel(4000, 7, 2, 4, 1.05, 0, false, 2) {
		if sh > 0.01 {
			t.Errorf("round %d: %.3f affected by independent noise alone, want <= 0.01", i+1, sh)
		}
	}
}

func TestLabelRealShiftTrips(t *testing.T) {
	// A fall of 2 points with common random numbers: every agent not held up by the floor of
	// the scale, from the second treated round on (the fall must hold two rounds).
	sh := runLabel(2000, 7, 2, 5, 1.05, -2, true, 3)
	if sh[0] != 0 || sh[1] != 0 {
		t.Errorf("rounds 1-2 (before treatment, first treated round): %.3f, %.3f affected", sh[0], sh[1])
	}
	if sh[6] < 0.9 {
		t.Errorf("round 7: only %.3f of agents shifted by -2 points are affected", sh[6])
	}
	// Independent noise: a fall of 4 points (about 2.7 noise SDs of a difference) is caught
	// in most agents.
	if sh := runLabel(2000, 7, 2, 5.5, 1.05, -4, false, 6); sh[6] < 0.5 {
		t.Errorf("independent noise, round 7: only %.3f of agents shifted by -4 points are affected", sh[6])
	}
	// A rise is not erosion.
	if sh := runLabel(2000, 7, 2, 3, 1.05, 3, true, 4); sh[6] != 0 {
		t.Errorf("a rise labelled as erosion: %.3f", sh[6])
	}
}

func TestLabelRule(t *testing.T) {
	cases := []struct {
		name    string
		x, c, s float64
		want    bool
	}{
		{"beyond the band", 3, 6, 1, true},
		{"within the band", 4, 5.5, 1, false},
		{"quiet twin: one point counts", 5, 6, 0, true},
		{"less than a point", 5.5, 6, 0, false},
		{"unknown band", 1, 6, math.NaN(), false},
		{"a rise", 6, 3, 0, false},
	}
	for _, c := range cases {
		if got := Below(c.x, c.c, c.s); got != c.want {
			t.Errorf("%s: Below(%g, %g, %g) = %v, want %v", c.name, c.x, c.c, c.s, got, c.want)
		}
	}
}

func TestLabelPersistInvalidAndOrder(t *testing.T) {
	l := NewLabeler(1, 1, 2)
	one := func(w float64, ok bool) [][]Obs { return [][]Obs{{{W: w, OK: ok}}} }
	out := [][]bool{make([]bool, 1)}
	l.Step(1, one(6, true), one(6, true), out)
	steps := []struct {
		x    float64
		ok   bool
		want bool
	}{
		{1, true, false},  // round 2: one round below is not enough
		{1, true, true},   // round 3: two running
		{1, false, false}, // round 4: invalid restarts the count
		{1, true, false},  // round 5
		{1, true, true},   // round 6
	}
	for i, st := range steps {
		l.Step(i+2, one(st.x, st.ok), one(6, true), out)
		if out[0][0] != st.want {
			t.Errorf("round %d: affected %v, want %v", i+2, out[0][0], st.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a skipped round does not panic")
		}
	}()
	l.Step(9, one(1, true), one(6, true), out)
}

// An LLM's twins share their reply before the treatment (D = 0) and draw independently after
// it: a run labelled on its own band (the floor, one point) marks agents affected by noise
// alone, while the band taken from another labeler's pre-treatment rounds (the placebo's: two
// independent draws) does not. The source must have seen every round before From.
func TestLabelBandFrom(t *testing.T) {
	const n, rounds, from, sd = 4000, 6, 3, 1.05
	label := func(shareBand bool) []float64 {
		r := rand.New(rand.NewPCG(9, 1))
		own, pl := NewLabeler(n, 1, from), NewLabeler(n, 1, from)
		if shareBand {
			own.BandFrom(pl)
		}
		shares := make([]float64, rounds)
		x, c, px, pc := make([]Obs, n), make([]Obs, n), make([]Obs, n), make([]Obs, n)
		for t := 1; t <= rounds; t++ {
			for u := range n {
				c[u] = Obs{W: rating(r, 4, sd), OK: true}
				x[u] = c[u] // one draw while the prompts are equal
				if t >= from {
					x[u] = Obs{W: rating(r, 4, sd), OK: true}
				}
				px[u], pc[u] = Obs{W: rating(r, 4, sd), OK: true}, Obs{W: rating(r, 4, sd), OK: true}
			}
			shares[t-1] = float64(own.Step(t, [][]Obs{x}, [][]Obs{c}, nil)) / float64(n)
			pl.Step(t, [][]Obs{px}, [][]Obs{pc}, nil)
		}
		return shares
	}
	floor, shared := label(false), label(true)
	if floor[rounds-1] < 0.03 {
		t.Errorf("on its own band (the floor) %.3f affected on the last round: the test shows nothing", floor[rounds-1])
	}
	for i, sh := range shared {
		if sh > 0.01 {
			t.Errorf("round %d: %.3f affected by independent draws on the placebo's band, want <= 0.01", i+1, sh)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a band from a labeler that had not seen the rounds before From was used")
		}
	}()
	own, pl := NewLabeler(1, 1, 2), NewLabeler(1, 1, 2)
	own.BandFrom(pl)
	o := [][]Obs{{{W: 4, OK: true}}}
	own.Step(1, o, o, nil)
	own.Step(2, o, o, nil)
}

// The placebo pairs each replicate's control with the next replicate's, cyclically, each
// unordered pair of replicates once: with three replicates c1-c2, c2-c3, c3-c1; with two,
// c1-c2 only (the cycle would add c2-c1, the same pair again, its squared differences twice
// in the band and its agents twice in the placebo's share).
func TestPlaceboPairsEachPairOnce(t *testing.T) {
	for _, c := range []struct{ reps, pairs int }{{2, 1}, {3, 3}, {4, 4}} {
		env := &study.Env{Exp: &experiment.Experiment{Backends: []experiment.Backend{{Provider: "builtin"}}}, Agents: make([]persona.Persona, 4)}
		for r := 1; r <= c.reps; r++ {
			for _, cond := range []string{"control", "unfair"} {
				env.Cells = append(env.Cells, &study.Cell{Run: store.Run{Backend: "builtin", Condition: cond, Replicate: r}})
			}
		}
		s := &netStudy{env: env, cfg: &Config{Rounds: 3},
			conds: map[string]*netCond{"control": {}, "unfair": {iv: &policy.Intervention{From: 2, To: 3}}}}
		a := newAggregator(s)
		seen := map[[2]int]bool{}
		for _, p := range a.pairs {
			if p.plTwin < 0 {
				continue
			}
			x, y := env.Cells[p.ctrl].Replicate, env.Cells[p.plTwin].Replicate
			k := [2]int{min(x, y), max(x, y)}
			if seen[k] {
				t.Errorf("%d replicates: the placebo pairs replicates %d and %d twice", c.reps, k[0], k[1])
			}
			seen[k] = true
		}
		if len(seen) != c.pairs {
			t.Errorf("%d replicates: %d placebo pairs, want %d", c.reps, len(seen), c.pairs)
		}
		if a.groups[0].pl == nil {
			t.Errorf("%d replicates: no placebo labeler", c.reps)
		}
	}
}
