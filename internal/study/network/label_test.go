package network

import (
	"math"
	"math/rand/v2"
	"testing"
)

// rating is a noisy 1-7 rating around mu (normal noise of sd, rounded and clipped).
func rating(r *rand.Rand, mu, sd float64) float64 {
	return math.Max(1, math.Min(7, math.Round(mu+sd*r.NormFloat64())))
}

// runLabel labels n agents over rounds with treatment from round from: the twin rates around
// mu with noise sd; the run rates around mu+shift from round from (shared noise when crn).
func runLabel(n, rounds, from int, mu, sd, shift float64, crn bool, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	l := NewLabeler(n, from)
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
			if t < from {
				x[u] = c[u] // before treatment the run and its twin are the same decisions
			}
		}
		shares[t-1] = float64(l.Step(t, x, c, nil)) / float64(n)
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
	// Independent noise (an LLM that ignores the seed): about the one-sided 5% of test (A)
	// (0.055: 5% plus 1.5 standard errors of a share of 4000 agents).
	for i, sh := range runLabel(4000, 7, 2, 4, 1.05, 0, false, 2) {
		if sh > 0.055 {
			t.Errorf("round %d: %.3f affected by independent noise alone, want <= 0.055", i+1, sh)
		}
	}
}

func TestLabelRealShiftTrips(t *testing.T) {
	// A fall of 3 points (about 2 noise-band SDs of a difference) is caught in most agents.
	sh := runLabel(2000, 7, 2, 5, 1.05, -3, true, 3)
	if sh[0] != 0 {
		t.Errorf("round 1 (before treatment): %.3f affected", sh[0])
	}
	if sh[6] < 0.5 {
		t.Errorf("round 7: only %.3f of agents shifted by -3 points are affected", sh[6])
	}
	// A rise is not erosion.
	if sh := runLabel(2000, 7, 2, 3, 1.05, 3, true, 4); sh[6] != 0 {
		t.Errorf("a rise labelled as erosion: %.3f", sh[6])
	}
}

func TestLabelRule(t *testing.T) {
	cases := []struct {
		name      string
		dx, dc, s float64
		want      bool
	}{
		{"reliable fall the twin did not show", -3, 0, 1, true},
		{"the twin fell too", -3, -3, 1, false},
		{"fall within the band", -1, 0, 1, false},
		{"quiet twin: one point counts", -1, 0, 0, true},
		{"unknown band", -4, 0, math.NaN(), false},
		{"fell, but not a point more than the twin", -2, -1.5, 0.5, false},
	}
	for _, c := range cases {
		if got := Affected(c.dx, c.dc, c.s); got != c.want {
			t.Errorf("%s: Affected(%g, %g, %g) = %v, want %v", c.name, c.dx, c.dc, c.s, got, c.want)
		}
	}
}

func TestLabelInvalidAndOrder(t *testing.T) {
	l := NewLabeler(1, 2)
	l.Step(1, []Obs{{W: 6, OK: true}}, []Obs{{W: 6, OK: true}}, nil)
	out := make([]bool, 1)
	if l.Step(2, []Obs{{W: 1}}, []Obs{{W: 6, OK: true}}, out); out[0] {
		t.Error("an invalid decision is labelled affected")
	}
	if l.Step(3, []Obs{{W: 1, OK: true}}, []Obs{{W: 6, OK: true}}, out); !out[0] {
		t.Error("a fall from 6 to 1 against a steady twin is not affected")
	}
	defer func() {
		if recover() == nil {
			t.Error("a skipped round does not panic")
		}
	}()
	l.Step(5, []Obs{{W: 1, OK: true}}, []Obs{{W: 6, OK: true}}, out)
}
