package engine

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/store"
)

// A decision recorded invalid after its provider kept failing counts the calls its attempts
// made: the run's calls (in its decisions and in its usage) equal the server's count, 5xx
// answers included.
func TestLLMFailedAttemptsAreCounted(t *testing.T) {
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, content string) (int, map[string]string, string) {
		if d.agent == 0 {
			return http.StatusInternalServerError, nil, `{"error":{"message":"down"}}`
		}
		return http.StatusOK, nil, content
	}
	exp := llmExperiment(t, s.URL, 4, 1, 4)
	exp.Backends[0].MaxAttempts = 2
	s.learn(exp)
	t.Setenv(llmKeyEnv, llmKey)
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, erred := 0, 0
	st.Decisions(func(d store.Decision) error {
		stored += d.Reply.Calls
		if strings.HasPrefix(d.Reply.Invalid, errorReason) {
			erred++
			if d.Reply.Calls != 2 {
				t.Errorf("agent %d %s: recorded invalid with %d calls, want its 2 attempts", d.Key.AgentID, d.Key.Scenario, d.Reply.Calls)
			}
		}
		return nil
	})
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
}
