package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEstimateReadsTheCache (QA16 F4, F5): prosim estimate --cache counts the replies a run
// left in that cache as free: after the run, 0 calls and $0, the output saying how many
// requests were found; and it says where its output tokens come from, for any model.
func TestEstimateReadsTheCache(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":"{\"willingness\": 4}"}}],"usage":{"prompt_tokens":50,"completion_tokens":5}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	exp, cache := filepath.Join(dir, "e.yaml"), filepath.Join(dir, "c.db")
	src := "name: e\nstudy: vignettes\nseed: 2\npopulation: {source: sample, n: 3}\nscenarios: [volunteering, donating]\n" +
		"conditions: [{name: none, policy: none}]\nprices: {qa-model: {input: 1, output: 2}}\n" +
		"backends: [{provider: vllm, model: qa-model, n: off, max_tokens: 64, base_url: " + srv.URL + "/v1}]\n"
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := prosim(t, "estimate", exp, "--cache", cache)
	if err != nil {
		t.Fatalf("%v\n%s", err, before)
	}
	if !strings.Contains(before, "0 of 6 requests are in the reply cache "+cache) || !strings.Contains(before, "output tokens are max_tokens (64 a reply), an upper bound") {
		t.Errorf("estimate before the run:\n%s", before)
	}
	if out, err := prosim(t, "run", exp, "--out", filepath.Join(dir, "run"), "-q", "--cache", cache); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if calls.Load() != 6 {
		t.Fatalf("the run made %d calls, want 6", calls.Load())
	}
	after, err := prosim(t, "estimate", exp, "--cache", cache)
	if err != nil {
		t.Fatalf("%v\n%s", err, after)
	}
	var row []string
	for _, l := range strings.Split(after, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "vllm:qa-model" {
			row = f
		}
	}
	if len(row) < 6 || row[1] != "6" || row[2] != "0" || row[5] != "0" || !strings.Contains(after, "6 of 6 requests are in the reply cache "+cache+" and cost nothing") {
		t.Errorf("estimate after the run: row %q\n%s", row, after)
	}
}
