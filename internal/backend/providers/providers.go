// Package providers builds the provider client for a backend spec: it is the one place that
// knows which provider name maps to which client package.
package providers

import (
	"fmt"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/anthropic"
	"github.com/prosim/prosim/internal/backend/openai"
)

// Spec names one endpoint of one model.
type Spec struct {
	// Provider is openai, vllm, ollama, anthropic or gemini.
	Provider string
	Model    string
	// BaseURL is the API root; empty means the provider's own.
	BaseURL string
	// APIKeyEnv names the environment variable holding the key; empty means the provider's
	// default variable.
	APIKeyEnv string
}

// Names lists the providers New accepts.
var Names = []string{"openai", "vllm", "ollama", "anthropic", "gemini"}

// New makes the client for spec. vLLM and Ollama speak OpenAI's protocol.
func New(spec Spec) (backend.Backend, error) {
	switch strings.ToLower(spec.Provider) {
	case "openai", "vllm", "ollama":
		return openai.New(openai.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv})
	case "anthropic":
		return anthropic.New(anthropic.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv})
	case "gemini":
		return nil, fmt.Errorf("gemini: no client in this build yet (use openai, anthropic, vllm or ollama)")
	}
	return nil, fmt.Errorf("unknown provider %q (want one of %s, or builtin)", spec.Provider, strings.Join(Names, ", "))
}
