package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/cluster"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

// A worker whose backend cannot be built (no API key on that machine; a loopback Anthropic) makes the run stop at
// once, naming the worker and the backend, with nothing recorded; with the key set, resume
// completes the run (the failed replies the first coordinator left are asked again).
func TestWorkerConfigErrorStopsTheRun(t *testing.T) {
	const keyEnv = "PROSIM_CLUSTER_TEST_KEY"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"msg_01","type":"message","role":"assistant","model":"m","content":[{"type":"tool_use","id":"toolu_01","name":"response","input":{"willingness":4}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":5}}`)
	}))
	defer srv.Close()
	src := fmt.Sprintf(`name: cfg
study: vignettes
seed: 1
replicates: 1
concurrency: 4
population: {source: sample, n: 4}
scenarios: [volunteering]
conditions:
  - {name: none, policy: none}
backends: [{provider: anthropic, model: m, base_url: %s, api_key_env: %s, label: remote}]
`, srv.URL, keyEnv)
	path := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(keyEnv, "") // the workers' machine has no key
	b := startBroker(t, cluster.BrokerOptions{})
	startWorkers(t, b.URL(), 1)
	dir := filepath.Join(t.TempDir(), "run")
	run, _ := cluster.RunName(dir)
	// One coordinator for both: the replies of the tasks in flight when the run stopped
	// arrive after it and are kept for a later ask of the same task, which must not take them.
	coord, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b.URL()}, Run: run})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close(true)
	decide := func(resume bool) error {
		opt := engine.Options{Out: dir, NoCache: true, Remote: coord.Backend}
		if resume {
			_, err := engine.Resume(context.Background(), dir, opt)
			return err
		}
		_, err := engine.Run(context.Background(), exp, opt)
		return err
	}
	err = decide(false)
	if err == nil || !strings.Contains(err.Error(), "backend remote: anthropic: no API key") || !strings.Contains(err.Error(), "on worker w1") ||
		!strings.Contains(err.Error(), "prosim resume") {
		t.Fatalf("err %v\nwant the run stopped naming the backend and the worker, resumable", err)
	}
	if st, _ := engine.Status(dir); st != "running" {
		t.Fatalf("status %q, want the run resumable", st)
	}
	t.Setenv(keyEnv, "sk-test")
	if err := decide(true); err != nil {
		t.Fatal(err)
	}
	if st, _ := engine.Status(dir); st != "complete" {
		t.Fatalf("status %q after resume, want complete", st)
	}
}
