package tokens

import (
	"strings"
	"testing"
)

// Known counts of OpenAI's tokenizers (as tiktoken's Python package gives them), offline.
func TestOpenAICounts(t *testing.T) {
	for _, c := range []struct {
		model, text string
		want        int
		enc         string
	}{
		{"gpt-4o-mini", "hello world", 2, "o200k_base"},
		{"gpt-5", "hello world", 2, "o200k_base"},
		{"gpt-4", "hello world", 2, "cl100k_base"},
		{"gpt-4o", "", 0, "o200k_base"},
	} {
		k := For("openai", c.model)
		if k.Tokenizer() != c.enc {
			t.Errorf("%s: tokenizer %q, want %q", c.model, k.Tokenizer(), c.enc)
		}
		if got := k.Count(c.text); got != c.want {
			t.Errorf("%s %q: %d tokens, want %d", c.model, c.text, got, c.want)
		}
	}
}

func TestApproximatedElsewhere(t *testing.T) {
	for _, pm := range [][2]string{{"ollama", "gpt-4o"}, {"vllm", "llama3"}, {"anthropic", "claude-sonnet-4-5"}, {"openai", "qwen2.5-7b"}} {
		k := For(pm[0], pm[1])
		if k.Tokenizer() != "" || k.Count("12345678") != 2 {
			t.Errorf("%v: tokenizer %q, count %d; want the 4-characters approximation", pm, k.Tokenizer(), k.Count("12345678"))
		}
	}
}

// Past Exact texts the count is scaled by length at the ratio the exact ones showed.
func TestScaledAfterExact(t *testing.T) {
	k := For("openai", "gpt-4o")
	text := strings.Repeat("How willing are you to volunteer this weekend? ", 5)
	exact := k.Count(text)
	for range Exact {
		k.Count(text)
	}
	if got := k.Count(text); got != exact {
		t.Errorf("scaled count %d, exact %d", got, exact)
	}
	if got := k.Count(text + text); got < 2*exact-1 || got > 2*exact+1 {
		t.Errorf("double text scaled to %d, want about %d", got, 2*exact)
	}
}
