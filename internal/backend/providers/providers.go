// Package providers builds the provider client for a backend spec: it is the one place that
// knows which provider name maps to which client package.
package providers

import (
	"fmt"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/anthropic"
	"github.com/prosim/prosim/internal/backend/gemini"
	"github.com/prosim/prosim/internal/backend/openai"
	"github.com/prosim/prosim/internal/provider"
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

// Names lists the providers New accepts: every provider but the builtin model.
var Names = provider.Names()[1:]

// New makes the client for spec. vLLM and Ollama speak OpenAI's protocol. On error the
// Backend is nil (an untyped nil, never a nil client pointer in an interface).
func New(spec Spec) (backend.Backend, error) {
	switch provider.Protocol(strings.ToLower(spec.Provider)) {
	case "openai":
		return client(openai.New(openai.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv}))
	case "anthropic":
		return client(anthropic.New(anthropic.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv}))
	case "gemini":
		return client(gemini.New(gemini.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv}))
	}
	return nil, fmt.Errorf("unknown provider %q (want one of %s, or builtin)", spec.Provider, strings.Join(Names, ", "))
}

func client[C backend.Backend](c C, err error) (backend.Backend, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}
