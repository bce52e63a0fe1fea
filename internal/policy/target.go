package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Target rules: who a policy treats (unfairly) in Study 3.
const (
	TargetAll          = "all"           // every agent
	TargetRandom       = "random"        // k agents drawn uniformly (seeded)
	TargetTop          = "top"           // the k highest by a recorded choice (e.g. willingness)
	TargetLowestIncome = "lowest_income" // the lowest income quintile, or the k lowest incomes
	TargetDegree       = "degree"        // the k nodes of highest degree
	TargetList         = "list"          // an explicit list of nodes
)

// Rule is a target group rule. It is plain data; Select applies it.
type Rule struct {
	Kind string
	K    int
	// Nodes are the nodes (0-based) of TargetList.
	Nodes []int
}

// Population is what a rule may look at. Nodes are 0..N-1; every function is called only for
// nodes in range. Unused functions may be nil (Select reports a rule that needs one).
type Population struct {
	N int
	// Degree is a node's degree (TargetDegree).
	Degree func(node int) int
	// Income is a node's income quintile (1 = lowest) and income figure (TargetLowestIncome).
	Income func(node int) (quintile int, income float64)
	// Choice is a node's recorded choice that the rule ranks (TargetTop); ok false when the
	// node has no valid recorded choice, which excludes it.
	Choice func(node int) (v float64, ok bool)
}

// Intervention applies a policy's unfair treatment to a target group from round From to
// round To (inclusive). The group is chosen once, at round From, from what is known then.
type Intervention struct {
	Rule     Rule
	From, To int
}

// Active reports whether the intervention treats its group in round t.
func (iv Intervention) Active(t int) bool { return t >= iv.From && t <= iv.To }

// Select chooses the target group: nodes in ascending order. Ties are broken by a seeded
// random order of the nodes (so ties do not favour low node ids), which makes the result a
// pure function of (rule, population, seed).
func Select(r Rule, p Population, seed uint64) ([]int, error) {
	n := p.N
	k := r.K
	if k < 0 {
		return nil, fmt.Errorf("target %s: k=%d must be >= 0", r.Kind, k)
	}
	// tie is a seeded random rank of every node.
	tie := func() []int32 {
		perm := make([]int32, n)
		for i := range perm {
			perm[i] = int32(i)
		}
		rng := rand.New(rand.NewPCG(seed, 0x7461726765740001))
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		rank := make([]int32, n)
		for i, v := range perm {
			rank[v] = int32(i)
		}
		return rank
	}
	var out []int
	switch r.Kind {
	case TargetAll:
		out = make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out, nil
	case TargetRandom:
		rank := tie()
		for u := range n {
			if int(rank[u]) < k {
				out = append(out, u)
			}
		}
		return out, nil
	case TargetList:
		for _, u := range r.Nodes {
			if u < 0 || u >= n {
				return nil, fmt.Errorf("target list: node %d is out of range 0..%d (agent id %d of %d)", u, n-1, u+1, n)
			}
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
		slices.Sort(out)
		return out, nil
	case TargetDegree:
		if p.Degree == nil {
			return nil, fmt.Errorf("target degree needs degrees")
		}
		rank := tie()
		return topK(n, k, func(u int) (float64, bool) { return float64(p.Degree(u)), true }, rank), nil
	case TargetTop:
		if p.Choice == nil {
			return nil, fmt.Errorf("target top needs recorded choices")
		}
		return topK(n, k, p.Choice, tie()), nil
	case TargetLowestIncome:
		if p.Income == nil {
			return nil, fmt.Errorf("target lowest_income needs incomes")
		}
		if k == 0 {
			for u := range n {
				if q, _ := p.Income(u); q == 1 {
					out = append(out, u)
				}
			}
			return out, nil
		}
		// k lowest: by quintile, then income, then the seeded tie order.
		return topK(n, k, func(u int) (float64, bool) {
			q, inc := p.Income(u)
			return -(float64(q)*1e12 + inc), true
		}, tie()), nil
	}
	return nil, fmt.Errorf("unknown target rule %q", r.Kind)
}

// topK returns the (up to) k nodes with the highest value, ties broken by rank, ascending.
// rank is a permutation, so the order is total and the k best are one set: a heap of the k
// best so far finds it in one pass (sorting every candidate took about 0.5 s a call at
// 1,000,000 nodes; most nodes lose to the heap's worst in one comparison).
func topK(n, k int, value func(int) (float64, bool), rank []int32) []int {
	type cand struct {
		u int
		v float64
	}
	// better: a ranks before b.
	better := func(a, b cand) bool {
		if a.v != b.v {
			return a.v > b.v
		}
		return rank[a.u] < rank[b.u]
	}
	h := make([]cand, 0, max(0, min(k, n))) // a heap with the worst kept candidate at h[0]
	for u := range n {
		v, ok := value(u)
		if !ok {
			continue
		}
		c := cand{u, v}
		if len(h) < k {
			h = append(h, c)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !better(h[p], h[i]) {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
			continue
		}
		if k == 0 || !better(c, h[0]) {
			continue
		}
		h[0] = c
		for i := 0; ; {
			w := i
			if l := 2*i + 1; l < len(h) && better(h[w], h[l]) {
				w = l
			}
			if r := 2*i + 2; r < len(h) && better(h[w], h[r]) {
				w = r
			}
			if w == i {
				break
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	out := make([]int, len(h))
	for i, c := range h {
		out[i] = c.u
	}
	slices.Sort(out)
	return out
}
