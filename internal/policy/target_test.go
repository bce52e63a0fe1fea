package policy

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func pop(n int) Population {
	return Population{
		N:      n,
		Degree: func(u int) int { return u % 7 },
		Income: func(u int) (int, float64) { return u%5 + 1, float64(1000 - u) },
		Choice: func(u int) (float64, bool) {
			if u%10 == 9 {
				return 0, false // missing choice
			}
			return float64(u%7 + 1), true
		},
	}
}

func TestSelectRules(t *testing.T) {
	p := pop(50)
	all, _ := Select(Rule{Kind: TargetAll}, p, 1)
	if len(all) != 50 || all[0] != 0 || all[49] != 49 {
		t.Errorf("all: %v", all)
	}
	r1, _ := Select(Rule{Kind: TargetRandom, K: 8}, p, 1)
	r1b, _ := Select(Rule{Kind: TargetRandom, K: 8}, p, 1)
	r2, _ := Select(Rule{Kind: TargetRandom, K: 8}, p, 2)
	if len(r1) != 8 || !slices.Equal(r1, r1b) || slices.Equal(r1, r2) || !slices.IsSorted(r1) {
		t.Errorf("random: same seed %v %v, other seed %v", r1, r1b, r2)
	}
	// top by choice: value 7 for u%7==6 -> 6,13,20,27,34,41,48 (none is u%10==9 except none); k=5 of these 7.
	top, _ := Select(Rule{Kind: TargetTop, K: 5}, p, 1)
	if len(top) != 5 {
		t.Fatalf("top: %v", top)
	}
	for _, u := range top {
		if u%7 != 6 {
			t.Errorf("top picked %d with choice %d, not the maximum 7", u, u%7+1)
		}
	}
	// Ties among the seven 7s are broken by seed, not by node id.
	differs := false
	for s := uint64(2); s < 20; s++ {
		o, _ := Select(Rule{Kind: TargetTop, K: 5}, p, s)
		if !slices.Equal(o, top) {
			differs = true
		}
	}
	if !differs {
		t.Error("ties are always broken the same way")
	}
	// Missing choices are never chosen: u=9 has u%7+1 = 3 but is missing; k large.
	big, _ := Select(Rule{Kind: TargetTop, K: 1000}, p, 1)
	if slices.Contains(big, 9) || len(big) != 45 {
		t.Errorf("top with missing: %d chosen, contains 9: %v", len(big), slices.Contains(big, 9))
	}
	q1, _ := Select(Rule{Kind: TargetLowestIncome}, p, 1)
	for _, u := range q1 {
		if u%5 != 0 {
			t.Errorf("lowest quintile contains %d", u)
		}
	}
	if len(q1) != 10 {
		t.Errorf("lowest quintile: %v", q1)
	}
	// k lowest: quintile 1 first, lowest income (highest u) first: 45, 40, 35.
	low3, _ := Select(Rule{Kind: TargetLowestIncome, K: 3}, p, 1)
	if !slices.Equal(low3, []int{35, 40, 45}) {
		t.Errorf("3 lowest incomes: %v", low3)
	}
	deg, _ := Select(Rule{Kind: TargetDegree, K: 3}, p, 1)
	for _, u := range deg {
		if u%7 != 6 {
			t.Errorf("degree picked %d", u)
		}
	}
	list, _ := Select(Rule{Kind: TargetList, Nodes: []int{4, 2, 4}}, p, 1)
	if !slices.Equal(list, []int{2, 4}) {
		t.Errorf("list: %v", list)
	}
	if _, err := Select(Rule{Kind: TargetList, Nodes: []int{50}}, p, 1); err == nil {
		t.Error("an out-of-range node is accepted")
	}
	if _, err := Select(Rule{Kind: "nope"}, p, 1); err == nil {
		t.Error("an unknown rule is accepted")
	}
}

func TestInterventionActive(t *testing.T) {
	iv := Intervention{From: 2, To: 4}
	var got []int
	for r := 1; r <= 6; r++ {
		if iv.Active(r) {
			got = append(got, r)
		}
	}
	if !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("active rounds %v", got)
	}
}

// topK picks the same nodes as sorting every candidate by value (descending), then tie rank,
// and keeping the first k: with many ties, nodes without a value, k from 0 past N.
func TestTopKMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 2, 7, 100, 5000} {
		rank := make([]int32, n)
		for i, v := range r.Perm(n) {
			rank[i] = int32(v)
		}
		vals := make([]float64, n)
		ok := make([]bool, n)
		for u := range n {
			vals[u], ok[u] = float64(r.IntN(7)), r.IntN(10) > 0
			if u%3 == 0 {
				vals[u] = r.NormFloat64()
			}
		}
		value := func(u int) (float64, bool) { return vals[u], ok[u] }
		for _, k := range []int{0, 1, 2, 3, n / 10, n / 2, n - 1, n, n + 5} {
			if k < 0 {
				continue
			}
			var cs []int
			for u := range n {
				if ok[u] {
					cs = append(cs, u)
				}
			}
			slices.SortFunc(cs, func(a, b int) int {
				if vals[a] != vals[b] {
					if vals[a] > vals[b] {
						return -1
					}
					return 1
				}
				return int(rank[a]) - int(rank[b])
			})
			want := cs[:min(k, len(cs))]
			want = append([]int{}, want...)
			slices.Sort(want)
			if got := topK(n, k, value, rank); !slices.Equal(got, want) || got == nil {
				t.Fatalf("n %d, k %d: got %v, want %v", n, k, got, want)
			}
		}
	}
}

// The targeting of examples/study3-million.yaml: the 1000 most willing of 1,000,000 (ratings
// 1-7, so most ties are broken by the seeded rank).
func BenchmarkSelectTop1M(b *testing.B) {
	const n = 1_000_000
	w := make([]int8, n)
	r := rand.New(rand.NewPCG(1, 2))
	for u := range w {
		w[u] = int8(1 + r.IntN(7))
	}
	p := Population{N: n, Choice: func(u int) (float64, bool) { return float64(w[u]), true }}
	for b.Loop() {
		if _, err := Select(Rule{Kind: TargetTop, K: 1000}, p, 5); err != nil {
			b.Fatal(err)
		}
	}
}
