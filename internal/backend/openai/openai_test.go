package openai

import (
	"context"
	"errors"
	"github.com/prosim/prosim/internal/backend/providers/providertest"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/schema"
)

const fakeKey = "sk-test-FAKEKEY-0123456789abcdef"

// server is a fake endpoint on loopback that records what it was sent (providertest.Server).
type server = providertest.Server

func newServer(t *testing.T, respond http.HandlerFunc) *server {
	t.Helper()
	return providertest.New(t, respond)
}

func jsonReply(status int, body string, headers ...string) http.HandlerFunc {
	return providertest.JSONReply(status, "application/json", body, headers...)
}

const okBody = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,
 "model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":5}","refusal":null}}],
 "usage":{"prompt_tokens":42,"completion_tokens":7,"total_tokens":49}}`

func testSchema() schema.Schema {
	return schema.Schema{Fields: []schema.Field{{Name: "willingness", Kind: schema.Likert, Min: 1, Max: 7}}}
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
		Seed: 12345,
	}
}

func newTestClient(t *testing.T, s *server, mod ...func(*Config)) *Client {
	t.Helper()
	t.Setenv("PROSIM_TEST_OPENAI_KEY", fakeKey)
	cfg := Config{Model: "gpt-4o-mini", BaseURL: s.URL + "/v1", APIKeyEnv: "PROSIM_TEST_OPENAI_KEY"}
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
	c := newTestClient(t, s)
	rep, err := c.Decide(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	// No system_fingerprint (as Ollama and vLLM answer): the version is the model alone.
	if rep.Raw != `{"willingness":5}` || rep.Model != "gpt-4o-mini-2024-07-18" || rep.ModelVersion != "gpt-4o-mini-2024-07-18" || rep.Provider != "openai" {
		t.Errorf("reply = %+v", rep)
	}
	if rep.InputTokens != 42 || rep.OutputTokens != 7 || rep.Calls != 1 || rep.Latency <= 0 {
		t.Errorf("usage/calls/latency = %d %d %d %v", rep.InputTokens, rep.OutputTokens, rep.Calls, rep.Latency)
	}
	if rep.Values != nil || rep.Invalid != "" {
		t.Errorf("client must not parse: %+v", rep)
	}
	if s.Path != "/v1/chat/completions" {
		t.Errorf("path = %q", s.Path)
	}
	if got := s.Header.Get("Authorization"); got != "Bearer "+fakeKey {
		t.Errorf("Authorization = %q", got)
	}
	b := s.Body
	if b["model"] != "gpt-4o-mini" || b["temperature"] != 0.7 || b["top_p"] != 0.9 {
		t.Errorf("model/sampling: %v", b)
	}
	if b["max_tokens"] != float64(64) || b["max_completion_tokens"] != nil {
		t.Errorf("non-OpenAI base URL must send max_tokens: %v / %v", b["max_tokens"], b["max_completion_tokens"])
	}
	if b["seed"] != float64(12345) {
		t.Errorf("seed = %v", b["seed"])
	}
	if _, ok := b["n"]; ok {
		t.Errorf("n sent for a single decision: %v", b["n"])
	}
	msgs, _ := b["messages"].([]any)
	want := [][2]string{{"system", "You are Ana, 34."}, {"user", "How willing are you to volunteer?"},
		{"assistant", "maybe"}, {"user", "Answer with JSON only."}}
	if len(msgs) != len(want) {
		t.Fatalf("messages = %v", msgs)
	}
	for i, w := range want {
		m := msgs[i].(map[string]any)
		if m["role"] != w[0] || m["content"] != w[1] {
			t.Errorf("message %d = %v, want %v", i, m, w)
		}
	}
	rf, _ := b["response_format"].(map[string]any)
	js, _ := rf["json_schema"].(map[string]any)
	if rf["type"] != "json_schema" || js["name"] != "response" || js["strict"] != true {
		t.Fatalf("response_format = %v", rf)
	}
	sch, _ := js["schema"].(map[string]any)
	props, _ := sch["properties"].(map[string]any)
	w, _ := props["willingness"].(map[string]any)
	if sch["additionalProperties"] != false || w["type"] != "integer" || w["minimum"] != float64(1) || w["maximum"] != float64(7) {
		t.Errorf("schema = %v", sch)
	}
}

func TestDefaultsAndOptions(t *testing.T) {
	s := newServer(t, jsonReply(200, okBody))
	c := newTestClient(t, s, func(c *Config) {
		c.StructuredOutput = Bool(false)
		c.MaxTokensField = "max_completion_tokens"
		c.NoSeed = true
	})
	req := request()
	req.Sampling = backend.Sampling{}
	req.Repair = nil
	if _, err := c.Decide(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	b := s.Body
	for _, k := range []string{"response_format", "temperature", "top_p", "seed", "max_tokens"} {
		if _, ok := b[k]; ok {
			t.Errorf("%s sent: %v", k, b[k])
		}
	}
	if b["max_completion_tokens"] != float64(DefaultMaxTokens) {
		t.Errorf("max_completion_tokens = %v", b["max_completion_tokens"])
	}
	if msgs := b["messages"].([]any); len(msgs) != 2 {
		t.Errorf("messages = %v", msgs)
	}
}

func TestNewKeyHandling(t *testing.T) {
	t.Setenv("PROSIM_TEST_MISSING", "")
	_, err := New(Config{Model: "gpt-4o-mini", APIKeyEnv: "PROSIM_TEST_MISSING"})
	if err == nil || !strings.Contains(err.Error(), "PROSIM_TEST_MISSING") {
		t.Fatalf("missing key: err = %v", err)
	}
	if _, err := New(Config{BaseURL: "http://x"}); err == nil {
		t.Error("missing model accepted")
	}
	if _, err := New(Config{Model: "m", BaseURL: "ftp://x"}); err == nil {
		t.Error("non-http base URL accepted")
	}
	// A local server needs no key: without api_key_env and OPENAI_API_KEY, none is sent.
	t.Setenv("OPENAI_API_KEY", "")
	s := newServer(t, jsonReply(200, okBody))
	c, err := New(Config{Model: "qwen", BaseURL: s.URL + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decide(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if got := s.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
	// With api_key_env, that variable's key is sent, not OPENAI_API_KEY's.
	t.Setenv("OPENAI_API_KEY", "sk-other-variable")
	t.Setenv("PROSIM_TEST_LOCAL_KEY", fakeKey)
	if c, err = New(Config{Model: "qwen", BaseURL: s.URL + "/v1", APIKeyEnv: "PROSIM_TEST_LOCAL_KEY"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decide(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if got := s.Header.Get("Authorization"); got != "Bearer "+fakeKey {
		t.Errorf("Authorization = %q, want api_key_env's key", got)
	}
	// But a variable named for it is wanted, set and not empty: QA ran 304 calls keyless
	// to a server that wanted the key in an unset QA_KEY.
	for _, v := range []string{"unset", ""} {
		if v == "unset" {
			os.Unsetenv("PROSIM_TEST_MISSING")
		} else {
			t.Setenv("PROSIM_TEST_MISSING", v)
		}
		_, err := New(Config{Model: "qwen", BaseURL: s.URL + "/v1", APIKeyEnv: "PROSIM_TEST_MISSING"})
		if err == nil || err.Error() != "openai: no API key: set the environment variable PROSIM_TEST_MISSING" {
			t.Errorf("api_key_env naming a variable %s, with a base URL: err = %v", v, err)
		}
	}
}

func TestRateLimited(t *testing.T) {
	body := `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`
	t.Run("seconds", func(t *testing.T) {
		s := newServer(t, jsonReply(429, body, "Retry-After", "7"))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		se := statusErr(t, err)
		if se.Status != 429 || se.RetryAfter != 7*time.Second || !se.Retryable() {
			t.Errorf("got %+v", se)
		}
		if !strings.Contains(se.Body, "Rate limit reached") {
			t.Errorf("Body = %q", se.Body)
		}
		if s.Calls != 1 {
			t.Errorf("SDK retried: %d calls", s.Calls)
		}
	})
	t.Run("http-date", func(t *testing.T) {
		when := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
		s := newServer(t, jsonReply(429, body, "Retry-After", when))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		se := statusErr(t, err)
		if se.Status != 429 || se.RetryAfter < 60*time.Second || se.RetryAfter > 91*time.Second {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("ms", func(t *testing.T) {
		s := newServer(t, jsonReply(429, body, "Retry-After-Ms", "1500", "Retry-After", "2"))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.RetryAfter != 1500*time.Millisecond {
			t.Errorf("RetryAfter = %v", se.RetryAfter)
		}
	})
}

func TestServerErrors(t *testing.T) {
	t.Run("500 not JSON", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html>upstream exploded</html>")
		})
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		se := statusErr(t, err)
		if se.Status != 502 || !se.Retryable() || !strings.Contains(se.Body, "upstream exploded") || s.Calls != 1 {
			t.Errorf("got %+v after %d calls", se, s.Calls)
		}
	})
	t.Run("500 JSON", func(t *testing.T) {
		s := newServer(t, jsonReply(500, `{"error":{"message":"The server had an error","type":"server_error"}}`))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 500 || !se.Retryable() || se.RetryAfter != 0 {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("401 echoing the key", func(t *testing.T) {
		s := newServer(t, jsonReply(401, `{"error":{"message":"Incorrect API key provided: `+fakeKey+`","type":"invalid_request_error","code":"invalid_api_key"}}`))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		se := statusErr(t, err) // checks the key is absent
		if se.Status != 401 || se.Retryable() || !strings.Contains(se.Body, "Incorrect API key") {
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
	c := newTestClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Decide(ctx, request())
	se := statusErr(t, err)
	if se.Status != 0 || !se.Retryable() || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %+v (%v)", se, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the deadline was not honoured", d)
	}
}

var hijack = providertest.Hijack

func TestBadBodies(t *testing.T) {
	cases := map[string]func(http.ResponseWriter, *http.Request){
		"truncated":     hijack(okBody[:len(okBody)/2]),
		"malformed":     jsonReply(200, `{"id":"x","choices":[{"message":{"content":"hi"}}]]]`),
		"not an object": jsonReply(200, `"hello"`),
		"no choices":    jsonReply(200, `{"id":"x","object":"chat.completion","model":"m","choices":[]}`),
		"no choices, with usage": jsonReply(200, `{"id":"x","object":"chat.completion","model":"m","choices":[],
		 "usage":{"prompt_tokens":42,"completion_tokens":7}}`),
	}
	wi, wo := backend.WorstCase(request(), DefaultMaxTokens)
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			rep, err := newTestClient(t, s).Decide(context.Background(), request())
			se := statusErr(t, err)
			if se.Status != 0 || !se.Retryable() {
				t.Errorf("got %+v", se)
			}
			// It came with HTTP 200: the provider may have billed it, at its usage when the
			// body said one, else at the call's worst case.
			in, out := wi, wo
			if strings.Contains(name, "usage") {
				in, out = 42, 7
			}
			if !se.Unusable || se.InputTokens != in || se.OutputTokens != out {
				t.Errorf("unusable %v at %d+%d tokens, want true at %d+%d", se.Unusable, se.InputTokens, se.OutputTokens, in, out)
			}
			if rep.Raw != "" || rep.Calls != 0 {
				t.Errorf("a fake reply came back with the error: %+v", rep)
			}
		})
	}
}

func TestRefusalAndEmpty(t *testing.T) {
	t.Run("refusal", func(t *testing.T) {
		s := newServer(t, jsonReply(200, `{"id":"x","object":"chat.completion","model":"gpt-4o",
		 "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,"refusal":"I can't help with that."}}],
		 "usage":{"prompt_tokens":10,"completion_tokens":6,"total_tokens":16}}`))
		rep, err := newTestClient(t, s).Decide(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Raw != "I can't help with that." || rep.OutputTokens != 6 || rep.Calls != 1 || rep.Values != nil {
			t.Errorf("reply = %+v", rep)
		}
	})
	t.Run("length, empty", func(t *testing.T) {
		s := newServer(t, jsonReply(200, `{"id":"x","object":"chat.completion","model":"gpt-4o",
		 "choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":""}}],
		 "usage":{"prompt_tokens":10,"completion_tokens":64,"total_tokens":74}}`))
		rep, err := newTestClient(t, s).Decide(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Raw != "" || rep.OutputTokens != 64 || rep.Calls != 1 || rep.Model != "gpt-4o" {
			t.Errorf("reply = %+v", rep)
		}
	})
}

func TestDecideN(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"id":"x","object":"chat.completion","model":"m",
	 "choices":[
	  {"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":3}"}},
	  {"index":1,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":4}"}},
	  {"index":2,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":6}"}}],
	 "usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`))
	c := newTestClient(t, s)
	reps, err := c.DecideN(context.Background(), request(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.Body["n"] != float64(3) || s.Calls != 1 {
		t.Fatalf("n = %v, calls = %d", s.Body["n"], s.Calls)
	}
	if len(reps) != 3 {
		t.Fatalf("%d replies", len(reps))
	}
	raws := []string{`{"willingness":3}`, `{"willingness":4}`, `{"willingness":6}`}
	wantIn, wantOut, wantCalls := []int{4, 3, 3}, []int{7, 7, 6}, []int{1, 0, 0}
	for i, r := range reps {
		if r.Raw != raws[i] || r.InputTokens != wantIn[i] || r.OutputTokens != wantOut[i] || r.Calls != wantCalls[i] {
			t.Errorf("reply %d = %+v", i, r)
		}
	}
	// Fewer choices than asked for is an error, not silent repetition.
	if _, err := c.DecideN(context.Background(), request(), 4); err == nil {
		t.Error("3 choices for n=4 accepted")
	} else {
		statusErr(t, err)
	}
	if _, err := c.DecideN(context.Background(), request(), 0); err == nil {
		t.Error("n=0 accepted")
	}
}

func TestDecideWithN(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"id":"x","object":"chat.completion","model":"m",
	 "choices":[
	  {"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":3}"}},
	  {"index":1,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":4}"}},
	  {"index":2,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":6}"}}],
	 "usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`))
	c := newTestClient(t, s)
	req := request()
	req.N = 3
	r, err := c.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if s.Body["n"] != float64(3) || s.Calls != 1 {
		t.Fatalf("n = %v, calls = %d", s.Body["n"], s.Calls)
	}
	// The reply accounts for the whole call; the samples carry nothing.
	if r.Raw != `{"willingness":3}` || r.Calls != 1 || r.InputTokens != 10 || r.OutputTokens != 20 || len(r.Samples) != 2 {
		t.Fatalf("reply = %+v", r)
	}
	for i, want := range []string{`{"willingness":4}`, `{"willingness":6}`} {
		if s := r.Samples[i]; s.Raw != want || s.Calls != 0 || s.InputTokens != 0 || s.OutputTokens != 0 || s.Model != "m" {
			t.Errorf("sample %d = %+v", i, s)
		}
	}
	// Through Decide, fewer choices than asked for is what the server gave, not an error.
	req.N = 5
	if r, err := c.Decide(context.Background(), req); err != nil || len(r.Samples) != 2 || r.OutputTokens != 20 {
		t.Fatalf("n=5 from a server giving 3: %+v, %v", r, err)
	}
	// Without N, no n is sent.
	req.N = 0
	s.Respond = jsonReply(200, okBody)
	if _, err := c.Decide(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if _, sent := s.Body["n"]; sent {
		t.Errorf("n sent without N: %v", s.Body["n"])
	}
}

// The version of an OpenAI reply is the model the server names with its system_fingerprint,
// on every sample of an n-sample call.
func TestModelVersionWithFingerprint(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18",
	 "system_fingerprint":"fp_44709d6fcb",
	 "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":3}"}},
	  {"index":1,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\":4}"}}],
	 "usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}`))
	c := newTestClient(t, s)
	req := request()
	req.N = 2
	r, err := c.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	const want = "gpt-4o-mini-2024-07-18 fp_44709d6fcb"
	if r.ModelVersion != want || len(r.Samples) != 1 || r.Samples[0].ModelVersion != want {
		t.Fatalf("version = %q, samples %+v", r.ModelVersion, r.Samples)
	}
}
