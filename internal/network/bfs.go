package network

import (
	"fmt"
	"math/bits"
)

// bfsScratch is one worker's reusable state for bfsSum: bitsets of N bits stay in cache
// where an int32 distance array of 1e6 nodes would not.
type bfsScratch struct {
	visited, front, next []uint64
	cur, nxt             []int32
}

func newBFSScratch(n int) *bfsScratch {
	w := (n + 63) / 64
	return &bfsScratch{
		visited: make([]uint64, w), front: make([]uint64, w), next: make([]uint64, w),
		cur: make([]int32, 0, n), nxt: make([]int32, 0, n),
	}
}

// bfsSum runs a level-synchronous, direction-optimizing BFS (bfsLevels) from s and returns the
// sum of distances to the nodes it reaches (other than s), their number and the eccentricity
// of s.
func bfsSum(g *Graph, s int32, sc *bfsScratch) (sum, reached int64, ecc int32) {
	sc.start(g.N())
	sc.visited[s>>6] |= 1 << (s & 63)
	unexplored := int64(len(g.adj)) - int64(g.Degree(int(s)))
	bfsLevels(g, sc, append(sc.cur[:0], s), unexplored, nil, func(level int32, found int) {
		sum += int64(level) * int64(found)
		reached += int64(found)
		ecc = level
	})
	return sum, reached, ecc
}

// bfsDist is a multi-source, direction-optimizing BFS (bfsLevels): it fills dist (length N)
// with each node's hop distance from the nearest source, -1 where none reaches. Sources must
// be in 0..N-1; repeats are fine.
func bfsDist(g *Graph, sources []int32, dist []int32, sc *bfsScratch) {
	for i := range dist {
		dist[i] = -1
	}
	sc.start(g.N())
	cur := sc.cur[:0]
	unexplored := int64(len(g.adj))
	for _, s := range sources {
		if dist[s] < 0 {
			dist[s] = 0
			sc.visited[s>>6] |= 1 << (s & 63)
			cur = append(cur, s)
			unexplored -= g.offsets[s+1] - g.offsets[s]
		}
	}
	bfsLevels(g, sc, cur, unexplored, dist, func(int32, int) {})
}

// start clears the visited bits for a search of a graph of n nodes (the scratch's).
func (sc *bfsScratch) start(n int) {
	clear(sc.visited)
	if tail := n & 63; tail != 0 { // bits past N count as visited
		sc.visited[len(sc.visited)-1] = ^uint64(0) << tail
	}
}

// bfsLevels expands the frontier cur (its nodes marked visited; unexplored is the number of
// edge ends of the unvisited nodes) level by level until nothing more is reached, calling
// found(level, k) for each level that reaches k > 0 new nodes and, with dist, writing each
// node's level there. Top-down levels expand the frontier list; once the frontier's edges
// outnumber a fourteenth of the unexplored ones, bottom-up levels let each unvisited node
// look for any parent in the frontier bitset and stop at the first, which on small-world
// graphs skips most edge checks and reads the CSR arrays (and dist) sequentially (Beamer et
// al. 2012).
func bfsLevels(g *Graph, sc *bfsScratch, cur []int32, unexplored int64, dist []int32, found func(level int32, k int)) {
	const alpha, beta = 14, 24
	n := g.N()
	nxt := sc.nxt
	front, next := sc.front, sc.next
	bottomUp := false
	count := len(cur)
	for level := int32(1); count > 0; level++ {
		if !bottomUp {
			var fe int64
			for _, u := range cur {
				fe += g.offsets[u+1] - g.offsets[u]
			}
			if fe > unexplored/alpha {
				bottomUp = true
				clear(front)
				for _, u := range cur {
					front[u>>6] |= 1 << (u & 63)
				}
			}
		} else if count < n/beta {
			bottomUp = false
			cur = cur[:0]
			for i, w := range front {
				for ; w != 0; w &= w - 1 {
					cur = append(cur, int32(i<<6+bits.TrailingZeros64(w)))
				}
			}
		}
		k := 0
		if bottomUp {
			clear(next)
			for i, w := range sc.visited {
				for un := ^w; un != 0; un &= un - 1 {
					u := i<<6 + bits.TrailingZeros64(un)
					for _, v := range g.adj[g.offsets[u]:g.offsets[u+1]] {
						if front[v>>6]&(1<<(v&63)) != 0 {
							next[i] |= 1 << (u & 63)
							if dist != nil {
								dist[u] = level
							}
							k++
							unexplored -= g.offsets[u+1] - g.offsets[u]
							break
						}
					}
				}
			}
			for i, w := range next {
				sc.visited[i] |= w
			}
			front, next = next, front
		} else {
			nxt = nxt[:0]
			for _, u := range cur {
				for _, v := range g.adj[g.offsets[u]:g.offsets[u+1]] {
					if sc.visited[v>>6]&(1<<(v&63)) == 0 {
						sc.visited[v>>6] |= 1 << (v & 63)
						if dist != nil {
							dist[v] = level
						}
						nxt = append(nxt, v)
						unexplored -= g.offsets[v+1] - g.offsets[v]
					}
				}
			}
			cur, nxt = nxt, cur
			k = len(cur)
		}
		if k > 0 {
			found(level, k)
		}
		count = k
	}
	sc.cur, sc.nxt = cur[:0], nxt[:0]
	sc.front, sc.next = front, next
}

// Far is NearInto's mark for a node more than maxd hops from every source, or unreachable.
const Far = 0xFF

// NearInto is a multi-source BFS that stops after maxd levels (0 <= maxd < Far): near[u] is
// u's hop distance from the nearest source when at most maxd, Far otherwise, and reached
// lists the nodes within maxd hops by level (sources first, each node once). A caller that
// needs only distances 0..maxd and "farther" (the permutation test's exposure groups) skips
// the large outer levels of a small-world graph that a full BFS must scan. near and reached
// are reused when their capacity allows; a source outside 0..N-1 panics. Levels are top-down
// unless the frontier's edges outnumber a fourteenth of the unexplored ones (bfsSum's rule;
// on the last level, all of them), then bottom-up over the unreached nodes.
func NearInto(near []uint8, reached []int32, g *Graph, sources []int, maxd int) ([]uint8, []int32) {
	const alpha = 14
	if maxd < 0 || maxd >= Far {
		panic(fmt.Sprintf("network: NearInto: maxd %d outside 0..%d", maxd, Far-1))
	}
	n := g.N()
	if cap(near) < n {
		near = make([]uint8, n)
	}
	near = near[:n]
	if n > 0 { // fill with Far by doubling copies (memmove), not byte by byte
		near[0] = Far
		for i := 1; i < n; i *= 2 {
			copy(near[i:], near[:i])
		}
	}
	reached = reached[:0]
	unexplored := int64(len(g.adj))
	for _, s := range sources {
		if s < 0 || s >= n {
			panic(fmt.Sprintf("network: NearInto: source %d outside 0..%d", s, n-1))
		}
		if near[s] == Far {
			near[s] = 0
			reached = append(reached, int32(s))
			unexplored -= g.offsets[s+1] - g.offsets[s]
		}
	}
	start := 0
	for level := 1; level <= maxd && start < len(reached); level++ {
		cur := reached[start:] // appends below go past cur (or to a new array): cur is not changed
		start = len(reached)
		var fe int64
		for _, u := range cur {
			fe += g.offsets[u+1] - g.offsets[u]
		}
		lv, prev := uint8(level), uint8(level-1)
		// On the last level bottom-up gains no later level from its bitset-like sweep and
		// checks every edge of each node it does not reach: only worth it past fe edges.
		if level < maxd && fe > unexplored/alpha || fe > unexplored {
			for u := range n {
				if near[u] != Far {
					continue
				}
				for _, v := range g.adj[g.offsets[u]:g.offsets[u+1]] {
					if near[v] == prev {
						near[u] = lv
						reached = append(reached, int32(u))
						unexplored -= g.offsets[u+1] - g.offsets[u]
						break
					}
				}
			}
			continue
		}
		last := level == maxd // no later level reads unexplored: skip the reads of offsets[v]
		for _, u := range cur {
			for _, v := range g.adj[g.offsets[u]:g.offsets[u+1]] {
				if near[v] == Far {
					near[v] = lv
					reached = append(reached, v)
					if !last {
						unexplored -= g.offsets[v+1] - g.offsets[v]
					}
				}
			}
		}
	}
	return near, reached
}
