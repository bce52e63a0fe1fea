package experiment

import (
	"slices"
	"strings"
	"testing"
)

// A local server's provider without base_url is asked at its default URL, as the
// PROVIDER:MODEL spec does (QA: provider: vllm in a file asked for OPENAI_API_KEY, the hosted
// API's key); endpoints come first, and a hosted API keeps its own URL (empty).
func TestBackendURLs(t *testing.T) {
	for _, c := range []struct {
		b    Backend
		want []string
	}{
		{Backend{Provider: "vllm"}, []string{"http://127.0.0.1:8000/v1"}},
		{Backend{Provider: "ollama"}, []string{"http://127.0.0.1:11434/v1"}},
		{Backend{Provider: "vllm", BaseURL: "http://gpu:9000/v1"}, []string{"http://gpu:9000/v1"}},
		{Backend{Provider: "ollama", Endpoints: []string{"http://a/v1", "http://b/v1"}}, []string{"http://a/v1", "http://b/v1"}},
		{Backend{Provider: "openai"}, []string{""}},
		{Backend{Provider: "anthropic"}, []string{""}},
	} {
		if got := c.b.URLs(); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.b, got, c.want)
		}
	}
	spec, err := ParseBackendSpec("vllm:m")
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.URLs(); !slices.Equal(got, (Backend{Provider: "vllm"}).URLs()) {
		t.Errorf("the spec vllm:m is asked at %q, a file's provider: vllm at another URL", got)
	}
}

// A directory given where an experiment file is expected (prosim power RUN_DIR) is told so,
// not "read X: is a directory" (QA).
func TestLoadADirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), dir+" is a directory: give an experiment file") {
		t.Errorf("Load(dir): %v", err)
	}
}
