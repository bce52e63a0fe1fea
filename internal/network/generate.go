package network

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// PCG stream constants, one per purpose, so that e.g. a WS graph and a BA graph built from
// the same seed do not share random numbers.
const (
	streamWS       = 0x5773_0001
	streamBA       = 0x6261_0002
	streamGnp      = 0x676e_7003
	streamGnm      = 0x676e_6d04
	streamActivate = 0x6163_7405 // mixed with the round number
	streamStats    = 0x7374_6106
)

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

func checkN(fn string, n int) error {
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("network: %s: n=%d must be in 0..%d", fn, n, math.MaxInt32)
	}
	return nil
}

func checkProb(fn, name string, p float64) error {
	if !(p >= 0 && p <= 1) { // also rejects NaN
		return fmt.Errorf("network: %s: %s=%v must be in [0,1]", fn, name, p)
	}
	return nil
}

// WattsStrogatz builds a ring lattice where each node is joined to its k/2 nearest
// neighbours on each side, then visits the lattice edges (u, u+j mod n) for j = 1..k/2 and
// u = 0..n-1 in that order and, with probability p, moves the far end u+j to a node w drawn
// uniformly among those that are neither u nor already adjacent to u (the networkx
// algorithm). Degrees are not preserved, the edge count nk/2 is. p=0 gives the lattice
// exactly. k must be even and 0 <= k < n.
func WattsStrogatz(n, k int, p float64, seed uint64) (*Graph, error) {
	if err := checkN("WattsStrogatz", n); err != nil {
		return nil, err
	}
	if k < 0 || k%2 != 0 || (k >= n && k > 0) {
		return nil, fmt.Errorf("network: WattsStrogatz: k=%d must be even and in 0..n-1 (n=%d)", k, n)
	}
	if err := checkProb("WattsStrogatz", "p", p); err != nil {
		return nil, err
	}
	r := newRand(seed, streamWS)
	// Mutable adjacency: one backing array with capacity k per node; only nodes that gain
	// edges by rewiring beyond k reallocate.
	backing := make([]int32, n*k)
	lists := make([][]int32, n)
	for u := range n {
		lists[u] = backing[u*k : u*k : (u+1)*k]
	}
	for u := range n {
		for j := 1; j <= k/2; j++ {
			v := (u + j) % n
			lists[u] = append(lists[u], int32(v))
			lists[v] = append(lists[v], int32(u))
		}
	}
	if p > 0 {
		for j := 1; j <= k/2; j++ {
			for u := range n {
				if r.Float64() >= p {
					continue
				}
				if len(lists[u]) >= n-1 { // u is joined to everyone: nowhere to rewire to
					continue
				}
				w := r.IntN(n)
				for w == u || slices.Contains(lists[u], int32(w)) {
					w = r.IntN(n)
				}
				v := (u + j) % n
				lists[u] = removeValue(lists[u], int32(v))
				lists[v] = removeValue(lists[v], int32(u))
				lists[u] = append(lists[u], int32(w))
				lists[w] = append(lists[w], int32(u))
			}
		}
	}
	pairs := make([]int32, 0, n*k)
	for u, l := range lists {
		for _, v := range l {
			if int(v) > u {
				pairs = append(pairs, int32(u), v)
			}
		}
	}
	lists, backing = nil, nil
	g, _ := build(n, pairs, false)
	return g, nil
}

func removeValue(l []int32, x int32) []int32 {
	i := slices.Index(l, x)
	l[i] = l[len(l)-1]
	return l[:len(l)-1]
}

// BarabasiAlbert builds a preferential-attachment graph: nodes 0..m-1 form a clique, node m
// joins all of them, and each later node u joins m distinct earlier nodes drawn with
// probability proportional to their degree (uniform draws from the list of all edge
// endpoints so far, redrawing repeats). It has m(m-1)/2 + m(n-m) edges and runs in O(nm)
// expected time with 8 bytes per edge of working memory besides the graph. 1 <= m <= n.
func BarabasiAlbert(n, m int, seed uint64) (*Graph, error) {
	if err := checkN("BarabasiAlbert", n); err != nil {
		return nil, err
	}
	if m < 1 || m > n {
		return nil, fmt.Errorf("network: BarabasiAlbert: m=%d must be in 1..n (n=%d)", m, n)
	}
	r := newRand(seed, streamBA)
	e := m*(m-1)/2 + m*(n-m)
	// The flattened edge list doubles as the repeated-nodes list: every endpoint appears
	// once per incident edge.
	pairs := make([]int32, 0, 2*e)
	for i := range m {
		for j := i + 1; j < m; j++ {
			pairs = append(pairs, int32(i), int32(j))
		}
	}
	if n > m {
		for t := range m {
			pairs = append(pairs, int32(m), int32(t))
		}
	}
	targets := make([]int32, 0, m)
	for u := m + 1; u < n; u++ {
		targets = targets[:0]
		pool := len(pairs)
		for len(targets) < m {
			t := pairs[r.IntN(pool)]
			if !slices.Contains(targets, t) {
				targets = append(targets, t)
			}
		}
		for _, t := range targets {
			pairs = append(pairs, int32(u), t)
		}
	}
	g, _ := build(n, pairs, false)
	return g, nil
}

// ErdosRenyiGnp builds G(n,p): each of the n(n-1)/2 pairs is an edge independently with
// probability p. Geometric skipping (Batagelj & Brandes 2005) makes it O(n + E), so large
// sparse graphs are fast.
func ErdosRenyiGnp(n int, p float64, seed uint64) (*Graph, error) {
	if err := checkN("ErdosRenyiGnp", n); err != nil {
		return nil, err
	}
	if err := checkProb("ErdosRenyiGnp", "p", p); err != nil {
		return nil, err
	}
	r := newRand(seed, streamGnp)
	expect := p * float64(n) * float64(n-1) / 2
	if expect > math.MaxInt32 {
		return nil, fmt.Errorf("network: ErdosRenyiGnp: n=%d p=%v expects %.3g edges, more than this graph type holds", n, p, expect)
	}
	pairs := make([]int32, 0, 2*int(expect+4*math.Sqrt(expect)+16))
	switch {
	case p == 0 || n < 2:
	case p == 1:
		for v := 1; v < n; v++ {
			for w := range v {
				pairs = append(pairs, int32(v), int32(w))
			}
		}
	default:
		lp := math.Log1p(-p)
		v, w := int64(1), int64(-1)
		nn := int64(n)
		for v < nn {
			skip := math.Log1p(-r.Float64()) / lp
			if skip > float64(nn)*float64(nn) { // beyond every remaining pair
				break
			}
			w += 1 + int64(skip)
			for w >= v && v < nn {
				w -= v
				v++
			}
			if v < nn {
				pairs = append(pairs, int32(v), int32(w))
			}
		}
	}
	g, _ := build(n, pairs, false)
	return g, nil
}

// ErdosRenyiGnm builds G(n,m): m edges drawn uniformly without replacement from the
// n(n-1)/2 pairs. Pair indices are drawn in batches, sorted and deduplicated until m are
// distinct (when m exceeds half the pairs, the complement is drawn instead), so memory is
// O(m) and time O(m log m).
func ErdosRenyiGnm(n, m int, seed uint64) (*Graph, error) {
	if err := checkN("ErdosRenyiGnm", n); err != nil {
		return nil, err
	}
	total := uint64(n) * uint64(max(n-1, 0)) / 2
	if m < 0 || uint64(m) > total || m > math.MaxInt32 {
		return nil, fmt.Errorf("network: ErdosRenyiGnm: m=%d must be in 0..%d for n=%d", m, min(total, math.MaxInt32), n)
	}
	r := newRand(seed, streamGnm)
	want := uint64(m)
	complement := want > total/2
	if complement {
		want = total - want
	}
	picked := make([]uint64, 0, want)
	for uint64(len(picked)) < want {
		for range want - uint64(len(picked)) {
			picked = append(picked, r.Uint64N(total))
		}
		slices.Sort(picked)
		picked = slices.Compact(picked)
	}
	pairs := make([]int32, 0, 2*m)
	if !complement {
		for _, i := range picked {
			v, w := pairOf(i)
			pairs = append(pairs, v, w)
		}
	} else {
		j := 0
		for i := range total {
			if j < len(picked) && picked[j] == i {
				j++
				continue
			}
			v, w := pairOf(i)
			pairs = append(pairs, v, w)
		}
	}
	g, _ := build(n, pairs, false)
	return g, nil
}

// pairOf decodes pair index i = v(v-1)/2 + w, 0 <= w < v.
func pairOf(i uint64) (int32, int32) {
	v := uint64((1 + math.Sqrt(1+8*float64(i))) / 2)
	for v*(v-1)/2 > i {
		v--
	}
	for (v+1)*v/2 <= i {
		v++
	}
	return int32(v), int32(i - v*(v-1)/2)
}
