package behavioral

import (
	"context"
	"testing"

	"github.com/prosim/prosim/internal/backend"
)

// BenchmarkDecideVignette is one Study 3 decision (willingness and unfairness, with social
// state): Study 3 needs 30 million of these in under 60 s on 2 cores.
func BenchmarkDecideVignette(b *testing.B) {
	m := New()
	pop := testPopulation(64, 1)
	sit := vignette(0, studyPolicies[3])
	sit.Social = backend.Social{Round: 5, Observed: 3, MeanObserved: 4.3, UnfairObserved: 1, PrevWillingness: 4, PrevUnfairness: 3}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, err := m.Decide(ctx, backend.Request{Persona: pop[i&63], Situation: sit, Schema: study3Schema, Seed: uint64(i)})
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
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Decide(ctx, backend.Request{Persona: pop[i&63], Situation: sit, Schema: tppSchema, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
