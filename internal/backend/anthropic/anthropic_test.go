package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/prosim/prosim/internal/backend/providers/providertest"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/schema"
)

const fakeKey = "sk-ant-test-FAKEKEY-0123456789abcdef"

// server is a fake endpoint on loopback that records what it was sent (providertest.Server).
type server = providertest.Server

func newServer(t *testing.T, respond http.HandlerFunc) *server {
	t.Helper()
	return providertest.New(t, respond)
}

func jsonReply(status int, body string, headers ...string) http.HandlerFunc {
	return providertest.JSONReply(status, "application/json", body, headers...)
}

const okBody = `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
 "content":[{"type":"tool_use","id":"toolu_01","name":"response","input":{"willingness":5,"choice":"give"}}],
 "stop_reason":"tool_use","stop_sequence":null,
 "usage":{"input_tokens":50,"output_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":3}}`

func testSchema() schema.Schema {
	return schema.Schema{Fields: []schema.Field{
		{Name: "willingness", Kind: schema.Likert, Min: 1, Max: 7},
		{Name: "choice", Kind: schema.Choice, Options: []string{"give", "keep"}},
	}}
}

func request() backend.Request {
	temp, topP := 0.7, 0.9
	return backend.Request{
		System: "You are Ana, 34.",
		Prompt: "How willing are you to volunteer?",
		Repair: []backend.Turn{{Assistant: "maybe", User: "Answer with JSON only."}},
		Schema: testSchema(),
		Sampling: backend.Sampling{
			Temperature: &temp, TopP: &topP, MaxTokens: 64,
		},
	}
}

func newTestClient(t *testing.T, s *server, mod ...func(*Config)) *Client {
	t.Helper()
	t.Setenv("PROSIM_TEST_ANTHROPIC_KEY", fakeKey)
	cfg := Config{Model: "claude-sonnet-4-5", BaseURL: s.URL, APIKeyEnv: "PROSIM_TEST_ANTHROPIC_KEY"}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func statusErr(t *testing.T, err error) *backend.StatusError {
	t.Helper()
	return providertest.StatusErr(t, err, Provider, fakeKey)
}

func TestDecideSuccess(t *testing.T) {
	s := newServer(t, jsonReply(200, okBody))
	rep, err := newTestClient(t, s).Decide(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(rep.Raw), &got); err != nil || got["willingness"] != float64(5) || got["choice"] != "give" {
		t.Errorf("Raw = %q (%v)", rep.Raw, err)
	}
	if rep.Model != "claude-sonnet-4-5-20250929" || rep.ModelVersion != "claude-sonnet-4-5-20250929" || rep.Provider != "anthropic" || rep.InputTokens != 53 ||
		rep.OutputTokens != 12 || rep.Calls != 1 || rep.Latency <= 0 || rep.Values != nil {
		t.Errorf("reply = %+v", rep)
	}
	if s.Path != "/v1/messages" {
		t.Errorf("path = %q", s.Path)
	}
	if s.Header.Get("X-Api-Key") != fakeKey || s.Header.Get("Anthropic-Version") == "" {
		t.Errorf("headers = %v", s.Header)
	}
	b := s.Body
	if b["model"] != "claude-sonnet-4-5" || b["max_tokens"] != float64(64) || b["temperature"] != 0.7 || b["top_p"] != 0.9 {
		t.Errorf("body = %v", b)
	}
	sys, _ := b["system"].([]any)
	if len(sys) != 1 || sys[0].(map[string]any)["text"] != "You are Ana, 34." {
		t.Errorf("system = %v", b["system"])
	}
	msgs, _ := b["messages"].([]any)
	want := [][2]string{{"user", "How willing are you to volunteer?"}, {"assistant", "maybe"}, {"user", "Answer with JSON only."}}
	if len(msgs) != len(want) {
		t.Fatalf("messages = %v", msgs)
	}
	for i, w := range want {
		m := msgs[i].(map[string]any)
		content, _ := m["content"].([]any)
		if m["role"] != w[0] || len(content) != 1 || content[0].(map[string]any)["text"] != w[1] {
			t.Errorf("message %d = %v, want %v", i, m, w)
		}
	}
	tools, _ := b["tools"].([]any)
	if len(tools) != 1 {
		t.Fatalf("tools = %v", b["tools"])
	}
	tool := tools[0].(map[string]any)
	is, _ := tool["input_schema"].(map[string]any)
	props, _ := is["properties"].(map[string]any)
	choice, _ := props["choice"].(map[string]any)
	req, _ := is["required"].([]any)
	if tool["name"] != "response" || is["type"] != "object" || is["additionalProperties"] != false ||
		len(req) != 2 || choice["type"] != "string" || len(choice["enum"].([]any)) != 2 {
		t.Errorf("tool = %v", tool)
	}
	tc, _ := b["tool_choice"].(map[string]any)
	if tc["type"] != "tool" || tc["name"] != "response" {
		t.Errorf("tool_choice = %v", b["tool_choice"])
	}
}

func TestTextMode(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",
	 "content":[{"type":"text","text":"{\"willingness\":"},{"type":"text","text":"4}"}],"stop_reason":"end_turn",
	 "usage":{"input_tokens":20,"output_tokens":5}}`))
	c := newTestClient(t, s, func(c *Config) { c.StructuredOutput = Bool(false) })
	req := request()
	req.Sampling = backend.Sampling{}
	req.System = ""
	rep, err := c.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Raw != `{"willingness":4}` || rep.InputTokens != 20 || rep.OutputTokens != 5 {
		t.Errorf("reply = %+v", rep)
	}
	for _, k := range []string{"tools", "tool_choice", "temperature", "top_p", "system"} {
		if _, ok := s.Body[k]; ok {
			t.Errorf("%s sent: %v", k, s.Body[k])
		}
	}
	if s.Body["max_tokens"] != float64(DefaultMaxTokens) {
		t.Errorf("max_tokens = %v", s.Body["max_tokens"])
	}
}

func TestNewKey(t *testing.T) {
	t.Setenv("PROSIM_TEST_MISSING", "")
	t.Setenv("ANTHROPIC_API_KEY", "")
	for _, env := range []string{"PROSIM_TEST_MISSING", ""} {
		_, err := New(Config{Model: "claude-sonnet-4-5", APIKeyEnv: env})
		want := env
		if want == "" {
			want = DefaultAPIKeyEnv
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing key in %q: err = %v", want, err)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("missing model accepted")
	}
}

func TestErrors(t *testing.T) {
	rl := `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`
	t.Run("429 seconds", func(t *testing.T) {
		s := newServer(t, jsonReply(429, rl, "Retry-After", "13"))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		se := statusErr(t, err)
		if se.Status != 429 || se.RetryAfter != 13*time.Second || !se.Retryable() || !strings.Contains(se.Body, "rate limit") || s.Calls != 1 {
			t.Errorf("got %+v after %d calls", se, s.Calls)
		}
	})
	t.Run("429 http-date", func(t *testing.T) {
		when := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
		s := newServer(t, jsonReply(429, rl, "Retry-After", when))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.RetryAfter < 60*time.Second || se.RetryAfter > 91*time.Second {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("529 overloaded", func(t *testing.T) {
		s := newServer(t, jsonReply(529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 529 || !se.Retryable() || s.Calls != 1 {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("500 plain text", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, "internal error")
		})
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 500 || !se.Retryable() || !strings.Contains(se.Body, "internal error") {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("401 echoing the key", func(t *testing.T) {
		s := newServer(t, jsonReply(401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key `+fakeKey+`"}}`))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 401 || se.Retryable() || !strings.Contains(se.Body, "authentication_error") {
			t.Errorf("got %+v", se)
		}
	})
}

func TestDeadline(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		case <-time.After(10 * time.Second):
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newTestClient(t, s).Decide(ctx, request())
	se := statusErr(t, err)
	if se.Status != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %+v (%v)", se, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

var hijack = providertest.Hijack

func TestBadBodies(t *testing.T) {
	cases := map[string]func(http.ResponseWriter, *http.Request){
		"truncated":  hijack(okBody[:len(okBody)/2]),
		"malformed":  jsonReply(200, `{"id":"msg_01","type":"message","content":[{"type":"text","text":"hi"}]]]`),
		"empty":      jsonReply(200, `{}`),
		"wrong type": jsonReply(200, `{"type":"error","error":{"type":"api_error","message":"boom"}}`),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			rep, err := newTestClient(t, s).Decide(context.Background(), request())
			se := statusErr(t, err)
			if se.Status != 0 || !se.Retryable() || rep.Calls != 0 || rep.Raw != "" {
				t.Errorf("got %+v, reply %+v", se, rep)
			}
			// It came with HTTP 200: it may have been billed, at the call's worst case.
			if in, out := backend.WorstCase(request(), DefaultMaxTokens); !se.Unusable || se.InputTokens != in || se.OutputTokens != out || se.Model == "" {
				t.Errorf("unusable %v (%s) at %d+%d tokens, want true at %d+%d", se.Unusable, se.Model, se.InputTokens, se.OutputTokens, in, out)
			}
		})
	}
}

func TestRefusalAndEmpty(t *testing.T) {
	t.Run("refusal", func(t *testing.T) {
		s := newServer(t, jsonReply(200, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5",
		 "content":[],"stop_reason":"refusal","usage":{"input_tokens":30,"output_tokens":0}}`))
		rep, err := newTestClient(t, s).Decide(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Raw != "" || rep.Calls != 1 || rep.InputTokens != 30 || rep.Invalid != "refused by the model (stop_reason refusal)" {
			t.Errorf("reply = %+v", rep)
		}
		// Validate keeps the reason when the empty reply parses to nothing (QA9: "empty reply").
		v, err := backend.Validate(newTestClient(t, s), 1).Decide(context.Background(), request())
		if err != nil || v.Invalid != "refused by the model (stop_reason refusal)" {
			t.Errorf("validated reply = %+v, %v", v, err)
		}
	})
	t.Run("max_tokens with text", func(t *testing.T) {
		s := newServer(t, jsonReply(200, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5",
		 "content":[{"type":"text","text":"I would say"}],"stop_reason":"max_tokens","usage":{"input_tokens":30,"output_tokens":64}}`))
		rep, err := newTestClient(t, s).Decide(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Raw != "I would say" || rep.OutputTokens != 64 {
			t.Errorf("reply = %+v", rep)
		}
	})
}

// A redirect to another host is refused: the SDK's x-api-key header would go with it
// (net/http drops only Authorization and Cookie). QA12 #2.
func TestRedirectAwayRefused(t *testing.T) {
	base, other := providertest.RedirectAway(t, jsonReply(200, okBody))
	_, err := newTestClient(t, base).Decide(context.Background(), request())
	providertest.CheckRedirectRefused(t, err, Provider, fakeKey, base, other)
}
