package network

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph/graphs/gen"
	"gonum.org/v1/gonum/graph/path"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"
)

// checkSimple verifies CSR invariants: sorted strictly increasing neighbour lists (no
// duplicates), no self-loops, symmetry, and the edge numbering of the package doc.
func checkSimple(t *testing.T, g *Graph) {
	t.Helper()
	seen := make([]int, g.NumEdges())
	next := int32(0)
	for u := range g.N() {
		nb, ids := g.Neighbours(u), g.EdgeIDs(u)
		for i, v := range nb {
			if int(v) == u {
				t.Fatalf("self-loop at %d", u)
			}
			if i > 0 && nb[i-1] >= v {
				t.Fatalf("node %d: neighbours not strictly increasing: %v", u, nb)
			}
			if !g.HasEdge(int(v), u) {
				t.Fatalf("edge %d-%d not symmetric", u, v)
			}
			j, _ := slices.BinarySearch(g.Neighbours(int(v)), int32(u))
			if g.EdgeIDs(int(v))[j] != ids[i] {
				t.Fatalf("edge %d-%d: slot ids differ %d vs %d", u, v, ids[i], g.EdgeIDs(int(v))[j])
			}
			if int(v) > u {
				if ids[i] != next {
					t.Fatalf("edge %d-%d has id %d, want lexicographic %d", u, v, ids[i], next)
				}
				next++
			}
			seen[ids[i]]++
		}
	}
	for e, c := range seen {
		if c != 2 {
			t.Fatalf("edge id %d used by %d slots, want 2", e, c)
		}
	}
}

func sameGraph(a, b *Graph) bool {
	return slices.Equal(a.offsets, b.offsets) && slices.Equal(a.adj, b.adj) && slices.Equal(a.eid, b.eid)
}

func must(t *testing.T) func(*Graph, error) *Graph {
	return func(g *Graph, err error) *Graph {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
}

func toGonum(g *Graph) *simple.UndirectedGraph {
	h := simple.NewUndirectedGraph()
	for u := range g.N() {
		h.AddNode(simple.Node(u))
	}
	for u, v := range g.Edges() {
		h.SetEdge(h.NewEdge(simple.Node(u), simple.Node(v)))
	}
	return h
}

func TestWattsStrogatzLattice(t *testing.T) {
	for _, k := range []int{2, 4, 6, 10} {
		n := 60
		g := must(t)(WattsStrogatz(n, k, 0, 7))
		checkSimple(t, g)
		if g.NumEdges() != n*k/2 {
			t.Fatalf("k=%d: %d edges, want %d", k, g.NumEdges(), n*k/2)
		}
		for u := range n {
			if g.Degree(u) != k {
				t.Fatalf("k=%d: degree(%d)=%d", k, u, g.Degree(u))
			}
			for j := 1; j <= k/2; j++ {
				if !g.HasEdge(u, (u+j)%n) {
					t.Fatalf("k=%d: lattice edge %d-%d missing", k, u, (u+j)%n)
				}
			}
		}
		s := Stats(g, 1)
		want := 3 * float64(k-2) / (4 * float64(k-1))
		if math.Abs(s.Clustering-want) > 1e-12 || math.Abs(s.Transitivity-want) > 1e-12 {
			t.Errorf("k=%d: clustering %v transitivity %v, want %v", k, s.Clustering, s.Transitivity, want)
		}
		// Ring lattice: distances are ceil(d/(k/2)) along the ring.
		var sum float64
		for d := 1; d < n; d++ {
			ring := min(d, n-d)
			sum += math.Ceil(float64(ring) / float64(k/2))
		}
		if math.Abs(s.MeanPathLength-sum/float64(n-1)) > 1e-12 {
			t.Errorf("k=%d: mean path %v, want %v", k, s.MeanPathLength, sum/float64(n-1))
		}
	}
}

func TestWattsStrogatzRewired(t *testing.T) {
	g := must(t)(WattsStrogatz(1000, 6, 0.2, 42))
	checkSimple(t, g)
	if g.NumEdges() != 3000 {
		t.Fatalf("%d edges, want 3000", g.NumEdges())
	}
	if !sameGraph(g, must(t)(WattsStrogatz(1000, 6, 0.2, 42))) {
		t.Fatal("same seed, different graph")
	}
	if sameGraph(g, must(t)(WattsStrogatz(1000, 6, 0.2, 43))) {
		t.Fatal("different seeds, same graph")
	}
	// About p of the lattice edges move: count lattice edges still present.
	kept := 0
	for u := range 1000 {
		for j := 1; j <= 3; j++ {
			if g.HasEdge(u, (u+j)%1000) {
				kept++
			}
		}
	}
	if frac := 1 - float64(kept)/3000; frac < 0.15 || frac > 0.25 {
		t.Errorf("fraction of lattice edges rewired %v, want about 0.2", frac)
	}
	// Small world: clustering stays well above ER's, paths shrink from the lattice's ~83.
	s := Stats(g, 1)
	if s.Clustering < 0.25 || s.MeanPathLength > 8 {
		t.Errorf("clustering %v mean path %v: not a small world", s.Clustering, s.MeanPathLength)
	}
	// p=1 with k close to n still terminates and stays simple.
	checkSimple(t, must(t)(WattsStrogatz(9, 6, 1, 3)))
}

func TestGeneratorErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"ws odd k", func() error { _, e := WattsStrogatz(10, 3, 0.1, 1); return e }()},
		{"ws k>=n", func() error { _, e := WattsStrogatz(6, 6, 0.1, 1); return e }()},
		{"ws p>1", func() error { _, e := WattsStrogatz(10, 2, 1.5, 1); return e }()},
		{"ws p NaN", func() error { _, e := WattsStrogatz(10, 2, math.NaN(), 1); return e }()},
		{"ba m=0", func() error { _, e := BarabasiAlbert(10, 0, 1); return e }()},
		{"ba m>n", func() error { _, e := BarabasiAlbert(3, 4, 1); return e }()},
		{"gnp p<0", func() error { _, e := ErdosRenyiGnp(10, -0.1, 1); return e }()},
		{"gnm too many", func() error { _, e := ErdosRenyiGnm(5, 11, 1); return e }()},
		{"n<0", func() error { _, e := ErdosRenyiGnm(-1, 0, 1); return e }()},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestBarabasiAlbert(t *testing.T) {
	for _, m := range []int{1, 2, 3, 5} {
		n := 2000
		g := must(t)(BarabasiAlbert(n, m, 9))
		checkSimple(t, g)
		if want := m*(m-1)/2 + m*(n-m); g.NumEdges() != want {
			t.Fatalf("m=%d: %d edges, want %d", m, g.NumEdges(), want)
		}
		for u := range n {
			if g.Degree(u) < m {
				t.Fatalf("m=%d: node %d has degree %d < m", m, u, g.Degree(u))
			}
		}
		if _, sizes := Components(g); len(sizes) != 1 {
			t.Fatalf("m=%d: %d components, want 1", m, len(sizes))
		}
	}
	a := must(t)(BarabasiAlbert(5000, 3, 1))
	if !sameGraph(a, must(t)(BarabasiAlbert(5000, 3, 1))) {
		t.Fatal("same seed, different graph")
	}
	if sameGraph(a, must(t)(BarabasiAlbert(5000, 3, 2))) {
		t.Fatal("different seeds, same graph")
	}
	// n == m: just the clique.
	if g := must(t)(BarabasiAlbert(4, 4, 1)); g.NumEdges() != 6 {
		t.Fatalf("BA(4,4): %d edges, want 6", g.NumEdges())
	}
}

// Degree distribution of preferential attachment: P(k) = 2m(m+1)/(k(k+1)(k+2)), so the
// share of degree-m nodes is 2/(m+2); gonum's PreferentialAttachment gives the same.
func TestBarabasiAlbertDegreeDistributionMatchesGonum(t *testing.T) {
	const n, m = 20000, 3
	share := func(deg func(int) int) float64 {
		c := 0
		for u := range n {
			if deg(u) == m {
				c++
			}
		}
		return float64(c) / n
	}
	g := must(t)(BarabasiAlbert(n, m, 5))
	ours := share(g.Degree)
	h := simple.NewUndirectedGraph()
	if err := gen.PreferentialAttachment(h, n, m, rand.NewPCG(5, 5)); err != nil {
		t.Fatal(err)
	}
	theirs := share(func(u int) int { return h.From(int64(u)).Len() })
	want := 2.0 / (m + 2)
	if math.Abs(ours-want) > 0.02 || math.Abs(ours-theirs) > 0.02 {
		t.Errorf("share of degree-%d nodes: ours %v, gonum %v, theory %v", m, ours, theirs, want)
	}
	// The hubs: max degree ~ m sqrt(n) for both.
	gMax := 0
	for u := range n {
		gMax = max(gMax, h.From(int64(u)).Len())
	}
	if r := float64(g.MaxDegree()) / float64(gMax); r < 0.4 || r > 2.5 {
		t.Errorf("max degree ours %d vs gonum %d", g.MaxDegree(), gMax)
	}
}

func TestErdosRenyiGnp(t *testing.T) {
	const n, p = 20000, 0.001
	g := must(t)(ErdosRenyiGnp(n, p, 3))
	checkSimple(t, g)
	md := 2 * float64(g.NumEdges()) / n
	// E ~ Binomial(n(n-1)/2, p): sd of the mean degree ~ 0.045.
	if math.Abs(md-p*(n-1)) > 0.3 {
		t.Errorf("mean degree %v, want %v", md, p*(n-1))
	}
	if !sameGraph(g, must(t)(ErdosRenyiGnp(n, p, 3))) {
		t.Fatal("same seed, different graph")
	}
	if e := must(t)(ErdosRenyiGnp(50, 0, 1)).NumEdges(); e != 0 {
		t.Errorf("p=0: %d edges", e)
	}
	if e := must(t)(ErdosRenyiGnp(50, 1, 1)).NumEdges(); e != 50*49/2 {
		t.Errorf("p=1: %d edges", e)
	}
	// Mean edge count over seeds agrees with gonum's Gnp and with p n(n-1)/2.
	const sn, sp, reps = 300, 0.05, 30
	var ours, theirs float64
	for s := range uint64(reps) {
		ours += float64(must(t)(ErdosRenyiGnp(sn, sp, s)).NumEdges())
		h := simple.NewUndirectedGraph()
		if err := gen.Gnp(h, sn, sp, rand.NewPCG(s, 1)); err != nil {
			t.Fatal(err)
		}
		theirs += float64(h.Edges().Len())
	}
	want := sp * sn * (sn - 1) / 2 // 2242.5, sd of a 30-rep mean ~ 8.4
	if math.Abs(ours/reps-want) > 40 || math.Abs(theirs/reps-want) > 40 {
		t.Errorf("mean edges ours %v gonum %v want %v", ours/reps, theirs/reps, want)
	}
}

func TestErdosRenyiGnm(t *testing.T) {
	for _, c := range []struct{ n, m int }{{1000, 5000}, {30, 400}, {30, 435}, {30, 0}, {2, 1}} {
		g := must(t)(ErdosRenyiGnm(c.n, c.m, 11))
		checkSimple(t, g)
		if g.NumEdges() != c.m {
			t.Errorf("G(%d,%d): %d edges", c.n, c.m, g.NumEdges())
		}
	}
	if !sameGraph(must(t)(ErdosRenyiGnm(1000, 5000, 1)), must(t)(ErdosRenyiGnm(1000, 5000, 1))) {
		t.Fatal("same seed, different graph")
	}
	// Every pair equally likely: each of the 10 pairs of K5 appears in ~ reps*3/10 draws.
	counts := map[[2]int32]int{}
	const reps = 3000
	for s := range uint64(reps) {
		for u, v := range must(t)(ErdosRenyiGnm(5, 3, s)).Edges() {
			counts[[2]int32{u, v}]++
		}
	}
	for pr, c := range counts { // binomial(3000, 0.3): sd 25
		if c < 900-125 || c > 900+125 {
			t.Errorf("pair %v drawn %d times, want ~900", pr, c)
		}
	}
	if len(counts) != 10 {
		t.Errorf("%d distinct pairs, want 10", len(counts))
	}
}

func TestPairOf(t *testing.T) {
	i := uint64(0)
	for v := int32(1); v < 300; v++ {
		for w := int32(0); w < v; w++ {
			if a, b := pairOf(i); a != v || b != w {
				t.Fatalf("pairOf(%d) = %d,%d want %d,%d", i, a, b, v, w)
			}
			i++
		}
	}
	big := uint64(1<<31-2) * uint64(1<<31-3) / 2
	if v, w := pairOf(big); v != 1<<31-2 || w != 0 {
		t.Fatalf("pairOf(%d) = %d,%d", big, v, w)
	}
}

// Mean path length and components agree with gonum's Floyd-Warshall and
// ConnectedComponents; clustering with a direct count on gonum's graph.
func TestStatsMatchGonum(t *testing.T) {
	graphs := map[string]*Graph{
		"gnp sparse (disconnected)": must(t)(ErdosRenyiGnp(150, 0.012, 4)),
		"ba":                        must(t)(BarabasiAlbert(150, 2, 4)),
		"ws":                        must(t)(WattsStrogatz(150, 4, 0.1, 4)),
	}
	for name, g := range graphs {
		s := Stats(g, 0)
		h := toGonum(g)
		ap, _ := path.FloydWarshall(h)
		var sum, pairs float64
		diam := 0.0
		for u := range g.N() {
			for v := range g.N() {
				if w := ap.Weight(int64(u), int64(v)); u != v && !math.IsInf(w, 1) {
					sum += w
					pairs++
					diam = max(diam, w)
				}
			}
		}
		if math.Abs(s.MeanPathLength-sum/pairs) > 1e-9 || float64(s.Diameter) != diam {
			t.Errorf("%s: mean path %v diam %d, gonum %v %v", name, s.MeanPathLength, s.Diameter, sum/pairs, diam)
		}
		cc := topo.ConnectedComponents(h)
		largest := 0
		for _, c := range cc {
			largest = max(largest, len(c))
		}
		if s.Components != len(cc) || s.LargestComponent != largest {
			t.Errorf("%s: components %d/%d, gonum %d/%d", name, s.Components, s.LargestComponent, len(cc), largest)
		}
		var cSum, tri, triples float64
		for u := range g.N() {
			nb := graphNodes(h, u)
			links := 0.0
			for i := range nb {
				for j := i + 1; j < len(nb); j++ {
					if h.HasEdgeBetween(nb[i], nb[j]) {
						links++
					}
				}
			}
			d := float64(len(nb))
			if d >= 2 {
				cSum += links / (d * (d - 1) / 2)
			}
			tri += links
			triples += d * (d - 1) / 2
		}
		if math.Abs(s.Clustering-cSum/float64(g.N())) > 1e-12 || math.Abs(s.Transitivity-tri/triples) > 1e-12 {
			t.Errorf("%s: clustering %v transitivity %v, direct %v %v", name, s.Clustering, s.Transitivity, cSum/float64(g.N()), tri/triples)
		}
		if s.PathSampled || s.ClusteringSampled || s.PathSources != g.N() {
			t.Errorf("%s: small graph sampled: %+v", name, s)
		}
	}
}

func graphNodes(h *simple.UndirectedGraph, u int) []int64 {
	var out []int64
	it := h.From(int64(u))
	for it.Next() {
		out = append(out, it.Node().ID())
	}
	return out
}

func TestStatsDisconnected(t *testing.T) {
	// Two triangles and an isolated node: 12 reachable ordered pairs, all at distance 1.
	g := must(t)(FromEdges(7, [][2]int{{0, 1}, {1, 2}, {2, 0}, {3, 4}, {4, 5}, {5, 3}, {1, 0}}))
	s := Stats(g, 0)
	want := Summary{N: 7, Edges: 6, MeanDegree: 12.0 / 7, MaxDegree: 2, Clustering: 6.0 / 7, Transitivity: 1,
		MeanPathLength: 1, Diameter: 1, Components: 3, LargestComponent: 3, PathSources: 7, ClusteringNodes: 7}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
}

func TestStatsSampled(t *testing.T) {
	g := must(t)(WattsStrogatz(8000, 6, 0.1, 2))
	exact := StatsWith(g, StatsOptions{ExactLimit: 10000})
	s := StatsWith(g, StatsOptions{Seed: 5, Workers: 1})
	if !s.PathSampled || s.PathSources != 500 || !s.ClusteringSampled || s.ClusteringNodes != 20000 || s.Wedges != 200000 {
		t.Fatalf("sampling not reported: %+v", s)
	}
	if exact.PathSampled || exact.ClusteringSampled {
		t.Fatalf("exact run reported sampling: %+v", exact)
	}
	if math.Abs(s.MeanPathLength-exact.MeanPathLength)/exact.MeanPathLength > 0.02 {
		t.Errorf("sampled mean path %v vs exact %v", s.MeanPathLength, exact.MeanPathLength)
	}
	// The standard error is of the size of the sampling error: 500 of 8000 sources.
	if exact.PathSE != 0 || s.PathSE <= 0 || s.PathSE > 0.02 || math.Abs(s.MeanPathLength-exact.MeanPathLength) > 4*s.PathSE {
		t.Errorf("sampled mean path %v, standard error %v; exact %v (its SE %v)", s.MeanPathLength, s.PathSE, exact.MeanPathLength, exact.PathSE)
	}
	few := StatsWith(g, StatsOptions{Seed: 5, PathSources: 20})
	if few.PathSources != 20 || few.PathSE <= s.PathSE || math.Abs(few.MeanPathLength-exact.MeanPathLength) > 4*few.PathSE {
		t.Errorf("20 sources: mean path %v, standard error %v (500 sources: %v); exact %v", few.MeanPathLength, few.PathSE, s.PathSE, exact.MeanPathLength)
	}
	for n, want := range map[int]int{0: 500, 8000: 500, 100_000: 500, 200_000: 250, 1_000_000: 50, 10_000_000: 50} {
		if got := PathSourcesFor(n); got != want {
			t.Errorf("PathSourcesFor(%d) = %d, want %d", n, got, want)
		}
	}
	if math.Abs(s.Clustering-exact.Clustering) > 0.01 || math.Abs(s.Transitivity-exact.Transitivity) > 0.01 {
		t.Errorf("sampled clustering %v/%v vs exact %v/%v", s.Clustering, s.Transitivity, exact.Clustering, exact.Transitivity)
	}
	if s.Components != exact.Components || s.Edges != exact.Edges {
		t.Errorf("exact parts differ")
	}
	// The worker count does not change the result.
	if s4 := StatsWith(g, StatsOptions{Seed: 5, Workers: 4}); s4 != s {
		t.Errorf("workers changed stats: %+v vs %+v", s4, s)
	}
}

func TestBuiltinProsim104(t *testing.T) {
	g, err := Builtin("prosim104")
	if err != nil {
		t.Fatal(err)
	}
	checkSimple(t, g)
	s := Stats(g, 0)
	if s.N != 104 || s.Edges != 312 {
		t.Fatalf("N=%d E=%d, want 104, 312", s.N, s.Edges)
	}
	if math.Abs(s.Clustering-0.33474511599511586) > 1e-9 {
		t.Errorf("clustering %.17g, file says 0.33474511599511586", s.Clustering)
	}
	if math.Abs(s.MeanPathLength-3.2231142643764) > 1e-9 {
		t.Errorf("mean path %.17g, file says 3.2231142643764", s.MeanPathLength)
	}
	// Study id 1 is node 0; its neighbours in the file are 104, 3, 4, 79, 39.
	if got := g.Neighbours(0); !slices.Equal(got, []int32{2, 3, 38, 78, 103}) {
		t.Errorf("node 0 neighbours %v", got)
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), "prosim104") {
		t.Errorf("unknown builtin: %v", err)
	}
	data, _ := builtinFS.ReadFile("data/prosim104.json")
	_, info, err := ReadStudyJSON(bytes.NewReader(data), "prosim104.json")
	if err != nil || info.Asymmetric != 0 || info.Duplicates != 0 || info.DeclaredEdges != 312 || info.DeclaredNodes != 104 {
		t.Errorf("info %+v err %v", info, err)
	}
}

func TestReadStudyJSON(t *testing.T) {
	// One-way entry 3 -> 1 is symmetrised and reported; node 4 is isolated.
	g, info, err := ReadStudyJSON(strings.NewReader(`{"Number_of_nodes": 4, "Number_of_edges": 2,
"Extra": [1],
"Connections": {"1": [2], "2": [1, 1], "3": [1]}}`), "s.json")
	if err != nil {
		t.Fatal(err)
	}
	if g.N() != 4 || g.NumEdges() != 2 || !g.HasEdge(0, 2) || info.Asymmetric != 1 || info.Duplicates != 1 || len(info.Notes) != 3 {
		t.Errorf("N=%d E=%d info %+v", g.N(), g.NumEdges(), info)
	}
	for _, c := range []struct{ in, want string }{
		{"{\"Number_of_nodes\": 3,\n\"Connections\": {\"1\": [2],\n\"2\": [1, 5]}}", `s.json:3: Connections["2"] neighbour "5": ids must be integers 1..3`},
		{"{\"Number_of_nodes\": 3,\n\"Connections\": {\n\"0\": [2]}}", `s.json:3: Connections key "0"`},
		{"{\"Number_of_nodes\": 3,\n\"Connections\": {\"1\": [\n1]}}", `s.json:3: Connections["1"]: self-loop`},
		{"{\"Number_of_nodes\": 3,\n\"Number_of_edges\": 5,\n\"Connections\": {\"1\": [2]}}", `s.json:2: field Number_of_edges=5 but Connections hold 1`},
		{"{\"Number_of_nodes\": 3}", `s.json: missing field "Connections"`},
		{"{\"Number_of_nodes\": 3,\n\"Connections\": {\"1\": [2,]}}", `s.json:2: `},
		{"{\"Number_of_nodes\": \"x\"}", `s.json:1: field Number_of_nodes`},
	} {
		_, _, err := ReadStudyJSON(strings.NewReader(c.in), "s.json")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

func TestReadEdgeList(t *testing.T) {
	in := "# comment\nsource,target,weight\n10,2,0.5\n\n2,10,1\n3,\"10\",2\n"
	res, err := ImportEdgeList(strings.NewReader(in), "e.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.IntIDs, []int{2, 3, 10}) || res.Duplicates != 1 || !res.Weighted || res.Rows != 3 {
		t.Errorf("import %+v", res)
	}
	if g := res.Graph; g.NumEdges() != 2 || !g.HasEdge(0, 2) || !g.HasEdge(1, 2) || g.HasEdge(0, 1) {
		t.Errorf("edges wrong")
	}
	if len(res.Notes) != 2 || !strings.Contains(res.Notes[0], "e.csv:2: column 3 \"weight\" ignored") {
		t.Errorf("notes %q", res.Notes)
	}
	// Header columns in any order; string ids numbered by first appearance.
	res, err = ImportEdgeList(strings.NewReader("Target\tSource\nbob\talice\ncarol\tbob\n"), "t.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.IDs, []string{"alice", "bob", "carol"}) || res.IntIDs != nil || res.Weighted {
		t.Errorf("ids %v int %v", res.IDs, res.IntIDs)
	}
	// No header, whitespace-delimited, ids 1..N become nodes 0..N-1; "01" is 1.
	g, ids, err := ReadEdgeList(strings.NewReader("1 2\n2  3\n3 01\n"), "w.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int{1, 2, 3}) || g.NumEdges() != 3 {
		t.Errorf("ids %v E %d", ids, g.NumEdges())
	}
	for _, c := range []struct{ in, want string }{
		{"source,target\n1,2\n3\n", `e.csv:3:2: field target: missing (column 2)`},
		{"a,b,weight,source,target\n1,2,3,4,5\n1,2,3\n", `e.csv:3:6: field source: missing (column 4)`},
		{"1,2\n2,3\n4,4\n", `e.csv:3:3: field target: self-loop on id "4"`},
		{"1,2\n,3\n", `e.csv:2:1: field source: empty id`},
		{"1,2\n2,\"3\n", `e.csv:2:3: column 2: unbalanced quote`},
		{"# only a comment\n", `e.csv: no edges`},
		{"source,target\n", `e.csv: no edges`},
	} {
		_, err := ImportEdgeList(strings.NewReader(c.in), "e.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
	if _, _, err := ReadEdgeList(strings.NewReader("1,2\n2,x\n"), "e.csv"); err == nil || !strings.Contains(err.Error(), `e.csv:2:3: field target: id "x" is not an integer`) {
		t.Errorf("non-integer id: %v", err)
	}
}

func TestEdgeListRoundTrip(t *testing.T) {
	g := must(t)(BarabasiAlbert(500, 2, 8))
	var b strings.Builder
	b.WriteString("source,target\n")
	for u, v := range g.Edges() {
		b.WriteString(strconv.Itoa(int(v)+1) + "," + strconv.Itoa(int(u)+1) + "\n")
	}
	h, ids, err := ReadEdgeList(strings.NewReader(b.String()), "rt.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !sameGraph(g, h) || ids[0] != 1 || ids[499] != 500 {
		t.Fatal("round trip changed the graph")
	}
}

func TestFromEdgesErrors(t *testing.T) {
	if _, err := FromEdges(3, [][2]int{{0, 3}}); err == nil {
		t.Error("out of range accepted")
	}
	if _, err := FromEdges(3, [][2]int{{1, 1}}); err == nil {
		t.Error("self-loop accepted")
	}
}

func TestDistances(t *testing.T) {
	// Path 0-1-2-3-4, plus 5-6 apart.
	g := must(t)(FromEdges(7, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {5, 6}}))
	if d := Distances(g, []int{0}); !slices.Equal(d, []int32{0, 1, 2, 3, 4, -1, -1}) {
		t.Errorf("from 0: %v", d)
	}
	if d := Distances(g, []int{0, 4, 4}); !slices.Equal(d, []int32{0, 1, 2, 1, 0, -1, -1}) {
		t.Errorf("from 0,4: %v", d)
	}
	if d := Distances(g, []int{6, 2}); !slices.Equal(d, []int32{2, 1, 0, 1, 2, 1, 0}) {
		t.Errorf("from 6,2: %v", d)
	}
	if d := Distances(g, nil); !slices.Equal(d, []int32{-1, -1, -1, -1, -1, -1, -1}) {
		t.Errorf("no sources: %v", d)
	}
	// Against the BFS of the builtin graph: distance-1 nodes are exactly the neighbours.
	b, _ := Builtin("prosim104")
	d := Distances(b, []int{0})
	for v := range b.N() {
		if (d[v] == 1) != b.HasEdge(0, v) {
			t.Fatalf("node %d: distance %d but adjacency %v", v, d[v], b.HasEdge(0, v))
		}
	}
}

// DistancesInto reuses a buffer that holds N nodes, leaves nothing of the previous call in
// it, and allocates when the buffer is too small.
func TestDistancesInto(t *testing.T) {
	g := must(t)(FromEdges(7, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {5, 6}}))
	buf := make([]int32, 9)
	d := DistancesInto(buf, g, []int{6, 2})
	if &d[0] != &buf[0] || !slices.Equal(d, []int32{2, 1, 0, 1, 2, 1, 0}) {
		t.Fatalf("from 6,2 into buf: %v (reused %v)", d, &d[0] == &buf[0])
	}
	if d = DistancesInto(d, g, []int{0}); !slices.Equal(d, []int32{0, 1, 2, 3, 4, -1, -1}) {
		t.Errorf("from 0 into the same buffer: %v", d)
	}
	if d = DistancesInto(make([]int32, 3), g, []int{4}); !slices.Equal(d, []int32{4, 3, 2, 1, 0, -1, -1}) {
		t.Errorf("from 4 into a short buffer: %v", d)
	}
}

func TestTopDegree(t *testing.T) {
	// Degrees: 0:3, 1:2, 2:2, 3:1, 4:2, 5:0.
	g := must(t)(FromEdges(6, [][2]int{{0, 1}, {0, 2}, {0, 3}, {1, 4}, {2, 4}}))
	for k, want := range map[int][]int{0: {}, 1: {0}, 2: {0, 1}, 3: {0, 1, 2}, 4: {0, 1, 2, 4}, 6: {0, 1, 2, 4, 3, 5}, 9: {0, 1, 2, 4, 3, 5}} {
		if got := TopDegree(g, k); !slices.Equal(got, want) {
			t.Errorf("TopDegree(%d) = %v, want %v", k, got, want)
		}
	}
}

func TestActivateEdges(t *testing.T) {
	g := must(t)(BarabasiAlbert(3000, 3, 1))
	e := g.NumEdges()
	for _, f := range []float64{0, 0.1, 0.5, 0.7, 1} {
		a := ActivateEdges(g, f, 9, 3)
		want := int(math.Round(f * float64(e)))
		if a.Count() != want || a.popcount() != want {
			t.Errorf("f=%v: count %d popcount %d, want %d", f, a.Count(), a.popcount(), want)
		}
		checkActive(t, g, a)
	}
	a := ActivateEdges(g, 0.3, 9, 3)
	if !slices.Equal(a.bits, ActivateEdges(g, 0.3, 9, 3).bits) {
		t.Fatal("same seed and round, different edges")
	}
	if slices.Equal(a.bits, ActivateEdges(g, 0.3, 9, 4).bits) || slices.Equal(a.bits, ActivateEdges(g, 0.3, 10, 3).bits) {
		t.Fatal("different round or seed, same edges")
	}
	// Uniform over edges: on a 30-edge graph each edge is active in ~f of the rounds.
	small := must(t)(WattsStrogatz(10, 6, 0, 1))
	counts := make([]int, small.NumEdges())
	const rounds = 4000
	for r := range rounds {
		for u, v := range ActivateEdges(small, 0.3, 2, r).Edges() {
			i, _ := slices.BinarySearch(small.Neighbours(int(u)), v)
			counts[small.EdgeIDs(int(u))[i]]++
		}
	}
	for id, c := range counts { // ~1200, sd ~29
		if c < 1200-150 || c > 1200+150 {
			t.Errorf("edge %d active in %d of %d rounds, want ~1200", id, c, rounds)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("fraction 1.5 did not panic")
		}
	}()
	ActivateEdges(g, 1.5, 1, 1)
}

// checkActive: active neighbours are symmetric, agree with IsActive and with Edges.
func checkActive(t *testing.T, g *Graph, a Active) {
	t.Helper()
	n := 0
	var buf []int32
	for u := range g.N() {
		buf = a.AppendActiveNeighbours(buf[:0], u)
		var it []int32
		for v := range a.ActiveNeighbours(u) {
			it = append(it, v)
		}
		if !slices.Equal(buf, it) {
			t.Fatalf("node %d: slice %v vs iterator %v", u, buf, it)
		}
		for i, v := range g.Neighbours(u) {
			if a.IsActive(int(g.EdgeIDs(u)[i])) != slices.Contains(buf, v) {
				t.Fatalf("node %d: neighbour %d activity mismatch", u, v)
			}
			if slices.Contains(buf, v) != slices.Contains(a.AppendActiveNeighbours(nil, int(v)), int32(u)) {
				t.Fatalf("edge %d-%d active on one side only", u, v)
			}
		}
		n += len(buf)
	}
	m := 0
	for range a.Edges() {
		m++
	}
	if n != 2*a.Count() || m != a.Count() {
		t.Fatalf("slots %d, edges %d, count %d", n, m, a.Count())
	}
}

func TestActivateProb(t *testing.T) {
	g := must(t)(BarabasiAlbert(20000, 3, 1))
	e := float64(g.NumEdges())
	a := ActivateProb(g, 0.2, 4, 1)
	checkActive(t, g, a)
	if a.popcount() != a.Count() || math.Abs(float64(a.Count())-0.2*e) > 5*math.Sqrt(e*0.2*0.8) {
		t.Errorf("count %d popcount %d, want ~%v", a.Count(), a.popcount(), 0.2*e)
	}
	if !slices.Equal(a.bits, ActivateProb(g, 0.2, 4, 1).bits) || slices.Equal(a.bits, ActivateProb(g, 0.2, 4, 2).bits) {
		t.Error("determinism by (seed, round) broken")
	}
	if ActivateProb(g, 0, 1, 1).Count() != 0 || ActivateProb(g, 1, 1, 1).Count() != g.NumEdges() {
		t.Error("p=0 or p=1 wrong")
	}
}

// The direction-optimizing BFS behind Stats agrees with the plain BFS (plainBFS).
func TestBFSSumMatchesPlainBFS(t *testing.T) {
	for name, g := range map[string]*Graph{
		"ba":           must(t)(BarabasiAlbert(20000, 3, 2)),
		"gnp sparse":   must(t)(ErdosRenyiGnp(5003, 0.0004, 2)), // many components, n%64 != 0
		"ws lattice":   must(t)(WattsStrogatz(3001, 4, 0, 2)),   // long paths: stays top-down
		"ws rewired":   must(t)(WattsStrogatz(20000, 10, 0.3, 2)),
		"gnp complete": must(t)(ErdosRenyiGnp(70, 1, 2)),
	} {
		sc := newBFSScratch(g.N())
		for _, s := range []int{0, 1, g.N() / 2, g.N() - 1} {
			sum, reached, ecc := bfsSum(g, int32(s), sc)
			var wsum, wreached int64
			var wecc int32
			dist := make([]int32, g.N())
			plainBFS(g, []int32{int32(s)}, dist, nil)
			for v, d := range dist {
				if v != s && d > 0 {
					wsum += int64(d)
					wreached++
					wecc = max(wecc, d)
				}
			}
			if sum != wsum || reached != wreached || ecc != wecc {
				t.Errorf("%s from %d: got %d/%d/%d want %d/%d/%d", name, s, sum, reached, ecc, wsum, wreached, wecc)
			}
		}
	}
}

// Distances' direction-optimizing BFS agrees with the plain BFS, from one source and from
// many (repeated ones included), on connected and fragmented graphs.
func TestDistancesMatchPlainBFS(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for name, g := range map[string]*Graph{
		"ba":           must(t)(BarabasiAlbert(20000, 3, 2)),
		"gnp sparse":   must(t)(ErdosRenyiGnp(5003, 0.0004, 2)),
		"ws lattice":   must(t)(WattsStrogatz(3001, 4, 0, 2)),
		"ws rewired":   must(t)(WattsStrogatz(20000, 10, 0.3, 2)),
		"gnp complete": must(t)(ErdosRenyiGnp(70, 1, 2)),
	} {
		for _, k := range []int{1, 2, 20, 500} {
			src := make([]int, k)
			src32 := make([]int32, k)
			for i := range src {
				src[i] = r.IntN(g.N())
				if i > 0 && r.IntN(5) == 0 {
					src[i] = src[i-1]
				}
				src32[i] = int32(src[i])
			}
			want := make([]int32, g.N())
			plainBFS(g, src32, want, nil)
			if got := Distances(g, src); !slices.Equal(got, want) {
				t.Errorf("%s, %d sources: distances differ from the plain BFS", name, k)
			}
		}
	}
}

// NearInto agrees with Distances capped at maxd (Far beyond or unreachable) on connected and
// fragmented graphs, with few sources (top-down levels) and many (bottom-up ones), repeated
// sources and none; reached holds each node within maxd once, by level; buffers are reused.
func TestNearIntoMatchesDistances(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var near []uint8
	var reached []int32
	for name, g := range map[string]*Graph{
		"ba":         must(t)(BarabasiAlbert(20000, 3, 2)),
		"gnp sparse": must(t)(ErdosRenyiGnp(5003, 0.0004, 2)),
		"ws lattice": must(t)(WattsStrogatz(3001, 4, 0, 2)),
		"ws rewired": must(t)(WattsStrogatz(20000, 10, 0.3, 2)),
		"path+pair":  must(t)(FromEdges(7, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {5, 6}})),
	} {
		for _, k := range []int{0, 1, 2, 20, 500, 5000} {
			src := make([]int, k)
			for i := range src {
				src[i] = r.IntN(g.N())
				if i > 0 && r.IntN(5) == 0 {
					src[i] = src[i-1]
				}
			}
			dist := Distances(g, src)
			for _, maxd := range []int{0, 1, 2, 3, 6} {
				near, reached = NearInto(near, reached, g, src, maxd)
				seen := make([]bool, g.N())
				last := uint8(0)
				for _, u := range reached {
					if seen[u] || near[u] < last {
						t.Fatalf("%s, %d sources, maxd %d: node %d repeated or out of level order in reached", name, k, maxd, u)
					}
					seen[u], last = true, near[u]
				}
				for u, d := range dist {
					want := uint8(Far)
					if d >= 0 && int(d) <= maxd {
						want = uint8(d)
					}
					if near[u] != want || seen[u] != (want != Far) {
						t.Fatalf("%s, %d sources, maxd %d: node %d near %d (reached %v), distance %d", name, k, maxd, u, near[u], seen[u], d)
					}
				}
			}
		}
	}
}

func TestTinyGraphs(t *testing.T) {
	for name, g := range map[string]*Graph{
		"ws n=0": must(t)(WattsStrogatz(0, 0, 0.5, 1)),
		"ws n=1": must(t)(WattsStrogatz(1, 0, 0.5, 1)),
		"ba n=1": must(t)(BarabasiAlbert(1, 1, 1)),
		"gnp 1":  must(t)(ErdosRenyiGnp(1, 0.5, 1)),
		"gnm 0":  must(t)(ErdosRenyiGnm(0, 0, 1)),
	} {
		s := Stats(g, 1)
		if s.Edges != 0 || s.MeanPathLength != 0 || s.Components != g.N() {
			t.Errorf("%s: %+v", name, s)
		}
		a := ActivateEdges(g, 0.5, 1, 1)
		if a.Count() != 0 || len(TopDegree(g, 3)) != g.N() {
			t.Errorf("%s: activation or top degree wrong", name)
		}
	}
	g := must(t)(BarabasiAlbert(2, 1, 1))
	if g.NumEdges() != 1 || Stats(g, 1).MeanPathLength != 1 {
		t.Errorf("BA(2,1) wrong")
	}
}

// plainBFS fills dist (length N) from the given sources (-1 for unreachable) and returns the
// visit order in queue's storage; the last visited node is the farthest.
func plainBFS(g *Graph, sources []int32, dist []int32, queue []int32) []int32 {
	for i := range dist {
		dist[i] = -1
	}
	queue = queue[:0]
	for _, s := range sources {
		if dist[s] < 0 {
			dist[s] = 0
			queue = append(queue, s)
		}
	}
	for h := 0; h < len(queue); h++ {
		u := queue[h]
		du := dist[u] + 1
		for _, v := range g.adj[g.offsets[u]:g.offsets[u+1]] {
			if dist[v] < 0 {
				dist[v] = du
				queue = append(queue, v)
			}
		}
	}
	return queue
}

// Every bad line of an edge list is reported at once, in file order, up to yamlx.MaxErrors.
func TestEdgeListEveryBadLine(t *testing.T) {
	in := "source,target\n1,2\n3\n4,4\n,5\n6,\"7\n8,9\n"
	_, err := ImportEdgeList(strings.NewReader(in), "e.csv")
	want := "e.csv: 4 problems:\n" +
		"  e.csv:3:2: field target: missing (column 2): found 1 field(s), expected 2\n" +
		"  e.csv:4:3: field target: self-loop on id \"4\": prosim graphs are simple\n" +
		"  e.csv:5:1: field source: empty id\n" +
		"  e.csv:6:3: column 2: unbalanced quote in \"\\\"7\""
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "%d,%d\n", i, i)
	}
	_, err = ImportEdgeList(strings.NewReader(b.String()), "loops.csv")
	if err == nil || !strings.HasPrefix(err.Error(), "loops.csv: 200 problems:") || !strings.HasSuffix(err.Error(), "... and 150 more (the first 50 are shown)") {
		t.Errorf("got %v", err)
	}
}

// Extra columns and weights that are not numbers are refused, each at its line, with the
// file's other problems; checkID's problems (an id naming no agent) come in line order too.
func TestEdgeListColumnsAndCheckedIDs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1,2\n1,3,2.5,extra\n", `e.csv:2:9: column 4: extra field "extra": without a header a line is source, target and an optional weight`},
		{"source,target\n1,3,2.5\n", `e.csv:2:5: column 3: extra field "2.5": the header names 2 columns`},
		{"source,target,weight\n1,3,2.5,x\n", `e.csv:2:9: column 4: extra field "x": the header names 3 columns`},
		{"1,2\n1,3,heavy\n", `e.csv:2:5: field weight: "heavy" is not a number (column 3)`},
		{"weight,target,source\nNaN,1,3\n", `e.csv:2:1: field weight: "NaN" is not a number (column 1)`},
	} {
		_, err := ImportEdgeList(strings.NewReader(c.in), "e.csv")
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
	// A header's other columns hold anything; an empty weight is no weight.
	if _, err := ImportEdgeList(strings.NewReader("source,target,weight,note\n1,2,,a b\n1,3,0.5,x\n"), "e.csv"); err != nil {
		t.Errorf("other columns: %v", err)
	}
	in := "source,target\n1,2\n5,5\n6,99\nfoo,11\n1,3,2.5,extra\n"
	known := func(id string) string {
		if n, err := strconv.Atoi(id); err == nil && n <= 20 {
			return ""
		}
		return fmt.Sprintf("id %q names no agent", id)
	}
	_, err := ImportEdgeListChecked(strings.NewReader(in), "e.csv", known)
	want := "e.csv: 4 problems:\n" +
		"  e.csv:3:3: field target: self-loop on id \"5\": prosim graphs are simple\n" +
		"  e.csv:4:3: field target: id \"99\" names no agent\n" +
		"  e.csv:5:1: field source: id \"foo\" names no agent\n" +
		"  e.csv:6:5: column 3: extra field \"2.5\": the header names 2 columns"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// A spreadsheet's "CSV UTF-8" starts with a byte order mark: the header is still a header.
func TestEdgeListByteOrderMark(t *testing.T) {
	res, err := ImportEdgeList(strings.NewReader("\ufeffsource,target\r\np1,p2\r\np2,p3\r\n"), "e.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.IDs, []string{"p1", "p2", "p3"}) {
		t.Errorf("ids %q", res.IDs)
	}
}

// A line over MaxLineBytes is a problem at its line, with the file's others (it was
// "bufio.Scanner: token too long", no line); an id quoted in a message is clipped, not echoed
// whole (a 1.1 MB id was).
func TestEdgeListLongLinesAndIDs(t *testing.T) {
	defer func(n int) { MaxLineBytes = n }(MaxLineBytes)
	MaxLineBytes = 400
	long := strings.Repeat("4", 150)
	in := "source,target\n1,2\n" + long + "," + long + "\n" + long + "," + long + "," + long + "\n5,5\n" + strings.Repeat("x", 400) + "\n"
	want := "e.csv: 4 problems:\n" +
		"  e.csv:3:152: field target: self-loop on id \"" + long[:40] + "...\": prosim graphs are simple\n" +
		"  e.csv:4: line is longer than the limit of 400 bytes (one edge per line)\n" +
		"  e.csv:5:3: field target: self-loop on id \"5\": prosim graphs are simple\n" +
		"  e.csv:6:401: field target: missing (column 2): found 1 field(s), expected 2"
	if _, err := ImportEdgeList(strings.NewReader(in), "e.csv"); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	// The last line, without a newline, is bounded too.
	if _, err := ImportEdgeList(strings.NewReader("1,2\n"+strings.Repeat("7", 401)), "e.csv"); err == nil || err.Error() != "e.csv:2: line is longer than the limit of 400 bytes (one edge per line)" {
		t.Errorf("last line: %v", err)
	}
	if _, err := ImportEdgeList(strings.NewReader("1,2\n"+strings.Repeat("7", 199)+","+strings.Repeat("8", 200)), "e.csv"); err != nil {
		t.Errorf("a line of the limit: %v", err)
	}
}

// Errors are placed at the field's own column and named by the header's own column names
// (QA7 repro-14): leading blanks, a space-delimited file and a byte order mark are counted
// as the user's editor counts them.
func TestEdgeListErrorsAtTheirColumn(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"from,to\n1,2\n  3 , 3\n", `e.csv:3:7: field to: self-loop on id "3"`},
		{"1  2\n4   x  heavy\n", `e.csv:2:8: field weight: "heavy" is not a number (column 3)`},
		{"\ufeffu\tv\n\t5\t5\n", `e.csv:2:4: field v: self-loop on id "5"`},
		{"node1;node2\n1;\n", `e.csv:2:3: field node2: empty id`},
	} {
		if _, err := ImportEdgeList(strings.NewReader(c.in), "e.csv"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s", c.in, err, c.want)
		}
	}
}
