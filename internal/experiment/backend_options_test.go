package experiment

import (
	"fmt"
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
		if err := b.check(nil, "backend", nil); err != nil {
			t.Errorf("%+v: %v", b, err)
		}
	}
	bad := map[string]Backend{
		"structured_output":          {Provider: "vllm", Model: "m", StructuredOutput: "strict"},
		"json_object is for":         {Provider: "anthropic", Model: "c", StructuredOutput: "json_object"},
		"max_tokens_field":           {Provider: "gemini", Model: "g", MaxTokensField: "max_tokens"},
		"has no seed":                {Provider: "anthropic", Model: "c", Seed: "on"},
		"anthropic's API takes no n": {Provider: "anthropic", Model: "c", N: "auto"},
		"gemini's API takes no n":    {Provider: "gemini", Model: "g", N: "auto"},
		"want on or off":             {Provider: "openai", Model: "m", Seed: "42"},
		"backend.seed: the builtin behavioural model takes no seed": {Provider: "builtin", Seed: "on"},
		"backend.n: the builtin behavioural model takes no n":       {Provider: "builtin", N: "off"},
		"want auto or off":                        {Provider: "ollama", Model: "m", N: "4"},
		"want auto, on or off":                    {Provider: "ollama", Model: "m", AdaptiveConcurrency: "yes"},
		"OpenAI-compatible servers only":          {Provider: "anthropic", Model: "c", FirstByteTimeout: Duration(time.Second)},
		"must be >= 0":                            {Provider: "ollama", Model: "m", FirstByteTimeout: Duration(-time.Second)},
		"backend.first_byte_timeout: the builtin": {Provider: "builtin", FirstByteTimeout: Duration(time.Second)},
		"longer than timeout":                     {Provider: "ollama", Model: "m", ConnectTimeout: Duration(time.Minute), Timeout: Duration(time.Second)},
	}
	for want, b := range bad {
		if err := b.check(nil, "backend", nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want one containing %q", b, err, want)
		}
	}
}

// max_reply and max_retry_after: read with units, checked, and defaulted in one place.
func TestBackendWaitAndReplyCaps(t *testing.T) {
	for s, want := range map[string]Size{"1048576": 1 << 20, "512KB": 512 << 10, "2 MiB": 2 << 20, "4mb": 4 << 20} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	// Written back (config.yaml, messages) in binary units by their names, and read again.
	for size, want := range map[Size]string{1 << 20: "1MiB", 64 << 20: "64MiB", 512 << 10: "512KiB", 1000: "1000"} {
		if got := size.String(); got != want {
			t.Errorf("Size(%d) = %q, want %q", size, got, want)
		}
		if back, err := ParseSize(size.String()); err != nil || back != size {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", size, back, err, size)
		}
	}
	for _, s := range []string{"", "MB", "-1MB", "1GB", "1.5MB"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) accepted", s)
		}
	}
	var b Backend
	if b.MaxReplyOrDefault() != 1<<20 || b.MaxRetryAfterOrDefault() != time.Minute {
		t.Fatalf("defaults %d, %v; want 1 MiB and 60s", b.MaxReplyOrDefault(), b.MaxRetryAfterOrDefault())
	}
	ok := Backend{Provider: "openai", Model: "m", MaxReply: 4 << 20, MaxRetryAfter: Duration(5 * time.Second)}
	if err := ok.check(nil, "backend", nil); err != nil || ok.MaxReplyOrDefault() != 4<<20 || ok.MaxRetryAfterOrDefault() != 5*time.Second {
		t.Fatalf("%+v: %v", ok, err)
	}
	bad := map[string]Backend{
		"out of range 1KiB..64MiB": {Provider: "openai", Model: "m", MaxReply: 128 << 20},
		"max_reply":                {Provider: "openai", Model: "m", MaxReply: 10},
		"max_retry_after":          {Provider: "builtin", MaxRetryAfter: Duration(time.Second)},
	}
	for want, b := range bad {
		if err := b.check(nil, "backend", nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want one containing %q", b, err, want)
		}
	}
}

// The behavioural model reads no sampling setting and calls no server: temperature, top_p,
// max_tokens and the limits are refused on it, each at its line, not accepted and ignored
// (QA: builtin with temperature: 5 validated; openai says "out of range 0..2").
func TestBuiltinTakesNoLLMSetting(t *testing.T) {
	src := "name: t\nstudy: vignettes\npopulation: {source: sample, n: 5}\nscenarios: [volunteering]\nbackends:\n" +
		"  - provider: builtin\n    temperature: 5\n    top_p: 0.9\n    max_tokens: 100\n    rpm: 60\n    tpm: 1000\n" +
		"    max_concurrency: 4\n    timeout: 30s\n    max_attempts: 2\n    label: builtin-x\n"
	_, err := Parse([]byte(src), "b.yaml")
	want := []string{"b.yaml: 8 problems:"}
	for i, k := range []string{"temperature", "top_p", "max_tokens", "rpm", "tpm", "max_concurrency", "timeout", "max_attempts"} {
		want = append(want, fmt.Sprintf("  b.yaml:%d:", 7+i))
		if err == nil || !strings.Contains(err.Error(), "field backends[0]."+k+": the builtin behavioural model takes no "+k+" (it is no LLM and calls no server)") {
			t.Errorf("no error for %s:\n%v", k, err)
		}
	}
	wantLines(t, err, want...)
	// temperature: 0 is a setting too; a label is the builtin's own.
	if _, err := Parse([]byte("name: t\nstudy: vignettes\npopulation: {source: sample, n: 5}\nscenarios: [volunteering]\nbackends: [{provider: builtin, temperature: 0}]\n"), "b.yaml"); err == nil {
		t.Error("temperature: 0 accepted on builtin")
	}
}
