package network

import "math/bits"

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
