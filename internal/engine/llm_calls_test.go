package engine

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/store"
)

// A decision recorded invalid after its provider kept failing counts the calls its attempts
// made: the run's calls (in its decisions and in its usage) equal the server's count, 5xx
// answers included.
func TestLLMFailedAttemptsAreCounted(t *testing.T) {
	s := newLLMServer(t)
	var healed atomic.Bool
	s.answer = func(d llmDecision, first bool, choice int, content string) (int, map[string]string, string) {
		if d.agent == 0 && !healed.Load() {
			return http.StatusInternalServerError, nil, `{"error":{"message":"down"}}`
		}
		return http.StatusOK, nil, content
	}
	exp := llmExperiment(t, s.URL, 4, 1, 4)
	exp.Backends[0].MaxAttempts = 2
	t.Setenv(llmKeyEnv, llmKey) // before learn, which makes the client
	s.learn(exp)
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	stored, erred := recordedCalls(t, dir, 2)
	used := 0
	for _, u := range res.Usage {
		used += u.Calls
	}
	if erred != 6 { // agent 0: 3 scenarios x 2 conditions
		t.Fatalf("%d decisions recorded invalid with an error, want 6", erred)
	}
	if server := s.calls(); stored != server || used != server {
		t.Fatalf("calls: %d in the decisions, %d in the run's usage, %d at the server", stored, used, server)
	}
	// resume --retry-invalid asks the 6 again (now answered): each row keeps the calls of the
	// reply it replaced, so the run's calls still add up to the server's.
	healed.Store(true)
	if _, err := Resume(context.Background(), dir, Options{NoCache: true, RetryInvalid: true}); err != nil {
		t.Fatal(err)
	}
	stored, erred = recordedCalls(t, dir, 0)
	if server := s.calls(); erred != 0 || stored != server || server != 36 {
		t.Fatalf("after resume --retry-invalid: %d still invalid, %d calls in the decisions, %d at the server (want 36)", erred, stored, server)
	}
}

// recordedCalls sums the calls of a run's decisions and counts those recorded invalid with an
// error, each of which must carry attempts calls.
func recordedCalls(t *testing.T, dir string, attempts int) (calls, erred int) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Decisions(func(d store.Decision) error {
		calls += d.Reply.Calls
		if strings.HasPrefix(d.Reply.Invalid, errorReason) {
			erred++
			if d.Reply.Calls != attempts {
				t.Errorf("agent %d %s: recorded invalid with %d calls, want its %d attempts", d.Key.AgentID, d.Key.Scenario, d.Reply.Calls, attempts)
			}
		}
		return nil
	})
	return calls, erred
}

// A server that refuses response_format fails every decision alike: the run stops at the first
// with the fix named, instead of paying a call per decision for nothing.
func TestLLMServerRejectingStructuredOutputStops(t *testing.T) {
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, content string) (int, map[string]string, string) {
		return http.StatusBadRequest, nil, `{"error": {"message": "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model."}}`
	}
	exp := llmExperiment(t, s.URL, 4, 1, 1)
	t.Setenv(llmKeyEnv, llmKey) // before learn, which makes the client
	s.learn(exp)
	_, err := Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "run"), NoCache: true})
	if err == nil || !strings.Contains(err.Error(), "set structured_output: json_object (or off) on backend") {
		t.Fatalf("err %v, want the run stopped with the fix named", err)
	}
	if n := s.calls(); n != 1 {
		t.Fatalf("%d calls made, want 1", n)
	}
}
