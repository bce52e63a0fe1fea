package providers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/schema"
)

// TestOptionsOnTheWire sends one request per option through New and checks the body an
// OpenAI-compatible server receives.
func TestOptionsOnTheWire(t *testing.T) {
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = nil
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body: %v", err)
		}
		if body["stream"] == true {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\\\"willingness\\\": 5}\"}}]}\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": 5}"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer srv.Close()
	req := backend.Request{Prompt: "p", Seed: 42,
		Schema: schema.Schema{Fields: []schema.Field{{Name: "willingness", Kind: schema.Likert, Min: 1, Max: 7}}}}
	format := func() string {
		rf, _ := body["response_format"].(map[string]any)
		if rf == nil {
			return "none"
		}
		return rf["type"].(string)
	}
	for _, tc := range []struct {
		spec  Spec
		check func() string // "" when the body is right
	}{
		{Spec{}, func() string {
			if format() != "json_schema" || body["max_tokens"] == nil || body["seed"] == nil {
				return "default: want json_schema, max_tokens and seed"
			}
			return ""
		}},
		{Spec{StructuredOutput: "off"}, func() string {
			if format() != "none" {
				return "off: response_format sent"
			}
			return ""
		}},
		{Spec{StructuredOutput: "json_object"}, func() string {
			if format() != "json_object" {
				return "json_object: got " + format()
			}
			return ""
		}},
		{Spec{StructuredOutput: "json_schema"}, func() string {
			if format() != "json_schema" {
				return "json_schema: got " + format()
			}
			return ""
		}},
		{Spec{MaxTokensField: "max_completion_tokens"}, func() string {
			if body["max_completion_tokens"] == nil || body["max_tokens"] != nil {
				return "max_completion_tokens not the field sent"
			}
			return ""
		}},
		{Spec{MaxTokensField: "max_tokens"}, func() string {
			if body["max_tokens"] == nil || body["max_completion_tokens"] != nil {
				return "max_tokens not the field sent"
			}
			return ""
		}},
		{Spec{FirstByteTimeout: time.Minute, Timeout: time.Minute}, func() string {
			if body["stream"] != true {
				return "first_byte_timeout: the reply is not streamed"
			}
			return ""
		}},
		{Spec{}, func() string {
			if body["stream"] != nil {
				return "streamed without first_byte_timeout"
			}
			return ""
		}},
		{Spec{NoSeed: true}, func() string {
			if body["seed"] != nil {
				return "seed sent with NoSeed"
			}
			return ""
		}},
	} {
		s := tc.spec
		s.Provider, s.Model, s.BaseURL = "vllm", "m", srv.URL+"/v1"
		b, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := b.Decide(context.Background(), req); err != nil || r.Raw != `{"willingness": 5}` {
			t.Fatalf("%+v: reply %q, %v", tc.spec, r.Raw, err)
		}
		if msg := tc.check(); msg != "" {
			t.Errorf("%+v: %s (body %v)", tc.spec, msg, body)
		}
	}
}

// Options a provider cannot honour are config errors.
func TestOptionsRejected(t *testing.T) {
	for _, s := range []Spec{
		{Provider: "anthropic", Model: "c", StructuredOutput: "json_object"},
		{Provider: "gemini", Model: "g", StructuredOutput: "json_object"},
		{Provider: "anthropic", Model: "c", MaxTokensField: "max_tokens"},
		{Provider: "gemini", Model: "g", MaxTokensField: "max_tokens"},
		{Provider: "vllm", Model: "m", StructuredOutput: "strict"},
		{Provider: "anthropic", Model: "c", FirstByteTimeout: time.Second},
		{Provider: "gemini", Model: "g", FirstByteTimeout: time.Second},
	} {
		if _, err := New(s); err == nil || !strings.Contains(err.Error(), s.Provider) {
			t.Errorf("%+v: error %v, want a config error naming the provider", s, err)
		}
	}
}
