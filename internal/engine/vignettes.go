package engine

import (
	"maps"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
)

// roleText follows the persona in every system prompt.
const roleText = "Answer every question as this person would, in their own situation, honestly and without lecturing."

func systemText(personaText string) string { return personaText + "\n\n" + roleText }

// exposure is the structured form of a policy frame for the behavioural model.
func exposure(f policy.Frame) backend.PolicyExposure {
	return backend.PolicyExposure{ID: f.ID, Channel: f.Channel, Strength: f.Strength, Amount: f.Amount}
}

// situationParams merges a scenario's behavioural-model parameters and its terms.
func situationParams(sc scenario.Scenario, extra map[string]float64) map[string]float64 {
	p := make(map[string]float64, len(sc.Model)+len(sc.Params)+len(extra))
	maps.Copy(p, sc.Model)
	maps.Copy(p, sc.Params)
	maps.Copy(p, extra)
	return p
}

func countKeys(tasks []task) int {
	n := 0
	for _, t := range tasks {
		n += len(t.keys)
	}
	return n
}

func (b *backendEntry) sampling() backend.Sampling {
	return backend.Sampling{Temperature: b.cfg.Temperature, TopP: b.cfg.TopP, MaxTokens: b.cfg.MaxTokens}
}
