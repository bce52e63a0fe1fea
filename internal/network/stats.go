package network

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Summary describes a graph. Clustering is the average local clustering coefficient with
// the networkx definition (nodes of degree < 2 count as 0); Transitivity is 3 x triangles /
// connected triples; MeanPathLength is the mean shortest-path length over ordered pairs
// (u, v), u != v, with v reachable from u (so it is defined on disconnected graphs), and
// Diameter the longest such distance seen. When a figure is sampled its flag is set and the
// sample size reported; Diameter is then a lower bound.
type Summary struct {
	N, Edges         int
	MeanDegree       float64
	MaxDegree        int
	Clustering       float64
	Transitivity     float64
	MeanPathLength   float64
	Diameter         int
	Components       int
	LargestComponent int

	PathSampled bool
	PathSources int     // BFS sources used; N when exact
	PathSE      float64 // standard error of a sampled MeanPathLength (0 when exact)

	ClusteringSampled bool
	ClusteringNodes   int // nodes (drawn with replacement) averaged; N when exact
	Wedges            int // wedges (paths of length 2) sampled for Transitivity; 0 when exact
}

// StatsOptions tunes Stats; zero fields take the defaults shown.
type StatsOptions struct {
	Seed            uint64
	ExactLimit      int // graphs with N <= ExactLimit are measured exactly (5000)
	PathSources     int // BFS sources for large graphs, drawn without replacement (PathSourcesFor(N))
	ClusteringNodes int // nodes sampled for Clustering on large graphs (20000)
	Wedges          int // wedges sampled for Transitivity on large graphs (200000)
	Workers         int // parallel BFS workers (GOMAXPROCS)
}

// PathSourcesFor is the default number of BFS sources of the sampled path-length statistic on
// a graph of n nodes: 500, and on graphs of more than 100,000 nodes 50,000,000/n (at least
// 50), so that the statistic costs at most about 50 million node visits (on a 1M-node
// Barabasi-Albert graph, 50 sources: about 1.3 s of CPU instead of 13 s). Its standard
// error is reported beside it (Summary.PathSE).
func PathSourcesFor(n int) int { return max(50, min(500, 50_000_000/max(n, 1))) }

// Stats summarises g: exactly when N <= 5000, otherwise by seeded sampling with the
// default sizes of StatsOptions. Components are always exact.
func Stats(g *Graph, seed uint64) Summary { return StatsWith(g, StatsOptions{Seed: seed}) }

// StatsWith is Stats with explicit options. Results depend only on g and opts (parallel
// work is summed in integers, so the worker count does not change them).
func StatsWith(g *Graph, o StatsOptions) Summary {
	if o.ExactLimit == 0 {
		o.ExactLimit = 5000
	}
	if o.PathSources == 0 {
		o.PathSources = PathSourcesFor(g.N())
	}
	if o.ClusteringNodes == 0 {
		o.ClusteringNodes = 20000
	}
	if o.Wedges == 0 {
		o.Wedges = 200000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	n := g.N()
	s := Summary{N: n, Edges: g.NumEdges(), MaxDegree: g.MaxDegree()}
	if n > 0 {
		s.MeanDegree = 2 * float64(s.Edges) / float64(n)
	}
	_, sizes := Components(g)
	s.Components = len(sizes)
	for _, c := range sizes {
		s.LargestComponent = max(s.LargestComponent, c)
	}
	exact := n <= o.ExactLimit
	r := newRand(o.Seed, streamStats)
	mark := make([]int32, n)
	for i := range mark {
		mark[i] = -1
	}

	// Clustering and transitivity.
	if exact {
		var sumC float64
		var tri, triples int64
		for u := range n {
			t := trianglesAt(g, u, mark)
			d := int64(g.Degree(u))
			if d >= 2 {
				sumC += float64(t) / float64(d*(d-1)/2)
			}
			tri += t
			triples += d * (d - 1) / 2
		}
		if n > 0 {
			s.Clustering = sumC / float64(n)
		}
		if triples > 0 {
			s.Transitivity = float64(tri) / float64(triples)
		}
		s.ClusteringNodes = n
	} else {
		s.ClusteringSampled = true
		s.ClusteringNodes = o.ClusteringNodes
		var sumC float64
		for range o.ClusteringNodes {
			u := r.IntN(n)
			if d := int64(g.Degree(u)); d >= 2 {
				sumC += float64(trianglesAt(g, u, mark)) / float64(d*(d-1)/2)
			}
		}
		s.Clustering = sumC / float64(o.ClusteringNodes)
		s.Transitivity, s.Wedges = sampleTransitivity(g, o.Wedges, r)
	}

	// Shortest paths.
	sources := make([]int32, n)
	for i := range sources {
		sources[i] = int32(i)
	}
	if !exact && o.PathSources < n {
		for i := range o.PathSources { // partial Fisher-Yates
			j := i + r.IntN(n-i)
			sources[i], sources[j] = sources[j], sources[i]
		}
		sources = sources[:o.PathSources]
		s.PathSampled = true
	}
	s.PathSources = len(sources)
	sums, reached, diam := pathTotals(g, sources, o.Workers)
	var sum, pairs int64
	for i := range sums {
		sum += sums[i]
		pairs += reached[i]
	}
	if pairs > 0 {
		s.MeanPathLength = float64(sum) / float64(pairs)
		if s.PathSampled {
			s.PathSE = ratioSE(sums, reached, s.MeanPathLength, n)
		}
	}
	s.Diameter = int(diam)
	return s
}

// ratioSE is the standard error of the ratio estimator R = sum(y)/sum(x) over k sources drawn
// without replacement from n (y: a source's summed distances, x: the nodes it reaches):
// sqrt((1-k/n) sum (y - R x)^2 / (k (k-1))) / mean(x), the usual linearisation (Cochran 1977,
// 6.9).
func ratioSE(y, x []int64, r float64, n int) float64 {
	k := len(y)
	if k < 2 {
		return 0
	}
	var ss, sx float64
	for i := range y {
		e := float64(y[i]) - r*float64(x[i])
		ss += e * e
		sx += float64(x[i])
	}
	return math.Sqrt((1-float64(k)/float64(n))*ss/float64(k*(k-1))) / (sx / float64(k))
}

// trianglesAt counts edges among u's neighbours. mark is scratch of length N holding -1
// (restored on return).
func trianglesAt(g *Graph, u int, mark []int32) int64 {
	nb := g.Neighbours(u)
	for _, v := range nb {
		mark[v] = int32(u)
	}
	var t int64
	for _, v := range nb {
		for _, w := range g.Neighbours(int(v)) {
			if w > v && mark[w] == int32(u) {
				t++
			}
		}
	}
	for _, v := range nb {
		mark[v] = -1
	}
	return t
}

// sampleTransitivity draws wedges uniformly (centre with probability proportional to
// C(d,2), then two distinct neighbours) and returns the closed fraction.
func sampleTransitivity(g *Graph, wedges int, r interface {
	Int64N(int64) int64
	IntN(int) int
}) (float64, int) {
	n := g.N()
	cum := make([]int64, n+1)
	for u := range n {
		d := int64(g.Degree(u))
		cum[u+1] = cum[u] + d*(d-1)/2
	}
	if cum[n] == 0 {
		return 0, 0
	}
	closed := 0
	for range wedges {
		x := r.Int64N(cum[n])
		lo, hi := 0, n // find u with cum[u] <= x < cum[u+1]
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if cum[mid] <= x {
				lo = mid
			} else {
				hi = mid
			}
		}
		nb := g.Neighbours(lo)
		i := r.IntN(len(nb))
		j := r.IntN(len(nb) - 1)
		if j >= i {
			j++
		}
		if g.HasEdge(int(nb[i]), int(nb[j])) {
			closed++
		}
	}
	return float64(closed) / float64(wedges), wedges
}

// pathTotals runs a BFS from each source, in parallel, and returns per source the sum of
// distances to the reachable other nodes and their number, and the longest distance.
func pathTotals(g *Graph, sources []int32, workers int) (sums, reached []int64, diam int32) {
	workers = max(1, min(workers, len(sources)))
	sums, reached = make([]int64, len(sources)), make([]int64, len(sources))
	diams := make([]int32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := newBFSScratch(g.N())
			for i := w; i < len(sources); i += workers {
				var ecc int32
				sums[i], reached[i], ecc = bfsSum(g, sources[i], sc)
				diams[w] = max(diams[w], ecc)
			}
		}()
	}
	wg.Wait()
	for _, d := range diams {
		diam = max(diam, d)
	}
	return
}

// bfsPool keeps a BFS scratch between calls of Distances (a permutation test calls it
// hundreds of times on one graph).
var bfsPool sync.Pool

// Distances is a multi-source BFS: the hop distance from each node to the nearest source,
// -1 when no source is reachable (all -1 for no sources). Duplicate sources are fine; a
// source outside 0..N-1 panics.
func Distances(g *Graph, sources []int) []int32 {
	return DistancesInto(nil, g, sources)
}

// DistancesInto is Distances written into dist, reused when its capacity holds N nodes (a
// permutation test calls it hundreds of times on one graph of a million nodes); it returns
// the filled slice. Safe for concurrent calls with distinct dist.
func DistancesInto(dist []int32, g *Graph, sources []int) []int32 {
	src := make([]int32, len(sources))
	for i, s := range sources {
		if s < 0 || s >= g.N() {
			panic(fmt.Sprintf("network: Distances: source %d outside 0..%d", s, g.N()-1))
		}
		src[i] = int32(s)
	}
	if cap(dist) < g.N() {
		dist = make([]int32, g.N())
	}
	dist = dist[:g.N()]
	sc, _ := bfsPool.Get().(*bfsScratch)
	if sc == nil || len(sc.visited) != (g.N()+63)/64 {
		sc = newBFSScratch(g.N())
	}
	bfsDist(g, src, dist, sc)
	bfsPool.Put(sc)
	return dist
}

// Components labels connected components 0.. in order of their smallest node and returns
// each node's label and each component's size. Isolated nodes are components of size 1.
func Components(g *Graph) (label []int32, sizes []int) {
	n := g.N()
	label = make([]int32, n)
	for i := range label {
		label[i] = -1
	}
	queue := make([]int32, 0, n)
	for s := range n {
		if label[s] >= 0 {
			continue
		}
		c := int32(len(sizes))
		label[s] = c
		queue = append(queue[:0], int32(s))
		for h := 0; h < len(queue); h++ {
			for _, v := range g.Neighbours(int(queue[h])) {
				if label[v] < 0 {
					label[v] = c
					queue = append(queue, v)
				}
			}
		}
		sizes = append(sizes, len(queue))
	}
	return label, sizes
}

// TopDegree returns the k nodes of highest degree, highest first, ties broken by lower
// node id (all nodes if k >= N). O(N + MaxDegree).
func TopDegree(g *Graph, k int) []int {
	n := g.N()
	k = max(0, min(k, n))
	maxd := g.MaxDegree()
	count := make([]int, maxd+2)
	for u := range n {
		count[g.Degree(u)]++
	}
	if k == 0 {
		return []int{}
	}
	// cut: lowest degree admitted, the degree at which k nodes are covered.
	cut, have := maxd, 0
	for have+count[cut] < k {
		have += count[cut]
		cut--
	}
	// Stable counting sort by descending degree of the nodes with degree >= cut.
	pos := make([]int, maxd+2) // pos[d]: first output slot for degree d
	for d := maxd - 1; d >= cut; d-- {
		pos[d] = pos[d+1] + count[d+1]
	}
	out := make([]int, have+count[cut])
	for u := range n {
		if d := g.Degree(u); d >= cut {
			out[pos[d]] = u
			pos[d]++
		}
	}
	return out[:k]
}
