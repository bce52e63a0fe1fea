// Package provider is the one list of the decision backends prosim knows: their names, the
// wire protocol each speaks and the default URL of local servers. The experiment file's
// checks, the command line's backend specs, the client registry (backend/providers) and the
// price table all read it, so a provider is added in one place.
package provider

import "slices"

// Info describes one provider.
type Info struct {
	Name string
	// Protocol is the client that speaks to it: openai, anthropic, gemini, or builtin.
	Protocol string
	// LocalURL is the default base URL of a local server (vLLM, Ollama); empty for hosted APIs.
	LocalURL string
	// MaxTemperature is the highest sampling temperature the API accepts (the lowest is 0):
	// Anthropic's Messages API documents 0..1, OpenAI's chat completions and Gemini 0..2.
	// A value above it is refused with HTTP 400 on every call, so the file's checks refuse it.
	MaxTemperature float64
}

// Builtin is the embedded behavioural model: not an LLM, no client, no key.
const Builtin = "builtin"

var all = []Info{
	{Name: Builtin, Protocol: Builtin},
	{Name: "openai", Protocol: "openai", MaxTemperature: 2},
	{Name: "anthropic", Protocol: "anthropic", MaxTemperature: 1},
	{Name: "gemini", Protocol: "gemini", MaxTemperature: 2},
	{Name: "vllm", Protocol: "openai", LocalURL: "http://127.0.0.1:8000/v1", MaxTemperature: 2},
	{Name: "ollama", Protocol: "openai", LocalURL: "http://127.0.0.1:11434/v1", MaxTemperature: 2},
}

// Lookup returns the provider named name.
func Lookup(name string) (Info, bool) {
	for _, p := range all {
		if p.Name == name {
			return p, true
		}
	}
	return Info{}, false
}

// Names lists every provider, builtin first.
func Names() []string {
	out := make([]string, len(all))
	for i, p := range all {
		out[i] = p.Name
	}
	return out
}

// Protocol names the wire protocol of a provider (vllm and ollama speak OpenAI's); an
// unknown name is returned as it is.
func Protocol(name string) string {
	if p, ok := Lookup(name); ok {
		return p.Protocol
	}
	return name
}

// OpenAIBodyFields are the request body fields prosim's OpenAI-compatible client writes itself
// (or may write: seed, n, response_format, stream): a backend's extra_body may not set them,
// since the request would then carry the field twice or override what prosim records.
var OpenAIBodyFields = []string{"model", "messages", "temperature", "top_p", "max_tokens",
	"max_completion_tokens", "n", "seed", "response_format", "stream", "stream_options"}

// ExtraBodyTaken reports whether an extra_body field is one the client of protocol sets itself.
func ExtraBodyTaken(protocol, field string) bool {
	return protocol == "openai" && slices.Contains(OpenAIBodyFields, field)
}
