package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/prosim/prosim/internal/backend/providers/providertest"
	"io"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/schema"
)

const fakeKey = "AIzaSy-test-FAKEKEY-0123456789abcdef"

// server is a fake Gemini endpoint on loopback (providertest.Server); it answers
// anything but a POST with 405, as the API does.
type server = providertest.Server

func newServer(t *testing.T, respond http.HandlerFunc) *server {
	t.Helper()
	return providertest.New(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		respond(w, r)
	})
}

func jsonReply(status int, body string, headers ...string) http.HandlerFunc {
	return providertest.JSONReply(status, "application/json; charset=UTF-8", body, headers...)
}

const okBody = `{"candidates":[{"content":{"parts":[{"text":"{\"willingness\": 5, \"choice\": \"give\"}"}],"role":"model"},
 "finishReason":"STOP","index":0}],
 "usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":12,"thoughtsTokenCount":8,"totalTokenCount":70,
  "promptTokensDetails":[{"modality":"TEXT","tokenCount":50}]},
 "modelVersion":"gemini-2.5-flash-001","responseId":"abc123"}`

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
		Seed: 1<<40 + 12345,
	}
}

const keyEnv = "PROSIM_TEST_GEMINI_KEY"

func newTestClient(t *testing.T, s *server, mod ...func(*Config)) *Client {
	t.Helper()
	t.Setenv(keyEnv, fakeKey)
	cfg := Config{Model: "gemini-2.5-flash", BaseURL: s.URL, APIKeyEnv: keyEnv}
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

func get(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, _ := m.(map[string]any)
			m = mm[k]
		case int:
			a, _ := m.([]any)
			if k >= len(a) {
				return nil
			}
			m = a[k]
		}
	}
	return m
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
	if rep.Model != "gemini-2.5-flash-001" || rep.ModelVersion != "gemini-2.5-flash-001" || rep.Provider != "gemini" || rep.InputTokens != 50 ||
		rep.OutputTokens != 20 || rep.Calls != 1 || rep.Latency <= 0 || rep.Values != nil || rep.Invalid != "" {
		t.Errorf("reply = %+v", rep)
	}
	if s.Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("path = %q", s.Path)
	}
	if s.Query != "" {
		t.Errorf("query = %q (the key belongs in the header)", s.Query)
	}
	if s.Header.Get("X-Goog-Api-Key") != fakeKey || !strings.HasPrefix(s.Header.Get("Content-Type"), "application/json") {
		t.Errorf("headers = %v", s.Header)
	}
	b := s.Body
	if get(b, "systemInstruction", "parts", 0, "text") != "You are Ana, 34." {
		t.Errorf("systemInstruction = %v", b["systemInstruction"])
	}
	contents, _ := b["contents"].([]any)
	want := [][2]string{{"user", "How willing are you to volunteer?"}, {"model", "maybe"}, {"user", "Answer with JSON only."}}
	if len(contents) != len(want) {
		t.Fatalf("contents = %v", contents)
	}
	for i, w := range want {
		parts, _ := get(contents[i], "parts").([]any)
		if get(contents[i], "role") != w[0] || len(parts) != 1 || get(parts[0], "text") != w[1] {
			t.Errorf("content %d = %v, want %v", i, contents[i], w)
		}
	}
	gc, _ := b["generationConfig"].(map[string]any)
	if gc == nil {
		t.Fatalf("no generationConfig in %v", b)
	}
	// float32 on the wire: compare loosely.
	near := func(v any, x float64) bool { f, ok := v.(float64); return ok && f > x-1e-6 && f < x+1e-6 }
	if !near(gc["temperature"], 0.7) || !near(gc["topP"], 0.9) || gc["maxOutputTokens"] != float64(64) ||
		gc["seed"] != float64(12345) || gc["responseMimeType"] != "application/json" {
		t.Errorf("generationConfig = %v", gc)
	}
	js, _ := gc["responseJsonSchema"].(map[string]any)
	req, _ := js["required"].([]any)
	if js["type"] != "object" || js["additionalProperties"] != false || len(req) != 2 ||
		get(js, "properties", "choice", "type") != "string" || len(get(js, "properties", "choice", "enum").([]any)) != 2 ||
		get(js, "properties", "willingness", "type") != "integer" || get(js, "properties", "willingness", "maximum") != float64(7) {
		t.Errorf("responseJsonSchema = %v", gc["responseJsonSchema"])
	}
	for _, k := range []string{"responseSchema", "candidateCount", "thinkingConfig"} {
		if _, ok := gc[k]; ok {
			t.Errorf("%s sent: %v", k, gc[k])
		}
	}
	for _, k := range []string{"automaticContinuation", "httpOptions", "safetySettings", "tools"} {
		if _, ok := b[k]; ok {
			t.Errorf("%s sent: %v", k, b[k])
		}
	}
}

func TestPlainRequest(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"candidates":[{"content":{"parts":[
	  {"text":"Let me think about Ana.","thought":true},{"text":"{\"willingness\":"},{"text":"4}"}],"role":"model"},
	  "finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"totalTokenCount":25}}`))
	c := newTestClient(t, s, func(c *Config) { c.StructuredOutput = Bool(false); c.Model = "models/gemini-2.0-flash" })
	req := request()
	req.Sampling = backend.Sampling{}
	req.System = ""
	req.Repair = nil
	req.Seed = 0
	rep, err := c.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Raw != `{"willingness":4}` || rep.InputTokens != 20 || rep.OutputTokens != 5 || rep.Model != "gemini-2.0-flash" || rep.Invalid != "" {
		t.Errorf("reply = %+v", rep)
	}
	if s.Path != "/v1beta/models/gemini-2.0-flash:generateContent" {
		t.Errorf("path = %q", s.Path)
	}
	if _, ok := s.Body["systemInstruction"]; ok {
		t.Errorf("systemInstruction sent: %v", s.Body["systemInstruction"])
	}
	if n := len(s.Body["contents"].([]any)); n != 1 {
		t.Errorf("%d contents", n)
	}
	gc, _ := s.Body["generationConfig"].(map[string]any)
	for _, k := range []string{"temperature", "topP", "seed", "responseMimeType", "responseJsonSchema"} {
		if _, ok := gc[k]; ok {
			t.Errorf("%s sent: %v", k, gc[k])
		}
	}
	if gc["maxOutputTokens"] != float64(DefaultMaxTokens) {
		t.Errorf("maxOutputTokens = %v", gc["maxOutputTokens"])
	}
}

func TestNoSeed(t *testing.T) {
	s := newServer(t, jsonReply(200, okBody))
	if _, err := newTestClient(t, s, func(c *Config) { c.NoSeed = true }).Decide(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if v, ok := get(s.Body, "generationConfig").(map[string]any)["seed"]; ok {
		t.Errorf("seed sent: %v", v)
	}
}

func TestBaseURLVersion(t *testing.T) {
	s := newServer(t, jsonReply(200, okBody))
	for _, suffix := range []string{"/v1/", "/v1alpha"} {
		c := newTestClient(t, s, func(c *Config) { c.BaseURL = s.URL + suffix })
		if _, err := c.Decide(context.Background(), request()); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimRight(suffix, "/") + "/models/gemini-2.5-flash:generateContent"
		if s.Path != want {
			t.Errorf("base %q: path = %q, want %q", suffix, s.Path, want)
		}
	}
	c := newTestClient(t, s, func(c *Config) { c.BaseURL = s.URL + "/proxy/gemini" })
	if _, err := c.Decide(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if s.Path != "/proxy/gemini/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("path = %q", s.Path)
	}
	if _, err := New(Config{Model: "m", BaseURL: "ftp://x", APIKeyEnv: keyEnv}); err == nil {
		t.Error("ftp base URL accepted")
	}
}

// The SDK's environment variables must not switch the backend, the key or the endpoint.
func TestAmbientEnvironmentIgnored(t *testing.T) {
	for k, v := range map[string]string{
		"GOOGLE_GENAI_USE_VERTEXAI":   "true",
		"GOOGLE_GENAI_USE_ENTERPRISE": "true",
		"GOOGLE_CLOUD_PROJECT":        "some-project",
		"GOOGLE_CLOUD_LOCATION":       "us-central1",
		"GOOGLE_API_KEY":              "other-key-from-env",
		"GEMINI_API_KEY":              "other-key-from-env",
		"GOOGLE_GEMINI_BASE_URL":      "http://127.0.0.1:1/",
		"GOOGLE_VERTEX_BASE_URL":      "http://127.0.0.1:1/",
	} {
		t.Setenv(k, v)
	}
	s := newServer(t, jsonReply(200, okBody))
	if _, err := newTestClient(t, s).Decide(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if s.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || s.Header.Get("X-Goog-Api-Key") != fakeKey ||
		s.Header.Get("Authorization") != "" || s.Header.Get("X-Goog-User-Project") != "" {
		t.Errorf("path %q, headers %v", s.Path, s.Header)
	}

	// With no BaseURL the request goes to Google's endpoint, not GOOGLE_GEMINI_BASE_URL's.
	var gotURL string
	c, err := New(Config{Model: "gemini-2.5-flash", APIKeyEnv: keyEnv, HTTPClient: &http.Client{
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			gotURL = r.URL.String()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(okBody)), Request: r}, nil
		}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decide(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if gotURL != "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("URL = %q", gotURL)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewKey(t *testing.T) {
	t.Setenv("PROSIM_TEST_MISSING", "")
	t.Setenv("GEMINI_API_KEY", "")
	t.Setenv("GOOGLE_API_KEY", "")
	for _, env := range []string{"PROSIM_TEST_MISSING", ""} {
		_, err := New(Config{Model: "gemini-2.5-flash", APIKeyEnv: env})
		want := env
		if want == "" {
			want = DefaultAPIKeyEnv + " or " + FallbackAPIKeyEnv
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing key in %q: err = %v", want, err)
		}
	}
	if _, err := New(Config{APIKeyEnv: keyEnv}); err == nil {
		t.Error("missing model accepted")
	}

	// The default variable, then the fallback.
	s := newServer(t, jsonReply(200, okBody))
	for _, env := range []string{"GOOGLE_API_KEY", "GEMINI_API_KEY"} {
		t.Setenv(env, fakeKey+"-"+env)
		c, err := New(Config{Model: "gemini-2.5-flash", BaseURL: s.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Decide(context.Background(), request()); err != nil {
			t.Fatal(err)
		}
		if got := s.Header.Get("X-Goog-Api-Key"); got != fakeKey+"-"+env {
			t.Errorf("key %q, want the one from %s", got, env)
		}
	}
}

func TestErrors(t *testing.T) {
	rl := `{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED"}}`
	t.Run("429 Retry-After", func(t *testing.T) {
		s := newServer(t, jsonReply(429, rl, "Retry-After", "13"))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		se := statusErr(t, err)
		if se.Status != 429 || se.RetryAfter != 13*time.Second || !se.Retryable() ||
			!strings.Contains(se.Body, "RESOURCE_EXHAUSTED") || s.NumCalls() != 1 {
			t.Errorf("got %+v after %d calls", se, s.NumCalls())
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
	t.Run("429 RetryInfo", func(t *testing.T) {
		s := newServer(t, jsonReply(429, `{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[
		  {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"x"}]},
		  {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}`))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 429 || se.RetryAfter != 37*time.Second || s.NumCalls() != 1 {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("503 unavailable", func(t *testing.T) {
		s := newServer(t, jsonReply(503, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 503 || !se.Retryable() || s.NumCalls() != 1 {
			t.Errorf("got %+v after %d calls", se, s.NumCalls())
		}
	})
	t.Run("500 plain text", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, "internal error")
		})
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 500 || !se.Retryable() || !strings.Contains(se.Body, "internal error") || s.NumCalls() != 1 {
			t.Errorf("got %+v after %d calls", se, s.NumCalls())
		}
	})
	t.Run("400 echoing the key", func(t *testing.T) {
		s := newServer(t, jsonReply(400, `{"error":{"code":400,"message":"API key not valid: `+fakeKey+`","status":"INVALID_ARGUMENT",
		 "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`))
		_, err := newTestClient(t, s).Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 400 || se.Retryable() || !strings.Contains(se.Body, "API_KEY_INVALID") {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("transport failure", func(t *testing.T) {
		s := newServer(t, jsonReply(200, okBody))
		c := newTestClient(t, s)
		s.Close()
		_, err := c.Decide(context.Background(), request())
		if se := statusErr(t, err); se.Status != 0 || !se.Retryable() {
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
	if se.Status != 0 || !se.Retryable() || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %+v (%v)", se, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if n := s.NumCalls(); n != 1 {
		t.Errorf("%d calls", n)
	}
}

var hijack = providertest.Hijack

func TestBadBodies(t *testing.T) {
	cases := map[string]func(http.ResponseWriter, *http.Request){
		"truncated":   hijack(okBody[:len(okBody)/2]),
		"malformed":   jsonReply(200, `{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]]]`),
		"not json":    jsonReply(200, `<html>502 Bad Gateway</html>`),
		"empty":       jsonReply(200, `{}`),
		"empty body":  jsonReply(200, ``),
		"wrong shape": jsonReply(200, `{"candidates":"none"}`),
		"bad content": jsonReply(200, `{"candidates":[{"content":"x","finishReason":"STOP"}]}`),
		"bad parts":   jsonReply(200, `{"candidates":[{"content":{"parts":[7]}}]}`),
		"bad usage":   jsonReply(200, `{"candidates":[{"content":{"parts":[{"text":"{}"}]}}],"usageMetadata":"x"}`),
		"null cand":   jsonReply(200, `{"candidates":[null]}`),
		"no cands":    jsonReply(200, `{"candidates":[]}`),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			rep, err := newTestClient(t, s).Decide(context.Background(), request())
			se := statusErr(t, err)
			if se.Status != 0 || !se.Retryable() || rep.Calls != 0 || rep.Raw != "" || s.NumCalls() != 1 {
				t.Errorf("got %+v, reply %+v, %d calls", se, rep, s.NumCalls())
			}
			// It came with HTTP 200: it may have been billed, at the call's worst case.
			if in, out := backend.WorstCase(request(), DefaultMaxTokens); !se.Unusable || se.InputTokens != in || se.OutputTokens != out || se.Model == "" {
				t.Errorf("unusable %v (%s) at %d+%d tokens, want true at %d+%d", se.Unusable, se.Model, se.InputTokens, se.OutputTokens, in, out)
			}
		})
	}
}

func TestUnusableReplies(t *testing.T) {
	cases := []struct {
		name, body, raw string
		want            []string
	}{
		{"safety", `{"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[
		   {"category":"HARM_CATEGORY_HARASSMENT","probability":"HIGH","blocked":true},
		   {"category":"HARM_CATEGORY_HATE_SPEECH","probability":"NEGLIGIBLE"}]}],
		   "usageMetadata":{"promptTokenCount":30,"totalTokenCount":30},"modelVersion":"gemini-2.5-flash"}`,
			"", []string{"blocked", "SAFETY", "HARM_CATEGORY_HARASSMENT"}},
		{"prompt blocked", `{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},
		   "usageMetadata":{"promptTokenCount":30,"totalTokenCount":30},"modelVersion":"gemini-2.5-flash"}`,
			"", []string{"prompt blocked", "PROHIBITED_CONTENT"}},
		{"no candidates", `{"usageMetadata":{"promptTokenCount":30,"totalTokenCount":30},"modelVersion":"gemini-2.5-flash"}`,
			"", []string{"no candidates"}},
		{"recitation with text", `{"candidates":[{"content":{"parts":[{"text":"{\"willingness\": 3,"}],"role":"model"},
		   "finishReason":"RECITATION"}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":4}}`,
			`{"willingness": 3,`, []string{"RECITATION"}},
		{"max tokens", `{"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS"}],
		   "usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":0,"thoughtsTokenCount":64}}`,
			"", []string{"cut off", "64-token", "64 of them spent thinking"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, jsonReply(200, tc.body))
			rep, err := newTestClient(t, s).Decide(context.Background(), request())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Raw != tc.raw || rep.Calls != 1 || rep.InputTokens != 30 || rep.Provider != Provider || rep.Values != nil {
				t.Errorf("reply = %+v", rep)
			}
			for _, w := range tc.want {
				if !strings.Contains(rep.Invalid, w) {
					t.Errorf("Invalid = %q, want it to mention %q", rep.Invalid, w)
				}
			}
		})
	}
}

// A blocked reply goes through the validity wrapper as an invalid decision with the block as
// its reason, after being asked again; it is not an error.
func TestBlockedThroughValidate(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"candidates":[{"finishReason":"SAFETY","safetyRatings":[
	  {"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"MEDIUM","blocked":true}]}],
	  "usageMetadata":{"promptTokenCount":30}}`))
	req := request()
	req.Repair = nil
	rep, err := backend.Validate(newTestClient(t, s), 1).Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Valid() || !strings.Contains(rep.Invalid, "SAFETY") || rep.Calls != 2 || rep.InputTokens != 60 || s.NumCalls() != 2 {
		t.Errorf("reply = %+v after %d calls", rep, s.NumCalls())
	}
	// An empty reply is asked again unchanged, without a repair turn.
	if n := len(s.Body["contents"].([]any)); n != 1 {
		t.Errorf("%d contents on the re-ask", n)
	}
}

// A reply carrying a continuation token is returned as it is: one call per Decide.
func TestNoAutomaticContinuation(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"candidates":[{"content":{"parts":[{"text":"{\"willingness\": 6"}],"role":"model"},
	  "continuationToken":"`+b64("resume-here")+`"}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":4}}`))
	rep, err := newTestClient(t, s).Decide(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Raw != `{"willingness": 6` || rep.Calls != 1 || s.NumCalls() != 1 {
		t.Errorf("reply = %+v after %d calls", rep, s.NumCalls())
	}
}

func b64(s string) string {
	b, _ := json.Marshal([]byte(s))
	return string(bytes.Trim(b, `"`))
}

func TestRetryInfo(t *testing.T) {
	for body, want := range map[string]time.Duration{
		`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`: 1500 * time.Millisecond,
		`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-3s"}]}}`:  0,
		`{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.Help","retryDelay":"3s"}]}}`:        0,
		`{"error":{"message":"no details"}}`: 0,
		`not json`:                           0,
		``:                                   0,
	} {
		if got := retryInfo([]byte(body)); got != want {
			t.Errorf("retryInfo(%s) = %v, want %v", body, got, want)
		}
	}
}

// A redirect to another host is refused: the SDK's x-goog-api-key header would go with it
// (net/http drops only Authorization and Cookie). QA12 #2.
func TestRedirectAwayRefused(t *testing.T) {
	base, other := providertest.RedirectAway(t, jsonReply(200, okBody))
	_, err := newTestClient(t, base).Decide(context.Background(), request())
	providertest.CheckRedirectRefused(t, err, Provider, fakeKey, base, other)
}

// With GEMINI_API_KEY and GOOGLE_API_KEY both set, the SDK's warning that it uses
// GOOGLE_API_KEY (false: the key sent is GEMINI_API_KEY's) is not printed, the key sent is
// GEMINI_API_KEY's, and the standard logger writes where it did before. QA12 #16.
func TestBothKeysNoFalseWarning(t *testing.T) {
	t.Setenv("GEMINI_API_KEY", fakeKey)
	t.Setenv("GOOGLE_API_KEY", "AIza-the-other-key")
	var logged bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&logged)
	defer log.SetOutput(prev)
	s := newServer(t, jsonReply(200, okBody))
	c, err := New(Config{Model: "gemini-2.5-flash", BaseURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	if logged.Len() != 0 {
		t.Errorf("logged %q", logged.String())
	}
	if log.Writer() != &logged {
		t.Error("the standard logger's output was not restored")
	}
	log.Print("another line")
	if !strings.Contains(logged.String(), "another line") {
		t.Errorf("logged %q", logged.String())
	}
	if _, err := c.Decide(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if got := s.Header.Get("X-Goog-Api-Key"); got != fakeKey {
		t.Errorf("key sent %q, want GEMINI_API_KEY's", got)
	}
}

// A reply over the size limit is recorded invalid under the model name every other reply of
// the client carries: without "models/", which the price table does not spell.
func TestReplyTooLargeNamesTheModel(t *testing.T) {
	big := `{"candidates":[{"content":{"parts":[{"text":"` + strings.Repeat("x", 2<<20) + `"}]}}]}`
	s := newServer(t, jsonReply(200, big))
	c := newTestClient(t, s, func(c *Config) { c.Model = "models/gemini-2.0-flash" })
	r, err := c.Decide(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Invalid, "reply too large (") || r.Model != "gemini-2.0-flash" || r.UnusableCalls != 1 {
		t.Errorf("reply %+v; want it invalid, one unusable call of gemini-2.0-flash", r)
	}
}
