package providers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

// schemaReply answers a chat completion body with a JSON object that fits its response_format
// schema (each property's minimum, or first enum value), or a willingness rating when the body
// has none.
func schemaReply(body map[string]any) string {
	rf, _ := body["response_format"].(map[string]any)
	js, _ := rf["json_schema"].(map[string]any)
	sch, _ := js["schema"].(map[string]any)
	props, _ := sch["properties"].(map[string]any)
	if len(props) == 0 {
		return `{"willingness": 5}`
	}
	out := map[string]any{}
	for name, p := range props {
		p, _ := p.(map[string]any)
		switch {
		case p["enum"] != nil:
			out[name] = p["enum"].([]any)[0]
		case p["minimum"] != nil:
			out[name] = p["minimum"]
		case p["type"] == "string":
			out[name] = "because"
		case p["type"] == "boolean":
			out[name] = false
		default:
			out[name] = 1
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// TestExtraBodyYAMLToWire: extra_body written in an experiment file reaches the server in
// every request body, beside the fields prosim writes; a run with another value misses the
// cache (it is part of the key) and a repeat of the first replays without a call.
func TestExtraBodyYAMLToWire(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []map[string]any
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		content, _ := json.Marshal(schemaReply(body))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%s}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`, content)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache.db")
	run := func(name, extra string) (calls int, got []map[string]any) {
		t.Helper()
		mu.Lock()
		bodies = nil
		mu.Unlock()
		exp, err := experiment.Parse([]byte(fmt.Sprintf(`name: extrabody
study: vignettes
seed: 3
population: {source: sample, n: 1}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
backends:
  - provider: ollama
    model: m
    base_url: %s/v1
    temperature: 0.7
    extra_body:
%s
`, srv.URL, extra)), filepath.Join(dir, name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(dir, name), CachePath: cache})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range res.Usage {
			calls += u.Calls
		}
		mu.Lock()
		defer mu.Unlock()
		return calls, bodies
	}
	const first = `      options: {num_ctx: 4096, stop: ["\n\n"]}
      top_k: 20
      repetition_penalty: 1.05`
	calls, got := run("run1", first)
	if calls != 1 || len(got) != 1 {
		t.Fatalf("first run: %d calls, %d bodies; want 1", calls, len(got))
	}
	b := got[0]
	if !reflect.DeepEqual(b["options"], map[string]any{"num_ctx": 4096.0, "stop": []any{"\n\n"}}) || b["top_k"] != 20.0 || b["repetition_penalty"] != 1.05 {
		t.Errorf("extra fields on the wire: options %v, top_k %v, repetition_penalty %v", b["options"], b["top_k"], b["repetition_penalty"])
	}
	if b["model"] != "m" || b["temperature"] != 0.7 || b["messages"] == nil || b["response_format"] == nil {
		t.Errorf("prosim's own fields are not all there beside them: %v", b)
	}
	if calls, _ := run("run2", strings.Replace(first, "4096", "8192", 1)); calls != 1 {
		t.Errorf("another num_ctx made %d calls: want 1 (a cache miss)", calls)
	}
	if calls, got := run("run3", first); calls != 0 || len(got) != 0 {
		t.Errorf("the first extra_body again made %d calls: want a replay from the cache", calls)
	}
}

// A field prosim writes itself, a provider whose client sends no extra body and the builtin
// model are refused with a located error naming the field.
func TestExtraBodyRefused(t *testing.T) {
	for want, backend := range map[string]string{
		`backends[0].extra_body.seed: "seed" is a field prosim sets itself`:                                    "{provider: ollama, model: m, extra_body: {top_k: 20, seed: 1}}",
		`backends[0].extra_body.response_format: "response_format" is a field`:                                 "{provider: vllm, model: m, extra_body: {response_format: {type: text}}}",
		`backends[0].extra_body: is sent to OpenAI-compatible servers only`:                                    "{provider: anthropic, model: c, extra_body: {top_k: 20}}",
		`backends[0].extra_body: is sent to OpenAI-compatible servers only (openai, vllm, ollama), not gemini`: "{provider: gemini, model: g, extra_body: {top_k: 20}}",
		`backends[0].extra_body: the builtin behavioural model takes no extra_body`:                            "{provider: builtin, extra_body: {top_k: 20}}",
		`backends[0].extra_body.options.f: NaN is not a number JSON can carry`:                                 "{provider: ollama, model: m, extra_body: {options: {f: .nan}}}",
		`backends[0].extra_body.a.b.c.d.e.f.g.h: nested more than 8 deep`:                                      "{provider: ollama, model: m, extra_body: {a: {b: {c: {d: {e: {f: {g: {h: {i: 1}}}}}}}}}}",
		`backends[0].extra_body: 17394 bytes as JSON: at most 16384`:                                           "{provider: ollama, model: m, extra_body: {stop: [" + strings.Repeat(`"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", `, 220) + `"x"]}}`,
	} {
		_, err := experiment.Parse([]byte("name: x\nstudy: vignettes\npopulation: {source: sample, n: 1}\nbackends:\n  - "+backend+"\n"), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.80s: error %v, want one containing %q", backend, err, want)
		}
	}
}
