package providers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	_ "github.com/prosim/prosim/internal/study/all"
)

// TestOllamaIntegration runs a tiny Study 1 end to end against a real OpenAI-compatible server
// (Ollama, vLLM, llama.cpp server), with structured output on and off, streamed with a
// first-byte timeout, then replays it from the reply cache. It runs only when
// PROSIM_OLLAMA_URL (the API root, e.g. http://127.0.0.1:11434/v1) and PROSIM_OLLAMA_MODEL
// (e.g. qwen2.5:0.5b) are set; CI sets neither, and the test says it was skipped.
//
//	PROSIM_OLLAMA_URL=http://127.0.0.1:11434/v1 PROSIM_OLLAMA_MODEL=qwen2.5:0.5b \
//	  go test ./internal/backend/providers -run Ollama -v
//
// It checks what must hold whatever the model says: every decision is recorded (valid or
// invalid with its reason), every call is counted, and the replay makes no call and records
// the same decisions.
func TestOllamaIntegration(t *testing.T) {
	url, model := os.Getenv("PROSIM_OLLAMA_URL"), os.Getenv("PROSIM_OLLAMA_MODEL")
	if url == "" || model == "" {
		t.Skip("set PROSIM_OLLAMA_URL and PROSIM_OLLAMA_MODEL to run against a real OpenAI-compatible server (never in CI)")
	}
	dir := t.TempDir()
	exp, err := experiment.Parse([]byte(fmt.Sprintf(`name: ollama-integration
study: vignettes
seed: 11
replicates: 2
concurrency: 4
population: {source: sample, n: 2}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
backends:
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
`, model, url)), filepath.Join(dir, "exp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache.db")
	first, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(dir, "run1"), CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	const want = 2 * 2 * 2 * 2 * 2 // agents x scenarios x conditions x replicates x backends
	if first.Decisions != want {
		t.Fatalf("first run recorded %d decisions, want %d", first.Decisions, want)
	}
	for _, u := range first.Usage {
		// Each backend asks 16 decisions: at least one call each unless n served replicates.
		if u.Calls < want/4 || u.Calls+u.CacheHits < want/2 {
			t.Errorf("%s: %d calls and %d cache hits for %d decisions", u.Label, u.Calls, u.CacheHits, want/2)
		}
		t.Logf("%s: %d calls, %d cache hits, %d input and %d output tokens", u.Label, u.Calls, u.CacheHits, u.InputTokens, u.OutputTokens)
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
	t.Logf("valid decisions: %v (structured output on, off)", valid)
}

// decisions reads decisions.csv without its cached column, and counts valid rows per backend.
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
	cached, valid, backend := slices.Index(recs[0], "cached"), slices.Index(recs[0], "valid"), slices.Index(recs[0], "backend")
	counts := map[string]int{}
	for i, r := range recs {
		if i > 0 && r[valid] == "1" {
			counts[r[backend]]++
		}
		recs[i] = slices.Delete(slices.Clone(r), cached, cached+1)
	}
	return recs, counts
}
