package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// QA12 #3 (repro 03) on loopback: endpoints [good, always-500] with max_attempts 3. The
// requests first sent to the failing endpoint are retried on the good one: no decision is
// recorded invalid. With every endpoint failing, each decision is recorded invalid after 3
// attempts, with the reason.
func TestEndpointsFailOverOn5xx(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	good := newLLMServer(t)
	var badCalls atomic.Int64
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		badCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":{"message":"internal error"}}`))
	}))
	t.Cleanup(bad.Close)
	exp := llmExperiment(t, good.URL, 5, 2, 4)
	good.learn(exp)
	good.answer = func(_ llmDecision, _ bool, _ int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp.Backends[0].BaseURL, exp.Backends[0].Endpoints = "", []string{good.URL + "/v1", bad.URL + "/v1"}
	exp.Backends[0].MaxAttempts = 3
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	var invalid []string
	for _, r := range invalidReasons(t, dir) {
		if r != "" {
			invalid = append(invalid, r)
		}
	}
	if len(invalid) != 0 || res.Decisions != 5*3*2*2 {
		t.Fatalf("%d decisions, invalid %q; want none invalid", res.Decisions, invalid)
	}
	if badCalls.Load() == 0 {
		t.Fatal("the failing endpoint got no call: the test proves nothing")
	}

	// Every endpoint failing: each decision invalid after 3 attempts across them.
	badCalls.Store(0)
	exp = llmExperiment(t, bad.URL, 1, 1, 1)
	exp.Conditions, exp.Scenarios = exp.Conditions[:1], exp.Scenarios[:1]
	exp.Backends[0].BaseURL, exp.Backends[0].Endpoints = "", []string{bad.URL + "/v1", bad.URL + "/v1"}
	exp.Backends[0].MaxAttempts = 3
	dir = filepath.Join(t.TempDir(), "run2")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	reasons := invalidReasons(t, dir)
	if len(reasons) != 1 || !strings.Contains(reasons[0], "gave up after 3 attempts") || !strings.Contains(reasons[0], "HTTP 500") || badCalls.Load() != 3 {
		t.Fatalf("invalid reasons %q after %d calls; want one, after 3 attempts, HTTP 500", reasons, badCalls.Load())
	}
}
