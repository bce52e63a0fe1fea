package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// anthropicExperiment is a vignette run of n agents on one Anthropic backend at url.
func anthropicExperiment(t *testing.T, url string, n, concurrency int) *experiment.Experiment {
	t.Helper()
	src := fmt.Sprintf(`name: rej
study: vignettes
seed: 3
replicates: 1
concurrency: %d
population: {source: sample, n: %d}
scenarios: [volunteering]
conditions:
  - {name: none, policy: none}
backends:
  - {provider: anthropic, model: claude-haiku-4-5, base_url: "%s", api_key_env: %s, max_attempts: 1}
`, concurrency, n, url, llmKeyEnv)
	path := filepath.Join(t.TempDir(), "rej.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// anthropicServer answers the Messages API on loopback: ok(n) says whether the n-th call is
// answered (a forced tool call rating 4) or refused with the API's HTTP 400 for a temperature
// out of range.
func anthropicServer(t *testing.T, ok func(n int64) bool) (*httptest.Server, *atomic.Int64) {
	return anthropicServerSays(t, "temperature: range: 0..1", ok)
}

// anthropicServerSays is anthropicServer whose 400s say msg.
func anthropicServerSays(t *testing.T, msg string, ok func(n int64) bool) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if !ok(calls.Add(1)) {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": "invalid_request_error", "message": msg}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
			"content":     []any{map[string]any{"type": "tool_use", "id": "tu_1", "name": "response", "input": map[string]any{"willingness": 4}}},
			"stop_reason": "tool_use", "usage": map[string]any{"input_tokens": 20, "output_tokens": 5}})
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

// A server that refuses every request with HTTP 400 (a setting it does not take) stops the
// run after refusalLimit asks, naming its message, resumable; it does not record every
// decision invalid and exit 0 (QA9 repro-1: 20 of 20 invalid, exit 0).
func TestEveryAskRejectedStopsTheRun(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	var fixed atomic.Bool
	s, calls := anthropicServer(t, func(int64) bool { return fixed.Load() })
	exp := anthropicExperiment(t, s.URL, 40, 1)
	dir := filepath.Join(t.TempDir(), "run")
	var progress syncBuffer // written by the progress ticker too
	_, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Progress: &progress})
	if err == nil || !errors.Is(err, errRejectsAll) || !strings.Contains(err.Error(), "temperature: range: 0..1") ||
		!strings.Contains(err.Error(), "its first 8 asks all failed with HTTP 400") || !strings.Contains(err.Error(), "prosim resume "+dir) {
		t.Fatalf("err %v\nwant the run stopped at 8 asks rejected, naming the server's message, resumable", err)
	}
	if n := calls.Load(); n != 8 {
		t.Errorf("%d calls, want 8 (the run stops at the limit, not after asking 40)", n)
	}
	// The ask that stops the run is recorded invalid like the 7 before it: the run's calls
	// are the server's (QA10 repro-4: 7 rows for 8 calls); the closing line repeats the
	// --retry-invalid advice, not a plain resume (which would stop again).
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 8 {
		t.Errorf("%d decisions recorded, want the 8 asked", n)
	}
	if !strings.Contains(progress.String(), "8/40 decisions") {
		t.Errorf("progress %q: want the 8 saved counted", progress.String())
	}
	if reasons := invalidReasons(t, dir); len(reasons) != 8 || !strings.Contains(reasons[7], "HTTP 400") || strings.Contains(reasons[7], "first 8 asks") {
		t.Errorf("invalid reasons %q: want the 8 asks' HTTP 400", reasons)
	}
	if _, last, _ := strings.Cut(err.Error(), "run stopped with"); !strings.Contains(last, "; if the server was at fault, continue it once it is fixed with: prosim resume "+dir+" --retry-invalid") {
		t.Errorf("closing line %q", last)
	}
	// Once the server takes the requests, resume --retry-invalid completes the run.
	fixed.Store(true)
	res, err := Resume(context.Background(), dir, Options{NoCache: true, RetryInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 40 {
		t.Fatalf("%d decisions after resume, want 40", res.Decisions)
	}
}

// 400s between answers are those requests' own (a prompt too long, asked once): each is
// recorded invalid and the run goes on, however many there are.
func TestRejectedBetweenAnswersIsRecorded(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s, _ := anthropicServer(t, func(n int64) bool { return n%4 == 1 }) // 3 in a row, then an answer
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), anthropicExperiment(t, s.URL, 40, 1), Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 40 {
		t.Fatalf("%d decisions, want 40", res.Decisions)
	}
	invalid := 0
	for _, r := range invalidReasons(t, dir) {
		if strings.Contains(r, "HTTP 400") {
			invalid++
		}
	}
	if invalid != 30 {
		t.Fatalf("%d decisions invalid with the 400, want 30", invalid)
	}
}

// A server that answers, then rejects every request with HTTP 400 (Anthropic's "credit
// balance is too low") stops the run at refusalLimit asks in a row, resumable with
// --retry-invalid; it does not record every remaining decision invalid and exit 0 (QA10
// repro-2: 37 of 40 invalid, exit 0).
func TestRejectedInARowAfterAnswersStopsTheRun(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	const credit = "Your credit balance is too low to access the Anthropic API."
	var fixed atomic.Bool
	s, calls := anthropicServerSays(t, credit, func(n int64) bool { return n <= 3 || fixed.Load() })
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), anthropicExperiment(t, s.URL, 40, 1), Options{Out: dir, NoCache: true})
	if err == nil || !errors.Is(err, errRejectsAll) || !strings.Contains(err.Error(), credit) ||
		!strings.Contains(err.Error(), "8 asks in a row failed with HTTP 400 after it had answered") ||
		!strings.Contains(err.Error(), "prosim resume "+dir+" --retry-invalid") {
		t.Fatalf("err %v\nwant the run stopped at 8 asks in a row rejected, naming the server's message, resumable", err)
	}
	if n := calls.Load(); n != 3+8 {
		t.Errorf("%d calls, want 11 (3 answered, then the run stops at the 8th 400, not after asking 40)", n)
	}
	fixed.Store(true)
	res, err := Resume(context.Background(), dir, Options{NoCache: true, RetryInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 40 {
		t.Fatalf("%d decisions after resume, want 40", res.Decisions)
	}
	for _, r := range invalidReasons(t, dir) {
		if r != "" {
			t.Fatalf("invalid after resume --retry-invalid: %s", r)
		}
	}
}
