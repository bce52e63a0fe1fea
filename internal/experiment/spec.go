package experiment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/provider"
)

// ParseBackendSpec reads the command line's backend shorthand: "builtin", "PROVIDER:MODEL" or
// "PROVIDER:MODEL@BASE_URL", e.g. "openai:gpt-4o-mini",
// "openai:qwen2.5-7b-instruct@http://127.0.0.1:8000/v1", "anthropic:claude-sonnet-4-5".
// vllm and ollama speak OpenAI's protocol and default to their usual local URLs. A URL is the
// backend's base_url, for every provider as in the file (a gateway or proxy in front of
// Anthropic's or Gemini's API, say).
func ParseBackendSpec(s string) (Backend, error) {
	if s == "builtin" {
		return Backend{Spec: s, Provider: "builtin"}, nil
	}
	prov, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Backend{}, fmt.Errorf("backend %q: want builtin or PROVIDER:MODEL[@URL] (providers: %s)", s, strings.Join(Providers, ", "))
	}
	if !slices.Contains(Providers, prov) || prov == "builtin" {
		return Backend{}, fmt.Errorf("backend %q: unknown provider %q (want one of %s)", s, prov, strings.Join(Providers[1:], ", "))
	}
	b := Backend{Spec: s, Provider: prov, Model: rest}
	// A URL contains "://"; split at the last "@" before it so model names may contain "@".
	if i := strings.LastIndex(rest, "@http"); i >= 0 {
		b.Model, b.BaseURL = rest[:i], rest[i+1:]
	}
	if i := strings.LastIndex(b.Model, "@"); b.BaseURL == "" && i >= 0 && (strings.ContainsAny(b.Model[i+1:], ".:") || strings.HasPrefix(b.Model[i+1:], "localhost")) {
		return Backend{}, fmt.Errorf("backend %q: %q is not an http:// or https:// URL", s, b.Model[i+1:])
	}
	if b.BaseURL == "" {
		info, _ := provider.Lookup(prov)
		b.BaseURL = info.LocalURL
	}
	if b.Model == "" {
		return Backend{}, fmt.Errorf("backend %q: the model is missing", s)
	}
	if err := b.check(nil, "backend", nil); err != nil {
		return Backend{}, fmt.Errorf("backend %q: %s", s, err.(interface{ Error() string }).Error())
	}
	return b, nil
}
