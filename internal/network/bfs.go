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

// bfsSum runs a level-synchronous, direction-optimizing BFS (Beamer et al. 2012) from s and
// returns the sum of distances to the nodes it reaches (other than s), their number and the
// eccentricity of s. Top-down levels expand the frontier list; once the frontier's edges
// outnumber a fourteenth of the unexplored ones, bottom-up levels let each unvisited node
// look for any parent in the frontier bitset and stop at the first, which on small-world
// graphs skips most edge checks and reads the CSR arrays sequentially.
func bfsSum(g *Graph, s int32, sc *bfsScratch) (sum, reached int64, ecc int32) {
	const alpha, beta = 14, 24
	n := g.N()
	clear(sc.visited)
	if tail := n & 63; tail != 0 { // bits past N count as visited
		sc.visited[len(sc.visited)-1] = ^uint64(0) << tail
	}
	sc.visited[s>>6] |= 1 << (s & 63)
	cur := append(sc.cur[:0], s)
	nxt := sc.nxt
	front, next := sc.front, sc.next
	unexplored := int64(len(g.adj)) - int64(g.Degree(int(s)))
	bottomUp := false
	count := 1
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
		found := 0
		if bottomUp {
			clear(next)
			for i, w := range sc.visited {
				for un := ^w; un != 0; un &= un - 1 {
					u := i<<6 + bits.TrailingZeros64(un)
					for _, v := range g.adj[g.offsets[u]:g.offsets[u+1]] {
						if front[v>>6]&(1<<(v&63)) != 0 {
							next[i] |= 1 << (u & 63)
							found++
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
						nxt = append(nxt, v)
						unexplored -= g.offsets[v+1] - g.offsets[v]
					}
				}
			}
			cur, nxt = nxt, cur
			found = len(cur)
		}
		if found > 0 {
			sum += int64(level) * int64(found)
			reached += int64(found)
			ecc = level
		}
		count = found
	}
	sc.cur, sc.nxt = cur[:0], nxt[:0]
	sc.front, sc.next = front, next
	return sum, reached, ecc
}

// bfsDist is a multi-source, direction-optimizing BFS (bfsSum's levels): it fills dist
// (length N) with each node's hop distance from the nearest source, -1 where none reaches.
// Sources must be in 0..N-1; repeats are fine. Bottom-up levels write each found node's
// distance in node order, so the large middle levels of a small-world graph read the CSR
// arrays and dist sequentially instead of at random.
func bfsDist(g *Graph, sources []int32, dist []int32, sc *bfsScratch) {
	const alpha, beta = 14, 24
	n := g.N()
	for i := range dist {
		dist[i] = -1
	}
	clear(sc.visited)
	if tail := n & 63; tail != 0 { // bits past N count as visited
		sc.visited[len(sc.visited)-1] = ^uint64(0) << tail
	}
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
		found := 0
		if bottomUp {
			clear(next)
			for i, w := range sc.visited {
				for un := ^w; un != 0; un &= un - 1 {
					u := i<<6 + bits.TrailingZeros64(un)
					for _, v := range g.adj[g.offsets[u]:g.offsets[u+1]] {
						if front[v>>6]&(1<<(v&63)) != 0 {
							next[i] |= 1 << (u & 63)
							dist[u] = level
							found++
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
						dist[v] = level
						nxt = append(nxt, v)
						unexplored -= g.offsets[v+1] - g.offsets[v]
					}
				}
			}
			cur, nxt = nxt, cur
			found = len(cur)
		}
		count = found
	}
	sc.cur, sc.nxt = cur[:0], nxt[:0]
	sc.front, sc.next = front, next
}
