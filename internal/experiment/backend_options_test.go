package experiment

import (
	"strings"
	"testing"
	"time"
)

// Request options are checked with the backend block: values, and what each provider honours.
func TestBackendRequestOptions(t *testing.T) {
	ok := []Backend{
		{Provider: "ollama", Model: "m", StructuredOutput: "off", MaxTokensField: "max_tokens", Seed: "off"},
		{Provider: "openai", Model: "m", StructuredOutput: "json_object", MaxTokensField: "max_completion_tokens", Seed: "on"},
		{Provider: "anthropic", Model: "c", StructuredOutput: "off", Seed: "off"},
		{Provider: "gemini", Model: "g", StructuredOutput: "json_schema", Seed: "on"},
		{Provider: "ollama", Model: "m", N: "off", AdaptiveConcurrency: "on", ConnectTimeout: Duration(time.Second), Timeout: Duration(time.Minute)},
		{Provider: "vllm", Model: "m", N: "auto", AdaptiveConcurrency: "off"},
		{Provider: "ollama", Model: "m", FirstByteTimeout: Duration(10 * time.Minute), Timeout: Duration(time.Minute)},
	}
	for _, b := range ok {
		if err := b.check(nil, "backend"); err != nil {
			t.Errorf("%+v: %v", b, err)
		}
	}
	bad := map[string]Backend{
		"structured_output":  {Provider: "vllm", Model: "m", StructuredOutput: "strict"},
		"json_object is for": {Provider: "anthropic", Model: "c", StructuredOutput: "json_object"},
		"max_tokens_field":   {Provider: "gemini", Model: "g", MaxTokensField: "max_tokens"},
		"has no seed":        {Provider: "anthropic", Model: "c", Seed: "on"},
		"want on or off":     {Provider: "openai", Model: "m", Seed: "42"},
		"structured_output, max_tokens_field, seed": {Provider: "builtin", Seed: "on"},
		"n, connect_timeout":                        {Provider: "builtin", N: "off"},
		"want auto or off":                          {Provider: "ollama", Model: "m", N: "4"},
		"want auto, on or off":                      {Provider: "ollama", Model: "m", AdaptiveConcurrency: "yes"},
		"OpenAI-compatible servers only":            {Provider: "anthropic", Model: "c", FirstByteTimeout: Duration(time.Second)},
		"must be >= 0":                              {Provider: "ollama", Model: "m", FirstByteTimeout: Duration(-time.Second)},
		"first_byte_timeout or adaptive":            {Provider: "builtin", FirstByteTimeout: Duration(time.Second)},
		"longer than timeout":                       {Provider: "ollama", Model: "m", ConnectTimeout: Duration(time.Minute), Timeout: Duration(time.Second)},
	}
	for want, b := range bad {
		if err := b.check(nil, "backend"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want one containing %q", b, err, want)
		}
	}
}
