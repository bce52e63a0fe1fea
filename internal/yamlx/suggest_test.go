package yamlx

import (
	"strings"
	"testing"
)

func TestDidYouMean(t *testing.T) {
	opts := []string{"blood_drive", "volunteering", "visibility", "base"}
	for _, c := range []struct{ word, want string }{
		{"blod_drive", " (did you mean blood_drive?)"},
		{"visibilty", " (did you mean visibility?)"},
		{"visbiility", " (did you mean visibility?)"}, // a swap is one edit
		{"bsae", " (did you mean base?)"},
		{"colour", ""},
		{"blood_drive", ""}, // not misspelt
		{"xyz", ""},
	} {
		if got := DidYouMean(c.word, opts); got != c.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

type backendish struct {
	Provider  string `yaml:"provider"`
	Model     string `yaml:"model"`
	APIKeyEnv string `yaml:"api_key_env"`
}

type populationish struct {
	Source string `yaml:"source"`
	N      int    `yaml:"n"`
}

type fileish struct {
	Backend    backendish    `yaml:"backend"`
	Population populationish `yaml:"population"`
}

// Keys other tools use for a field of another name hint at it, where the mapping has that
// field and does not write it: no edit distance finds provider for type.
func TestUnknownFieldSynonyms(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"backend: {type: openai}", "field backend.type: unknown field (did you mean provider?)"},
		{"backend: {kind: openai}", "field backend.kind: unknown field (did you mean provider?)"},
		{"backend: {name: openai}", "field backend.name: unknown field (did you mean provider?)"},
		{"backend: {provider: openai, model_name: gpt-4o}", "field backend.model_name: unknown field (did you mean model?)"},
		{"backend: {provider: openai, api_key: sk-1}", "field backend.api_key: unknown field (did you mean api_key_env? API keys come from the environment, never from the file"},
		// Not where the mapping has no such field, nor where it writes it already.
		{"population: {type: sample}", "field population.type: unknown field (check its spelling and indentation)"},
		{"backend: {provider: openai, name: mine}", "field backend.name: unknown field (check its spelling and indentation)"},
	} {
		err := DecodeAll([]byte(c.src+"\n"), "exp.yaml", new(fileish))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.src, err, c.want)
		}
		if strings.Contains(err.Error(), "sk-1") {
			t.Errorf("%s: the key echoed: %v", c.src, err)
		}
	}
}
