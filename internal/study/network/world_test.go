package network

import (
	"slices"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
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
