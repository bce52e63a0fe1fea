package behavioral

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/situation"
)

// testPopulation builds n personas with traits drawn from the reference distributions
// (Normal(mean, sd) clipped to [1,5]) and equal income quintiles.
func testPopulation(n int, seed uint64) []*persona.Persona {
	r := rand.New(rand.NewPCG(seed, 99))
	tr := func(m, sd float64) float64 { return clamp(m+sd*r.NormFloat64(), 1, 5) }
	out := make([]*persona.Persona, n)
	for i := range out {
		q := 1 + i%5
		out[i] = &persona.Persona{
			ID: i + 1, IncomeQuintile: q, AnnualIncome: incomeByQuintile[q] * math.Exp(0.1*r.NormFloat64()),
			Currency: "yuan",
			Traits: persona.Traits{
				EmpathicConcern: tr(3, .5), MoralIdentity: tr(3, .5), SocialResponsibility: tr(3, .5),
				AltruisticTendency: tr(3, .5), Agreeableness: tr(3.69, .47), Conscientiousness: tr(3.29, .59),
				Neuroticism: tr(2.96, .67), Openness: tr(3.57, .59), Extraversion: tr(3.19, .66),
			},
		}
	}
	return out
}

func popParams(pop []*persona.Persona) []params {
	ps := make([]params, len(pop))
	for i, p := range pop {
		ps[i] = personaParams(p)
	}
	return ps
}

var (
	likert7   = scenario.Field{Name: "willingness", Kind: scenario.Likert, Min: 1, Max: 7}
	unfair7   = scenario.Field{Name: "unfairness", Kind: scenario.Likert, Min: 1, Max: 7}
	tppSchema = scenario.Schema{Fields: []scenario.Field{
		{Name: "valence_before", Kind: scenario.Likert, Min: -4, Max: 4},
		{Name: "arousal_before", Kind: scenario.Likert, Min: 1, Max: 9},
		{Name: "choice", Kind: scenario.Choice, Options: []string{"accept", "punish"}},
		{Name: "valence_after", Kind: scenario.Likert, Min: -4, Max: 4},
		{Name: "arousal_after", Kind: scenario.Likert, Min: 1, Max: 9},
	}}
)

func amountSchema(name string, max float64) scenario.Schema {
	return scenario.Schema{Fields: []scenario.Field{{Name: name, Kind: scenario.Amount, Min: 0, Max: max, Step: 1}}}
}

func choiceSchema(opts ...string) scenario.Schema {
	return scenario.Schema{Fields: []scenario.Field{{Name: "choice", Kind: scenario.Choice, Options: opts}}}
}

// request is the decision of persona p in situation sit.
func request(p *persona.Persona, sit situation.Situation, s scenario.Schema, seed uint64) backend.Request {
	sit.Persona = p
	return backend.Request{Structured: &sit, Schema: s, Seed: seed}
}

// decide runs one decision and checks it against the schema.
func decide(t testing.TB, m *Model, p *persona.Persona, sit situation.Situation, s scenario.Schema, seed uint64) map[string]float64 {
	t.Helper()
	rep, err := m.Decide(context.Background(), request(p, sit, s, seed))
	if err != nil {
		t.Fatalf("Decide(%s): %v", sit.Scenario, err)
	}
	if err := s.Validate(rep.Values); err != nil {
		t.Fatalf("Decide(%s): invalid values %v: %v", sit.Scenario, rep.Values, err)
	}
	return rep.Values
}

func game(id string, kv ...float64) situation.Situation {
	return situation.Situation{Scenario: id, Kind: "game", Params: pmap(id, kv...)}
}

var gameParamNames = map[string][]string{
	"tpp":                 {"x", "y"},
	"tpp_graded":          {"transfer"},
	"dictator":            {"endowment"},
	"ultimatum_proposer":  {"endowment"},
	"ultimatum_responder": {"endowment", "offer"},
	"ultimatum_mao":       {"endowment"},
	"trust_sender":        {"endowment", "multiplier"},
	"trust_returner":      {"endowment", "multiplier", "sent"},
	"public_goods_punish": {"endowment", "own", "target", "ratio"},
}

func pmap(id string, kv ...float64) map[string]float64 {
	m := map[string]float64{}
	for i, n := range gameParamNames[id] {
		if i < len(kv) {
			m[n] = kv[i]
		}
	}
	return m
}

type personaT = persona.Persona

func backendSituation(id string, params map[string]float64) situation.Situation {
	return situation.Situation{Scenario: id, Kind: "game", Params: params}
}
