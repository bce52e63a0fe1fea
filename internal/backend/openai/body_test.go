package openai

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
	"github.com/prosim/prosim/internal/schema"
)

// sdkParams is the request as the SDK's own types describe it (what the client sent before it
// wrote bodies itself): the reference body() is checked against.
func (c *Client) sdkParams(req backend.Request, n int) sdk.ChatCompletionNewParams {
	var msgs []sdk.ChatCompletionMessageParamUnion
	if req.System != "" {
		msgs = append(msgs, sdk.SystemMessage(req.System))
	}
	msgs = append(msgs, sdk.UserMessage(req.Prompt))
	for _, t := range req.Repair {
		msgs = append(msgs, sdk.AssistantMessage(t.Assistant), sdk.UserMessage(t.User))
	}
	p := sdk.ChatCompletionNewParams{Model: shared.ChatModel(c.model), Messages: msgs}
	if req.Sampling.Temperature != nil {
		p.Temperature = sdk.Float(*req.Sampling.Temperature)
	}
	if req.Sampling.TopP != nil {
		p.TopP = sdk.Float(*req.Sampling.TopP)
	}
	max := int64(req.Sampling.MaxTokens)
	if max <= 0 {
		max = DefaultMaxTokens
	}
	if c.maxField == "max_tokens" {
		p.MaxTokens = sdk.Int(max)
	} else {
		p.MaxCompletionTokens = sdk.Int(max)
	}
	if n > 1 {
		p.N = sdk.Int(int64(n))
	}
	if c.seed && req.Seed != 0 {
		p.Seed = sdk.Int(wire.Seed(req.Seed, 32))
	}
	if c.structured && c.jsonObject && len(req.Schema.Fields) > 0 {
		p.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	} else if c.structured && len(req.Schema.Fields) > 0 {
		p.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
				Name: SchemaName, Strict: sdk.Bool(true), Schema: req.Schema.JSONSchema()}},
		}
	}
	return p
}

func decoded(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

// The body prosim writes is, as JSON, the body the SDK writes for the same request, for every
// option and for texts with everything JSON must escape.
func TestBodyIsTheSDKs(t *testing.T) {
	temp, topP, tiny := 0.7, 1.0, 1e-7
	texts := []string{"", "plain", "quote \" backslash \\ slash /", "tab\tnew\nline\r\x00\x1f\x7f",
		"<html> & </html>", "naïve café 日本語 😀", "line\u2028para\u2029", "bad \xff\xfe utf8 \xc3"}
	choice := schema.Schema{Fields: []schema.Field{{Name: "pick", Kind: schema.Choice, Options: []string{"a", "b\"c"}, Description: "which"},
		{Name: "amount", Kind: schema.Amount, Min: 0, Max: 10.5}, {Name: "whole", Kind: schema.Amount, Min: 0, Max: 10, Step: 1}}}
	reqs := []backend.Request{request(), {Prompt: "p"}, {System: "s", Prompt: "p", Schema: choice, Seed: 1 << 40,
		Sampling: backend.Sampling{Temperature: &tiny, TopP: &topP}}}
	for _, tx := range texts {
		reqs = append(reqs, backend.Request{System: tx, Prompt: "x" + tx, Repair: []backend.Turn{{Assistant: tx, User: tx}},
			Schema: testSchema(), Sampling: backend.Sampling{Temperature: &temp}, Seed: 99})
	}
	cfgs := []Config{
		{Model: "gpt-4o-mini", APIKeyEnv: "K"},
		{Model: "llama \"3\"", BaseURL: "http://127.0.0.1:1/v1", NoSeed: true},
		{Model: "m", BaseURL: "http://127.0.0.1:1/v1", ResponseFormat: "json_object", MaxTokensField: "max_completion_tokens"},
		{Model: "m", BaseURL: "http://127.0.0.1:1/v1", StructuredOutput: Bool(false)},
	}
	for ci, cfg := range cfgs {
		c, err := newClient(cfg, func(string) (string, bool) { return "k", true })
		if err != nil {
			t.Fatal(err)
		}
		for ri, req := range reqs {
			for _, n := range []int{1, 3} {
				got, err := c.body(req, n)
				if err != nil {
					t.Fatal(err)
				}
				want, err := json.Marshal(c.sdkParams(req, n))
				if err != nil {
					t.Fatal(err)
				}
				if g, w := decoded(t, got), decoded(t, want); !reflect.DeepEqual(g, w) {
					t.Errorf("config %d request %d n %d:\n got %s\nwant %s", ci, ri, n, got, want)
				}
			}
		}
	}
}

func TestBodyRefusesNaN(t *testing.T) {
	c, _ := newClient(Config{Model: "m", BaseURL: "http://127.0.0.1:1/v1"}, func(string) (string, bool) { return "", false })
	nan := math.NaN()
	if _, err := c.body(backend.Request{Prompt: "p", Sampling: backend.Sampling{Temperature: &nan}}, 1); err == nil ||
		!strings.Contains(err.Error(), "temperature") {
		t.Errorf("NaN temperature: err %v", err)
	}
}

// appendString agrees with encoding/json on arbitrary strings.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\xff", "\u2028", "日本"} {
		f.Add(s)
	}
	f.Add(strings.Repeat("plain text, eight at a time ", 3) + "\"q\" \\ \t\x7f\x1f\u00e9\u2029" + strings.Repeat("x", 17))
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		if ref := appendStringByte(nil, s); string(got) != string(ref) {
			t.Fatalf("%q: %s, byte by byte %s", s, got, ref)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encodes as %s, not JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: round trip %q, encoding/json's %q", s, back, wantBack)
		}
	})
}

func BenchmarkBody(b *testing.B) {
	c, _ := newClient(Config{Model: "m", BaseURL: "http://127.0.0.1:1/v1"}, func(string) (string, bool) { return "", false })
	req := request()
	req.System = strings.Repeat("You are a person with traits. ", 40)
	b.Run("prosim", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.body(req, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(c.sdkParams(req, 1)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The extra body's fields follow prosim's own, keys sorted, numbers as written; a field the
// client writes itself, or anything but one JSON object, is refused.
func TestExtraBody(t *testing.T) {
	c, err := New(Config{Model: "m", BaseURL: "http://127.0.0.1:1/v1", ExtraBody: []byte(`{"top_k":20,"options":{"num_ctx":4096},"big":9007199254740993}`)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.body(backend.Request{Prompt: "p"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"max_tokens":256,"big":9007199254740993,"options":{"num_ctx":4096},"top_k":20}`; !strings.HasSuffix(string(b), want) {
		t.Errorf("body %s: want it to end %s", b, want)
	}
	for _, bad := range []string{`{"seed":1}`, `{"stream":false}`, `[1]`, `{"a":1} {"b":2}`, `null`} {
		if _, err := New(Config{Model: "m", BaseURL: "http://127.0.0.1:1/v1", ExtraBody: []byte(bad)}); err == nil {
			t.Errorf("extra body %s accepted", bad)
		}
	}
}

// appendStringByte is appendString without the eight-byte skip: its reference.
func appendStringByte(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Every byte value at every place of an eight-byte word: plain8 is true exactly when each byte
// is one appendString copies as it is.
func TestPlain8(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
			if got := plain8(string(w), 0); got != want {
				t.Fatalf("byte %#x at %d: %v, want %v", c, pos, got, want)
			}
		}
	}
}
