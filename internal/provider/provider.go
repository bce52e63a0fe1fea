// Package provider is the one list of the decision backends prosim knows: their names, the
// wire protocol each speaks and the default URL of local servers. The experiment file's
// checks, the command line's backend specs, the client registry (backend/providers) and the
// price table all read it, so a provider is added in one place.
package provider

// Info describes one provider.
type Info struct {
	Name string
	// Protocol is the client that speaks to it: openai, anthropic, gemini, or builtin.
	Protocol string
	// LocalURL is the default base URL of a local server (vLLM, Ollama); empty for hosted APIs.
	LocalURL string
}

// Builtin is the embedded behavioural model: not an LLM, no client, no key.
const Builtin = "builtin"

var all = []Info{
	{Name: Builtin, Protocol: Builtin},
	{Name: "openai", Protocol: "openai"},
	{Name: "anthropic", Protocol: "anthropic"},
	{Name: "gemini", Protocol: "gemini"},
	{Name: "vllm", Protocol: "openai", LocalURL: "http://127.0.0.1:8000/v1"},
	{Name: "ollama", Protocol: "openai", LocalURL: "http://127.0.0.1:11434/v1"},
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
