package game

import (
	"math"
	"slices"
	"testing"
)

func TestDictator(t *testing.T) {
	for _, c := range [][4]float64{{100, 0, 100, 0}, {100, 50, 50, 50}, {100, 100, 0, 100}, {10, 2.5, 7.5, 2.5}} {
		d, r, err := DictatorPayoff(c[0], c[1])
		if err != nil || d != c[2] || r != c[3] {
			t.Errorf("DictatorPayoff(%g,%g) = %g,%g,%v", c[0], c[1], d, r, err)
		}
	}
	for _, c := range [][2]float64{{100, -1}, {100, 101}, {0, 0}, {-5, 0}, {100, math.NaN()}, {math.Inf(1), 1}} {
		if _, _, err := DictatorPayoff(c[0], c[1]); err == nil {
			t.Errorf("DictatorPayoff(%g,%g) accepted", c[0], c[1])
		}
	}
}

func TestUltimatum(t *testing.T) {
	p, r, err := UltimatumPayoff(100, 40, true)
	if err != nil || p != 60 || r != 40 {
		t.Errorf("accept: %g %g %v", p, r, err)
	}
	p, r, err = UltimatumPayoff(100, 40, false)
	if err != nil || p != 0 || r != 0 {
		t.Errorf("reject: %g %g %v", p, r, err)
	}
	if p, r, _ := UltimatumPayoff(100, 0, true); p != 100 || r != 0 {
		t.Errorf("zero offer accepted: %g %g", p, r)
	}
	if p, r, _ := UltimatumPayoff(100, 100, true); p != 0 || r != 100 {
		t.Errorf("full offer accepted: %g %g", p, r)
	}
	for _, o := range []float64{-1, 101, math.NaN()} {
		if _, _, err := UltimatumPayoff(100, o, true); err == nil {
			t.Errorf("offer %g accepted", o)
		}
	}
	// Minimum acceptable offer: an offer equal to the minimum is accepted.
	cases := []struct {
		offer, mao float64
		acc        bool
		p, r       float64
	}{{30, 30, true, 70, 30}, {29, 30, false, 0, 0}, {50, 0, true, 50, 50}, {0, 0, true, 100, 0}, {99, 100, false, 0, 0}}
	for _, c := range cases {
		acc, p, r, err := UltimatumMAOPayoff(100, c.offer, c.mao)
		if err != nil || acc != c.acc || p != c.p || r != c.r {
			t.Errorf("MAO(%g, %g) = %v %g %g %v", c.offer, c.mao, acc, p, r, err)
		}
	}
	if _, _, _, err := UltimatumMAOPayoff(100, 30, 101); err == nil {
		t.Error("min_accept 101 accepted")
	}
	if _, _, _, err := UltimatumMAOPayoff(100, -3, 10); err == nil {
		t.Error("offer -3 accepted")
	}
}

func TestTrust(t *testing.T) {
	cases := []struct{ e, m, s, r, ps, pt float64 }{
		{10, 3, 10, 15, 15, 15},
		{10, 3, 5, 0, 5, 15},
		{10, 3, 0, 0, 10, 0},
		{10, 3, 10, 30, 30, 0},
		{10, 2, 4, 3, 9, 5},
	}
	for _, c := range cases {
		ps, pt, err := TrustPayoff(c.e, c.m, c.s, c.r)
		if err != nil || ps != c.ps || pt != c.pt {
			t.Errorf("TrustPayoff(%g,%g,%g,%g) = %g,%g,%v want %g,%g", c.e, c.m, c.s, c.r, ps, pt, err, c.ps, c.pt)
		}
		// Total surplus: endowment + (m-1) x sent.
		if math.Abs(ps+pt-(c.e+(c.m-1)*c.s)) > 1e-12 {
			t.Errorf("surplus not conserved: %+v", c)
		}
	}
	bad := [][4]float64{{10, 3, 11, 0}, {10, 3, -1, 0}, {10, 3, 5, 15.5}, {10, 3, 5, -1}, {10, 3, 0, 1}, {10, 0.5, 5, 0}, {0, 3, 0, 0}}
	for _, c := range bad {
		if _, _, err := TrustPayoff(c[0], c[1], c[2], c[3]); err == nil {
			t.Errorf("TrustPayoff%v accepted", c)
		}
	}
	if ReturnSchemaMax(5, 3) != 15 || ReturnSchemaMax(0, 3) != 0 || ReturnSchemaMax(10, 3) != 30 {
		t.Errorf("ReturnSchemaMax: %g %g", ReturnSchemaMax(5, 3), ReturnSchemaMax(0, 3))
	}
	if f, m, ok := SchemaMax(ScenarioTrustReturner, map[string]float64{"sent": 4, "multiplier": 3}); !ok || f != "return" || m != 12 {
		t.Errorf("SchemaMax trust_returner = %s %g %v", f, m, ok)
	}
	if _, _, ok := SchemaMax(ScenarioTPP, nil); ok {
		t.Error("SchemaMax(tpp) ok")
	}
}

func TestGameOf(t *testing.T) {
	for _, id := range Scenarios() {
		if GameOf(id) == "" {
			t.Errorf("GameOf(%s) empty", id)
		}
	}
	if GameOf("volunteering") != "" {
		t.Error("GameOf(volunteering) not empty")
	}
}

func TestPair(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 10} {
		pairs, rest := Pair(ids(n), 3)
		var all []int
		for _, p := range pairs {
			all = append(all, p[0], p[1])
		}
		all = append(all, rest...)
		slices.Sort(all)
		if !slices.Equal(all, ids(n)) || len(pairs) != n/2 || len(rest) != n%2 {
			t.Errorf("n=%d: pairs %v rest %v", n, pairs, rest)
		}
	}
	a, _ := Pair(ids(10), 3)
	b, _ := Pair(ids(10), 3)
	c, _ := Pair(ids(10), 4)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Errorf("seeding: %v %v %v", a, b, c)
	}
}
