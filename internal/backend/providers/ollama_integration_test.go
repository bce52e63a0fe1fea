package providers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	_ "github.com/prosim/prosim/internal/study/all"
)

// TestOllamaIntegration plays a tiny Study 1 (vignettes) and a tiny Study 2 (third-party
// punishment: one agent's 60 trials and emotion ratings) end to end against a real
// OpenAI-compatible server (Ollama, vLLM, llama.cpp server), each with structured output on
// (streamed, with a first-byte timeout) and off, then replays each from the reply cache. It
// runs only when PROSIM_OLLAMA_URL (the API root, e.g. http://127.0.0.1:11434/v1) and
// PROSIM_OLLAMA_MODEL (e.g. qwen2.5:0.5b) are set; CI sets neither, and the test says it was
// skipped.
//
//	PROSIM_OLLAMA_URL=http://127.0.0.1:11434/v1 PROSIM_OLLAMA_MODEL=qwen2.5:0.5b \
//	  go test ./internal/backend/providers -run Ollama -v -timeout 60m
//
// It checks what must hold whatever the model says: every decision the study asks is recorded
// (valid or invalid with its reason), every call is counted, and the replay makes no call and
// records the same decisions.
func TestOllamaIntegration(t *testing.T) {
	url, model := os.Getenv("PROSIM_OLLAMA_URL"), os.Getenv("PROSIM_OLLAMA_MODEL")
	if url == "" || model == "" {
		t.Skip("set PROSIM_OLLAMA_URL and PROSIM_OLLAMA_MODEL to run against a real OpenAI-compatible server (never in CI)")
	}
	backends := fmt.Sprintf(`backends:
  - provider: ollama
    model: %[1]q
    base_url: %[2]q
    label: structured
    temperature: 0.8
    max_tokens: 64
    first_byte_timeout: 10m
    timeout: 2m
  - provider: ollama
    model: %[1]q
    base_url: %[2]q
    label: text
    structured_output: "off"
    temperature: 0.8
    max_tokens: 64
    timeout: 5m
`, model, url)
	for _, tc := range []struct{ name, design string }{
		{"study1", `study: vignettes
replicates: 2
population: {source: sample, n: 2}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
`},
		{"study2", `study: tpp
population: {source: sample, n: 1}
conditions: [{name: none, policy: none}]
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			playAndReplay(t, "name: ollama-"+tc.name+"\nseed: 11\nconcurrency: 4\n"+tc.design+backends)
		})
	}
}

// playAndReplay runs the experiment twice with one reply cache: the first run must record every
// decision the study asks and count a call or a cache hit for each; the second must make no
// call and record the same decisions.
func playAndReplay(t *testing.T, yaml string) {
	dir := t.TempDir()
	exp, err := experiment.Parse([]byte(yaml), filepath.Join(dir, "exp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// What the study will ask, per backend, counted without asking anything.
	r, err := engine.Prepare(exp, engine.Options{NoCache: true, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	est, err := r.Estimate()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	want, asked := 0, map[string]int{}
	for _, e := range est {
		want += e.Decisions
		asked[e.Backend] = e.Decisions
	}
	cache := filepath.Join(dir, "cache.db")
	first, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(dir, "run1"), CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	if first.Decisions != want || want == 0 {
		t.Fatalf("first run recorded %d decisions, want %d", first.Decisions, want)
	}
	for _, u := range first.Usage {
		// Each decision is a call or a cache hit (a replicate served by n, a repeated prompt);
		// at least one call per distinct request of a replicate group.
		if u.Calls == 0 || u.Calls+u.CacheHits < asked[u.Label] {
			t.Errorf("%s: %d calls and %d cache hits for %d decisions", u.Label, u.Calls, u.CacheHits, asked[u.Label])
		}
		t.Logf("%s: %d decisions, %d calls, %d cache hits, %d input and %d output tokens", u.Label, asked[u.Label], u.Calls, u.CacheHits, u.InputTokens, u.OutputTokens)
	}
	second, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(dir, "run2"), CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range second.Usage {
		if u.Calls != 0 {
			t.Errorf("replay: %s made %d calls", u.Label, u.Calls)
		}
	}
	a, valid := decisions(t, filepath.Join(dir, "run1"))
	b, _ := decisions(t, filepath.Join(dir, "run2"))
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Error("the replay recorded other decisions than the run")
	}
	t.Logf("valid decisions by backend: %v of %v", valid, asked)
}

// decisions reads decisions.csv without its cached column, and counts valid decisions (not
// rows: a decision has a row per response field) per backend.
func decisions(t *testing.T, run string) ([][]string, map[string]int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(run, "results", "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("decisions.csv: %v", err)
	}
	col := func(name string) int {
		i := slices.Index(recs[0], name)
		if i < 0 {
			t.Fatalf("decisions.csv has no %s column", name)
		}
		return i
	}
	cached, valid, backend := col("cached"), col("valid"), col("backend")
	decision := []int{backend, col("run_id"), col("agent_id"), col("round"), col("trial"), col("scenario")}
	seen := map[string]bool{}
	counts := map[string]int{}
	for i, r := range recs {
		var key []string
		for _, c := range decision {
			key = append(key, r[c])
		}
		if k := strings.Join(key, "\x00"); i > 0 && r[valid] == "1" && !seen[k] {
			seen[k] = true
			counts[r[backend]]++
		}
		recs[i] = slices.Delete(slices.Clone(r), cached, cached+1)
	}
	return recs, counts
}
