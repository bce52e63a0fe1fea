package behavioral

import (
	"context"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/situation"
)

// BenchmarkDecideVignette is one Study 3 decision (willingness and unfairness, with social
// state): Study 3 needs 30 million of these in under 60 s on 2 cores.
func BenchmarkDecideVignette(b *testing.B) {
	m := New()
	pop := testPopulation(64, 1)
	sit := vignette(0, studyPolicies[3])
	sit.Social = situation.Social{Round: 5, Observed: 3, MeanObserved: 4.3, UnfairObserved: 1, PrevWillingness: 4, PrevUnfairness: 3}
	var reqs [64]backend.Request
	for k := range reqs {
		reqs[k] = request(pop[k], sit, study3Schema, 0)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := reqs[i&63]
		req.Seed = uint64(i)
		_, err := m.Decide(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecideTPP(b *testing.B) {
	m := New()
	pop := testPopulation(64, 1)
	sit := game("tpp", 11, 4)
	var reqs [64]backend.Request
	for k := range reqs {
		reqs[k] = request(pop[k], sit, tppSchema, 0)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := reqs[i&63]
		req.Seed = uint64(i)
		if _, err := m.Decide(ctx, req); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
