package backend

import (
	"math"
	"strings"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64 `yaml:"input_per_mtok" json:"input_per_mtok"`
	OutputPerMTok float64 `yaml:"output_per_mtok" json:"output_per_mtok"`
}

// Prices maps a model name (or "provider/model", which wins over the bare name) to its price.
// A model id with a dated or versioned suffix ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929",
// "gemini-2.5-pro-001", "...-latest") takes the price of its base name; other suffixes do not
// ("gpt-4o-mini" is not "gpt-4o", "gemini-2.5-flash-lite" is not "gemini-2.5-flash").
// A model not found has an unknown price, never a silent zero: give local models (vLLM,
// Ollama) an explicit zero price if that is what they cost.
type Prices map[string]Price

// DefaultPrices are list prices for standard (non-batch, non-cached-input) text tokens, as
// published by OpenAI, Anthropic and Google, checked 2025-10. Prices change: check your
// provider's pricing page, and override entries in the experiment's config. Gemini 2.5 Pro is
// priced here for prompts up to 200k tokens (longer prompts cost more).
func DefaultPrices() Prices {
	return Prices{
		"gpt-4o":                {2.50, 10.00},
		"gpt-4o-mini":           {0.15, 0.60},
		"gpt-4.1":               {2.00, 8.00},
		"gpt-4.1-mini":          {0.40, 1.60},
		"gpt-4.1-nano":          {0.10, 0.40},
		"o3-mini":               {1.10, 4.40},
		"claude-sonnet-4-5":     {3.00, 15.00},
		"claude-haiku-4-5":      {1.00, 5.00},
		"claude-opus-4-1":       {15.00, 75.00},
		"gemini-2.5-flash":      {0.30, 2.50},
		"gemini-2.5-flash-lite": {0.10, 0.40},
		"gemini-2.5-pro":        {1.25, 10.00},
	}
}

// With returns a copy of p with overrides applied (overrides win).
func (p Prices) With(overrides Prices) Prices {
	out := make(Prices, len(p)+len(overrides))
	for k, v := range p {
		out[k] = v
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

// Scaled returns a copy of p with every price times f (batch jobs bill at half price).
func (p Prices) Scaled(f float64) Prices {
	out := make(Prices, len(p))
	for k, v := range p {
		out[k] = Price{InputPerMTok: v.InputPerMTok * f, OutputPerMTok: v.OutputPerMTok * f}
	}
	return out
}

// Lookup finds the price of a model; ok is false when it is unknown. It is the one rule that
// prices a call, for the spend cap and for the recorded cost alike: the exact name, qualified
// ("provider/model") before bare, then the longest base name of which model is a dated or
// versioned snapshot, a qualified base before a bare one of the same length. So a user's
// "openai/gpt-4o-mini" prices the reply's "gpt-4o-mini-2024-07-18" as it prices the request's
// "gpt-4o-mini" (QA12: the snapshot fell through to the default table's bare price).
func (p Prices) Lookup(provider, model string) (Price, bool) {
	qualified := ""
	if provider != "" {
		qualified = provider + "/"
		if pr, ok := p[qualified+model]; ok {
			return pr, true
		}
	}
	if pr, ok := p[model]; ok {
		return pr, true
	}
	best, bestLen, found := "", 0, false
	for name := range p {
		base := name
		if strings.Contains(name, "/") {
			var mine bool
			if base, mine = strings.CutPrefix(name, qualified); !mine || qualified == "" {
				continue // another provider's price
			}
		}
		if len(base) < bestLen || (len(base) == bestLen && base == name) {
			continue // shorter, or a bare name no better than the qualified one found
		}
		if rest, ok := strings.CutPrefix(model, base); ok && versionSuffix(rest) {
			best, bestLen, found = name, len(base), true
		}
	}
	return p[best], found
}

// versionSuffix reports whether s is a date or version tag appended to a model name:
// "-2024-08-06", "-20250929", "-001", "-latest" or "@20250929".
func versionSuffix(s string) bool {
	if strings.HasPrefix(s, "@") {
		return len(s) > 1
	}
	rest, ok := strings.CutPrefix(s, "-")
	if !ok || rest == "" {
		return false
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	// At least three digits, so that "claude-sonnet-4-5" is not a version of "claude-sonnet-4".
	return rest == "latest" || digits >= 3
}

// Cost is the price of the given tokens in US dollars; ok is false (and the cost NaN) when the
// model's price is unknown. No tokens cost zero whatever the model.
func (p Prices) Cost(provider, model string, in, out int) (usd float64, ok bool) {
	if in == 0 && out == 0 {
		return 0, true
	}
	pr, ok := p.Lookup(provider, model)
	return pr.cost(ok, in, out)
}

// cost is Cost for the looked-up price pr (ok: found) of some tokens.
func (pr Price) cost(ok bool, in, out int) (float64, bool) {
	if in == 0 && out == 0 {
		return 0, true
	}
	if !ok {
		return math.NaN(), false
	}
	return (float64(in)*pr.InputPerMTok + float64(out)*pr.OutputPerMTok) / 1e6, true
}
