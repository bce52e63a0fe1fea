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

// A base URL whose server redirects to another host stops the run at its first call, naming
// the base URL: the redirect is refused (the key would go with it), every decision would meet
// it, and it is not retried with back-off (QA12 #2: 6 attempts, 6.3 s, the decision recorded
// invalid).
func TestRedirectAwayStopsTheRun(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	var otherCalls, baseCalls atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherCalls.Add(1) }))
	t.Cleanup(other.Close)
	base := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		baseCalls.Add(1)
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(base.Close)
	exp := llmExperiment(t, base.URL, 4, 1, 1)
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err == nil || !strings.Contains(err.Error(), "redirect refused") || !strings.Contains(err.Error(), "base URL "+base.URL) {
		t.Fatalf("err %v\nwant the run stopped on the refused redirect, naming the base URL", err)
	}
	if n := baseCalls.Load(); n != 1 {
		t.Errorf("the base URL's server got %d calls, want 1 (no retry)", n)
	}
	if n := otherCalls.Load(); n != 0 {
		t.Errorf("the other server got %d calls", n)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 0 {
		t.Errorf("%d decisions recorded, want none", n)
	}
}
