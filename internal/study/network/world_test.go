package network

import (
	"slices"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
)

func edges(g *network.Graph) [][2]int32 {
	var out [][2]int32
	for u, v := range g.Edges() {
		out = append(out, [2]int32{u, v})
	}
	return out
}

// graph.per_replicate: each replicate has its own graph from Derive(seed, "graph", rep),
// drawn once and shared by its conditions; without it every replicate has the experiment's.
func TestGraphPerReplicate(t *testing.T) {
	env := &study.Env{Exp: &experiment.Experiment{}, Agents: make([]persona.Persona, 40)}
	cfg := &Config{Graph: Graph{Type: "watts_strogatz", N: 40, K: 4, P: 0.3}}
	once, err := network.WattsStrogatz(40, 4, 0.3, seed.Derive(7, "graph"))
	if err != nil {
		t.Fatal(err)
	}
	s := &netStudy{env: env, cfg: cfg, seed: 7, g: once, graphs: map[int]*network.Graph{}}
	if g, _ := s.graphOf(2); g != once {
		t.Error("without per_replicate, replicate 2 does not use the experiment's graph")
	}
	cfg.Graph.PerReplicate = true
	g2, err := s.graphOf(2)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := network.WattsStrogatz(40, 4, 0.3, seed.Derive(7, "graph", 2))
	if !slices.Equal(edges(g2), edges(want)) {
		t.Error("replicate 2's graph is not the one drawn from Derive(seed, \"graph\", 2)")
	}
	if slices.Equal(edges(g2), edges(once)) {
		t.Error("replicate 2's graph equals the experiment's: not redrawn")
	}
	if again, _ := s.graphOf(2); again != g2 {
		t.Error("replicate 2's graph is drawn twice (its conditions must share it)")
	}
}

// The observation counts are held in bytes, an agent of degree 255 or more (an edge list can
// have one of 70,000) in a table of its own: a star's hub hears every leaf, so a hub of 254
// leaves fits a byte (and its sum of ratings of -128 int16), one of 255 and one of 70,000 do
// not.
func TestCountsHubs(t *testing.T) {
	for _, c := range []struct {
		leaves int
		rating int8
		hub    bool
	}{{254, -128, false}, {255, 127, true}, {70000, 127, true}} {
		edges := make([][2]int, c.leaves)
		for i := range edges {
			edges[i] = [2]int{0, i + 1}
		}
		g, err := network.FromEdges(c.leaves+1, edges)
		if err != nil {
			t.Fatal(err)
		}
		n := g.N()
		w := &world{g: g, n: n, cond: &netCond{iv: &policy.Intervention{From: 1, To: 1}}, prevW: make([]int8, n), prevOK: make([]bool, n),
			victim: make([]bool, n), prevAffected: make([]bool, n)}
		for u := 1; u < n; u++ {
			w.prevW[u], w.prevOK[u] = c.rating, true
			w.victim[u] = u%2 == 0 // treated in round 1
			w.prevAffected[u] = u%3 == 0
		}
		w.cnt = newCounts(g, true)
		if hub := w.cnt.hubs[0] != nil; hub != c.hub || len(w.cnt.hubs) > 1 {
			t.Errorf("%d leaves: hubs %v, want the centre's only: %v", c.leaves, w.cnt.hubs, c.hub)
		}
		act := network.ActivateEdges(g, 1, 1, 2)
		w.cnt.count(w, 2, act, 0, n)
		treated, other := c.leaves/2, c.leaves/3-c.leaves/6 // even leaves are treated; of the others, multiples of 3 affected
		o, sum := w.cnt.at(0)
		want := obsCounts{rated: int32(c.leaves), treated: int32(treated), affected: int32(other), exposures: int32(treated + other)}
		if o != want || sum != int32(c.leaves)*int32(c.rating) {
			t.Errorf("%d leaves: the hub heard %+v, sum %d; want %+v, sum %d", c.leaves, o, sum, want, int32(c.leaves)*int32(c.rating))
		}
		if o, sum := w.cnt.at(2); o != (obsCounts{}) || sum != 0 { // the hub rated nothing
			t.Errorf("%d leaves: leaf 2 heard %+v, sum %d; want nothing", c.leaves, o, sum)
		}
		// Nobody treated in round 2: in round 3 the hub hears of the affected only.
		w.cnt.count(w, 3, act, 0, n)
		if o, _ := w.cnt.at(0); o.treated != 0 || o.exposures != int32(c.leaves/3) {
			t.Errorf("%d leaves: in round 3 the hub heard %+v of round 2 (treated in round 1 only)", c.leaves, o)
		}
	}
}

// The victims of round t are the group in the inequity's rounds only, and nobody before the
// group is chosen; the round's rows and treated read them.
func TestVictims(t *testing.T) {
	w := &world{n: 3, cond: &netCond{iv: &policy.Intervention{From: 2, To: 3}}}
	if w.victims(2) != nil || w.treated(0, 2) {
		t.Error("victims before the group is chosen")
	}
	w.victim = []bool{true, false, true}
	for r, want := range map[int]bool{1: false, 2: true, 3: true, 4: false} {
		if got := w.victims(r) != nil; got != want || w.treated(0, r) != want || w.treated(1, r) {
			t.Errorf("round %d: victims %v, treated(0) %v, treated(1) %v; want the group: %v", r, w.victims(r), w.treated(0, r), w.treated(1, r), want)
		}
		w.round = r
		w.prevW, w.prevU, w.prevOK, w.prevAffected = make([]int8, 3), make([]int8, 3), make([]bool, 3), make([]bool, 3)
		if got := w.rows().at(2).treated; got != want {
			t.Errorf("round %d: row of agent 2 treated %v, want %v", r, got, want)
		}
	}
}
