package behavioral

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/situation"
)

// randomSocial draws a Study 3 social state covering every branch of the vignette model:
// with and without a shock, memory and anchoring, influence, and unfair-neighbour counts
// beyond the table of their shocks.
func randomSocial(r *rand.Rand) situation.Social {
	var s situation.Social
	s.Round = 1 + r.IntN(30)
	if r.IntN(4) > 0 {
		s.PrevWillingness, s.PrevUnfairness = float64(1+r.IntN(7)), float64(1+r.IntN(7))
		if r.IntN(5) == 0 {
			s.PrevWillingness, s.PrevUnfairness = 1+6*r.Float64(), 1+6*r.Float64() // a 0-10 scale mapped onto 1-7
		}
	}
	if r.IntN(3) > 0 {
		s.Observed = 1 + r.IntN(8)
		s.MeanObserved = 1 + 6*r.Float64()
	}
	switch r.IntN(6) {
	case 0:
		s.UnfairObserved = 1 + r.IntN(3)
	case 1:
		s.UnfairObserved = 60 + r.IntN(10)
	}
	s.TreatedUnfairly = r.IntN(8) == 0
	return s
}

// typedSchemas are rating schemas the typed path meets: Study 3's, willingness alone, 0-10
// scales (rescaled spread), and a 1-40 scale (more than 32 categories: the normal draw).
var typedSchemas = []scenario.Schema{
	study3Schema,
	{Fields: []scenario.Field{likert7}},
	{Fields: []scenario.Field{unfair7, likert7}},
	{Fields: []scenario.Field{{Name: "willingness", Kind: scenario.Likert, Min: 0, Max: 10}, {Name: "unfairness", Kind: scenario.Likert, Min: 0, Max: 10}}},
	{Fields: []scenario.Field{{Name: "willingness", Kind: scenario.Likert, Min: 1, Max: 40}, unfair7}},
}

// TestTypedBitForBit checks that Decide and the prepared Rater give, bit for bit, the values
// of the vignette model as it was before the typed path (reference_test.go), over random
// personas, situations, policies (every channel, with and without amounts), scales and seeds.
func TestTypedBitForBit(t *testing.T) {
	m := New()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	pops := [][]*persona.Persona{testPopulation(300, 5)}
	// Traits of 0 (not given) and incomes left out exercise the defaults.
	sparse := testPopulation(50, 6)
	for i, p := range sparse {
		if i%2 == 0 {
			p.Traits = persona.Traits{}
		}
		p.AnnualIncome = 0
		p.IncomeQuintile = i % 7
	}
	pops = append(pops, sparse)
	pols := append([]situation.PolicyExposure{{ID: "none", Channel: "none"}, {ID: "none", Channel: ""},
		{ID: "enforce0", Channel: "enforce", Strength: 0.5}, {ID: "economic0", Channel: "economic", Strength: 2}}, studyPolicies...)
	n := 0
	for _, pop := range pops {
		agents := make([]persona.Persona, len(pop))
		for i, p := range pop {
			agents[i] = *p
		}
		for vi := range studyVignettes {
			for _, pol := range pols {
				for si, s := range typedSchemas {
					sit := vignette(vi, pol)
					sit.ScaleReversed = si%2 == 1 && vi%2 == 0
					rater, err := m.Prepare(agents, &sit, &s)
					if err != nil {
						t.Fatalf("Prepare: %v", err)
					}
					out := make([]float64, len(s.Fields))
					for range 40 {
						i := r.IntN(len(agents))
						sit.Social = randomSocial(r)
						sd := r.Uint64()
						req := request(pop[i], sit, s, sd)
						want, err := refDecide(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						got, err := m.Decide(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						if got.Raw != want.Raw || len(got.Values) != len(want.Values) {
							t.Fatalf("Decide %q, reference %q", got.Raw, want.Raw)
						}
						rater.Rate(i, &sit.Social, sd, out)
						for k, f := range s.Fields {
							if math.Float64bits(got.Values[f.Name]) != math.Float64bits(want.Values[f.Name]) {
								t.Fatalf("Decide %s = %v, reference %v", f.Name, got.Values[f.Name], want.Values[f.Name])
							}
							if math.Float64bits(out[k]) != math.Float64bits(want.Values[f.Name]) {
								t.Fatalf("%s %s %+v %+v: Rate %s = %v, reference %v", sit.Scenario, pol.ID, s, sit.Social, f.Name, out[k], want.Values[f.Name])
							}
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d decisions compared", n)
}

// TestTypedErrors: Prepare refuses what Decide refuses, with the same error.
func TestTypedErrors(t *testing.T) {
	m := New()
	agents := []persona.Persona{*testPopulation(1, 1)[0]}
	bad := vignette(0, situation.PolicyExposure{ID: "x", Channel: "bribe", Strength: 1})
	noBase := vignette(0, studyPolicies[0])
	noBase.Params = map[string]float64{"cost": 1}
	choice := scenario.Schema{Fields: []scenario.Field{{Name: "willingness", Kind: scenario.Choice, Options: []string{"a", "b"}}}}
	other := scenario.Schema{Fields: []scenario.Field{{Name: "joy", Kind: scenario.Likert, Min: 1, Max: 7}}}
	g := game("dictator", 10)
	for _, c := range []struct {
		sit situation.Situation
		s   scenario.Schema
	}{{bad, study3Schema}, {noBase, study3Schema}, {vignette(0, studyPolicies[0]), choice}, {vignette(0, studyPolicies[0]), other}, {g, amountSchema("give", 10)}} {
		_, perr := m.Prepare(agents, &c.sit, &c.s)
		if !errors.Is(perr, ErrUnsupported) {
			t.Errorf("%s: Prepare error %v, want ErrUnsupported", c.sit.Scenario, perr)
		}
		if c.sit.Kind != "vignette" {
			continue
		}
		_, derr := m.Decide(context.Background(), request(&agents[0], c.sit, c.s, 1))
		if derr == nil || perr == nil || derr.Error() != perr.Error() {
			t.Errorf("%s: Prepare error %v, Decide error %v", c.sit.Scenario, perr, derr)
		}
	}
}

// TestRateAllocatesNothing: the typed path allocates nothing per decision.
func TestRateAllocatesNothing(t *testing.T) {
	m := New()
	pop := testPopulation(8, 2)
	agents := make([]persona.Persona, len(pop))
	for i, p := range pop {
		agents[i] = *p
	}
	sit := vignette(0, studyPolicies[3])
	rater, err := m.Prepare(agents, &sit, &study3Schema)
	if err != nil {
		t.Fatal(err)
	}
	soc := situation.Social{Round: 5, Observed: 3, MeanObserved: 4.3, UnfairObserved: 1, PrevWillingness: 4, PrevUnfairness: 3}
	out := make([]float64, 2)
	if n := testing.AllocsPerRun(100, func() { rater.Rate(3, &soc, 77, out) }); n != 0 {
		t.Errorf("Rate allocates %v times per decision", n)
	}
}

// BenchmarkRateVignette is BenchmarkDecideVignette's decision on the typed path.
func BenchmarkRateVignette(b *testing.B) {
	m := New()
	pop := testPopulation(64, 1)
	agents := make([]persona.Persona, len(pop))
	for i, p := range pop {
		agents[i] = *p
	}
	sit := vignette(0, studyPolicies[3])
	rater, err := m.Prepare(agents, &sit, &study3Schema)
	if err != nil {
		b.Fatal(err)
	}
	soc := situation.Social{Round: 5, Observed: 3, MeanObserved: 4.3, UnfairObserved: 1, PrevWillingness: 4, PrevUnfairness: 3}
	out := make([]float64, 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rater.Rate(i&63, &soc, uint64(i), out)
		i++
	}
}
