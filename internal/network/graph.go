package network

import (
	"fmt"
	"iter"
	"math"
	"slices"
)

// Graph is an immutable undirected simple graph in CSR form; see the package doc for the
// layout and the edge numbering. Methods that return slices return views into the graph:
// callers must not modify them.
type Graph struct {
	offsets []int64
	adj     []int32
	eid     []int32
}

// N is the number of nodes.
func (g *Graph) N() int { return len(g.offsets) - 1 }

// NumEdges is the number of undirected edges E.
func (g *Graph) NumEdges() int { return len(g.adj) / 2 }

// Degree of node u.
func (g *Graph) Degree(u int) int { return int(g.offsets[u+1] - g.offsets[u]) }

// Neighbours of u, sorted ascending (read-only view).
func (g *Graph) Neighbours(u int) []int32 { return g.adj[g.offsets[u]:g.offsets[u+1]] }

// EdgeIDs of u's slots, parallel to Neighbours(u): EdgeIDs(u)[i] is the index of the edge
// {u, Neighbours(u)[i]} (read-only view).
func (g *Graph) EdgeIDs(u int) []int32 { return g.eid[g.offsets[u]:g.offsets[u+1]] }

// HasEdge reports whether u and v are adjacent (binary search in the shorter list).
func (g *Graph) HasEdge(u, v int) bool {
	if g.Degree(u) > g.Degree(v) {
		u, v = v, u
	}
	_, ok := slices.BinarySearch(g.Neighbours(u), int32(v))
	return ok
}

// MaxDegree is the largest degree (0 for an empty graph).
func (g *Graph) MaxDegree() int {
	m := 0
	for u := range g.N() {
		m = max(m, g.Degree(u))
	}
	return m
}

// Edges yields every undirected edge once as (u, v) with u < v, in edge-index order.
func (g *Graph) Edges() iter.Seq2[int32, int32] {
	return func(yield func(int32, int32) bool) {
		for u := range g.N() {
			nb := g.Neighbours(u)
			i, _ := slices.BinarySearch(nb, int32(u))
			for _, v := range nb[i:] {
				if !yield(int32(u), v) {
					return
				}
			}
		}
	}
}

// FromEdges builds a graph on n nodes from an edge list. Duplicate edges (in either
// orientation) are merged; a self-loop or an endpoint outside 0..n-1 is an error.
func FromEdges(n int, edges [][2]int) (*Graph, error) {
	if n < 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("network: FromEdges: n=%d out of range", n)
	}
	pairs := make([]int32, 0, 2*len(edges))
	for i, e := range edges {
		if e[0] < 0 || e[0] >= n || e[1] < 0 || e[1] >= n {
			return nil, fmt.Errorf("network: FromEdges: edge %d (%d,%d) has an endpoint outside 0..%d", i, e[0], e[1], n-1)
		}
		if e[0] == e[1] {
			return nil, fmt.Errorf("network: FromEdges: edge %d is a self-loop on node %d", i, e[0])
		}
		pairs = append(pairs, int32(e[0]), int32(e[1]))
	}
	g, _ := build(n, pairs, true)
	return g, nil
}

// build turns flattened endpoint pairs (no self-loops) into a CSR graph. With dedupe,
// repeated edges are merged and their number returned; without it the caller guarantees
// there are none. pairs is not retained.
func build(n int, pairs []int32, dedupe bool) (*Graph, int) {
	offsets := make([]int64, n+1)
	for _, x := range pairs {
		offsets[x+1]++
	}
	for u := range n {
		offsets[u+1] += offsets[u]
	}
	// cursor doubles as the fill position here and as the eid cursor below.
	cursor := make([]int64, n)
	copy(cursor, offsets[:n])
	adj := make([]int32, len(pairs))
	for i := 0; i < len(pairs); i += 2 {
		a, b := pairs[i], pairs[i+1]
		adj[cursor[a]] = b
		cursor[a]++
		adj[cursor[b]] = a
		cursor[b]++
	}
	for u := range n {
		slices.Sort(adj[offsets[u]:offsets[u+1]])
	}
	dups := 0
	if dedupe {
		w := int64(0)
		start := offsets[0]
		for u := range n {
			end := offsets[u+1]
			offsets[u] = w
			for s := start; s < end; s++ {
				if s > start && adj[s] == adj[s-1] {
					dups++
					continue
				}
				adj[w] = adj[s]
				w++
			}
			start = end
		}
		offsets[n] = w
		adj = slices.Clip(adj[:w])
		dups /= 2 // each repeated edge was seen in both endpoints' lists
	}
	eid := make([]int32, len(adj))
	next := int32(0)
	for u := range n {
		s, end := offsets[u], offsets[u+1]
		// Lower neighbours v<u come first: u's slot in v's list is v's next unfilled upper
		// slot, because v's upper neighbours are sorted and u visits them in order.
		for ; s < end && int(adj[s]) < u; s++ {
			v := adj[s]
			eid[s] = eid[cursor[v]]
			cursor[v]++
		}
		cursor[u] = s
		for ; s < end; s++ {
			eid[s] = next
			next++
		}
	}
	return &Graph{offsets: offsets, adj: adj, eid: eid}, dups
}
