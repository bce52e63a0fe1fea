// Package tokens counts the tokens of request texts for `prosim estimate`: with the model's
// own tokenizer where prosim has it, else about four characters a token.
//
// OpenAI's models are counted with tiktoken's encodings (o200k_base for gpt-4o, gpt-4.1,
// gpt-5 and the o-series; cl100k_base for gpt-4 and gpt-3.5), whose tables are embedded in
// the binary (github.com/pkoukk/tiktoken-go-loader): no network. Other providers' tokenizers
// (Anthropic, Gemini) are not published for offline use, and a local server's model (Ollama,
// vLLM) has its own: those are approximated, and say so.
package tokens

import (
	"strings"
	"sync"
	"unicode/utf8"

	tiktoken "github.com/pkoukk/tiktoken-go"
	loader "github.com/pkoukk/tiktoken-go-loader"
)

// Exact is how many texts a Counter tokenizes before it scales the rest by their length: a
// run of millions of decisions would otherwise take minutes to estimate. The first Exact
// texts give the model's characters per token for this experiment's texts.
const Exact = 2000

// Counter counts tokens for one model. It is not safe for concurrent use.
type Counter struct {
	enc  *tiktoken.Tiktoken // nil: approximate
	name string

	counted       int
	tokens, chars int64
}

// For is the counter for a provider (as the experiment names it) and model. Only provider
// openai gets a tokenizer: vllm, ollama and a custom base URL serve other models, whose
// names tiktoken does not know (they are approximated).
func For(provider, model string) *Counter {
	if provider != "openai" {
		return &Counter{}
	}
	name := encodingFor(model)
	if name == "" {
		return &Counter{}
	}
	enc, err := load(name)
	if err != nil {
		return &Counter{}
	}
	return &Counter{enc: enc, name: name}
}

// encodingFor names the encoding of an OpenAI model, "" when unknown.
func encodingFor(model string) string {
	m := strings.ToLower(model)
	for _, p := range []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"} {
		if strings.HasPrefix(m, p) {
			return "o200k_base"
		}
	}
	for _, p := range []string{"gpt-4", "gpt-3.5", "gpt-35"} {
		if strings.HasPrefix(m, p) {
			return "cl100k_base"
		}
	}
	return ""
}

var (
	mu      sync.Mutex
	loaded  = map[string]*tiktoken.Tiktoken{}
	setOnce sync.Once
)

// load reads an embedded encoding once per process (about a second for o200k_base).
func load(name string) (*tiktoken.Tiktoken, error) {
	setOnce.Do(func() { tiktoken.SetBpeLoader(loader.NewOfflineLoader()) })
	mu.Lock()
	defer mu.Unlock()
	if e, ok := loaded[name]; ok {
		return e, nil
	}
	e, err := tiktoken.GetEncoding(name)
	if err != nil {
		return nil, err
	}
	loaded[name] = e
	return e, nil
}

// Tokenizer names the tokenizer ("o200k_base"), "" when the counts are approximate.
func (c *Counter) Tokenizer() string { return c.name }

// Count is the number of tokens of s: exact for the first Exact texts, then scaled by length
// at the ratio those showed; about four characters a token without a tokenizer.
func (c *Counter) Count(s string) int {
	chars := utf8.RuneCountInString(s)
	if c.enc == nil {
		return (chars + 3) / 4
	}
	if c.counted < Exact || c.chars == 0 {
		n := len(c.enc.EncodeOrdinary(s))
		c.counted++
		c.tokens += int64(n)
		c.chars += int64(chars)
		return n
	}
	return int((int64(chars)*c.tokens + c.chars - 1) / c.chars)
}
