package network

import (
	"fmt"
	"iter"
	"math"
	"math/bits"
)

// Active is the set of edges active in one round: a bitset over edge indices (E bits).
// Building one allocates E/8 bytes; it is read-only afterwards and safe for concurrent use.
type Active struct {
	g     *Graph
	bits  []uint64
	count int
}

// ActivateEdges activates exactly round(fraction*E) edges (half away from zero), chosen
// uniformly without replacement. The choice depends only on (graph, fraction, seed, round):
// each round draws from its own PCG stream, so rounds can be built in any order or in
// parallel. It panics if fraction is outside [0,1]; validate configuration beforehand.
// Cost O(min(k, E-k)) expected draws (Floyd's algorithm on the smaller side).
func ActivateEdges(g *Graph, fraction float64, seed uint64, round int) Active {
	if !(fraction >= 0 && fraction <= 1) {
		panic(fmt.Sprintf("network: ActivateEdges: fraction=%v must be in [0,1]", fraction))
	}
	e := g.NumEdges()
	k := int(math.Round(fraction * float64(e)))
	a := Active{g: g, bits: make([]uint64, (e+63)/64), count: k}
	r := newRand(seed, streamActivate^uint64(round)<<32)
	pick, invert := k, false
	if k > e/2 {
		pick, invert = e-k, true
	}
	// Floyd: for j in e-pick..e-1 add a uniform t in [0,j], or j itself if t is taken.
	for j := e - pick; j < e; j++ {
		t := r.IntN(j + 1)
		if a.bits[t>>6]&(1<<(t&63)) != 0 {
			t = j
		}
		a.bits[t>>6] |= 1 << (t & 63)
	}
	if invert {
		for i := range a.bits {
			a.bits[i] = ^a.bits[i]
		}
		if tail := e & 63; tail != 0 {
			a.bits[len(a.bits)-1] &= 1<<tail - 1
		}
	}
	return a
}

// ActivateProb activates each edge independently with probability p (so the number active
// varies around p*E), using geometric skips: O(p*E) draws. Same determinism as
// ActivateEdges, on a different stream. It panics if p is outside [0,1].
func ActivateProb(g *Graph, p float64, seed uint64, round int) Active {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("network: ActivateProb: p=%v must be in [0,1]", p))
	}
	e := g.NumEdges()
	a := Active{g: g, bits: make([]uint64, (e+63)/64)}
	r := newRand(seed, (streamActivate^uint64(round)<<32)+1)
	switch {
	case p == 0:
	case p == 1:
		for i := 0; i < e; i++ {
			a.bits[i>>6] |= 1 << (i & 63)
		}
		a.count = e
	default:
		lp := math.Log1p(-p)
		i := -1
		for {
			skip := math.Log1p(-r.Float64()) / lp
			if skip >= float64(e-i) {
				break
			}
			i += 1 + int(skip)
			if i >= e {
				break
			}
			a.bits[i>>6] |= 1 << (i & 63)
			a.count++
		}
	}
	return a
}

// Count is the number of active edges.
func (a Active) Count() int { return a.count }

// IsActive reports whether edge index e is active.
func (a Active) IsActive(e int) bool { return a.bits[e>>6]&(1<<(e&63)) != 0 }

// ActiveNeighbours yields u's neighbours across active edges, ascending.
func (a Active) ActiveNeighbours(u int) iter.Seq[int32] {
	return func(yield func(int32) bool) {
		s, end := a.g.offsets[u], a.g.offsets[u+1]
		for ; s < end; s++ {
			e := a.g.eid[s]
			if a.bits[e>>6]&(1<<(e&63)) != 0 && !yield(a.g.adj[s]) {
				return
			}
		}
	}
}

// AppendActiveNeighbours appends u's active neighbours to dst (no allocation when dst has
// room), for hot loops that prefer slices to iterators.
func (a Active) AppendActiveNeighbours(dst []int32, u int) []int32 {
	s, end := a.g.offsets[u], a.g.offsets[u+1]
	for ; s < end; s++ {
		e := a.g.eid[s]
		if a.bits[e>>6]&(1<<(e&63)) != 0 {
			dst = append(dst, a.g.adj[s])
		}
	}
	return dst
}

// Edges yields each active edge once as (u, v), u < v, in edge-index order.
func (a Active) Edges() iter.Seq2[int32, int32] {
	return func(yield func(int32, int32) bool) {
		n := a.g.N()
		for u := range n {
			s, end := a.g.offsets[u], a.g.offsets[u+1]
			for ; s < end; s++ {
				v := a.g.adj[s]
				if int(v) <= u {
					continue
				}
				e := a.g.eid[s]
				if a.bits[e>>6]&(1<<(e&63)) != 0 && !yield(int32(u), v) {
					return
				}
			}
		}
	}
}

// popcount is used by tests to check Count against the bitset.
func (a Active) popcount() int {
	c := 0
	for _, w := range a.bits {
		c += bits.OnesCount64(w)
	}
	return c
}
