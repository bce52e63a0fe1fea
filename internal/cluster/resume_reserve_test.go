package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/cluster"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// A capped run's coordinator stopped while a worker decided one of its tasks; resumed, the new
// coordinator adopts that task (it is still on the stream) rather than publishing its own, and
// accepts the worker's reservation of a retry under the old task's id: the worker's unusable
// reply is retried against the resumed run's cap, and the decision is recorded once with both
// calls, each paid once. Before, the resumed coordinator refused the reservation ("the
// coordinator's ask of this decision has ended"), published the task again (decided and paid
// again), and the unusable call was counted nowhere.
func TestResumedCoordinatorAdoptsTheOldTask(t *testing.T) {
	const keyEnv = "PROSIM_CLUSTER_TEST_KEY"
	t.Setenv(keyEnv, "sk-test")
	b := startBroker(t, cluster.BrokerOptions{})
	startWorkers(t, b.URL(), 1)
	var calls atomic.Int64
	held, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			close(held)
			<-release // answered once the coordinator was replaced: HTTP 200, unusable
			fmt.Fprint(w, `{"id":"chatcmpl-x","object":"chat.completion","model":"loopback-llm","choices":[]}`)
			return
		}
		fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"loopback-llm","choices":[{"index":0,"message":{"role":"assistant","content":"{\"willingness\": 4}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":300,"completion_tokens":8}}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	src := fmt.Sprintf(`name: adopt
study: vignettes
seed: 1
replicates: 1
concurrency: 1
population: {source: sample, n: 2}
scenarios: [volunteering]
conditions:
  - {name: none, policy: none}
prices: {loopback-llm: {input: 100, output: 400}}
backends: [{provider: openai, model: loopback-llm, base_url: %s/v1, api_key_env: %s, max_concurrency: 1, label: remote}]
`, srv.URL, keyEnv)
	path := filepath.Join(t.TempDir(), "adopt.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	run, _ := cluster.RunName(dir)

	// The first coordinator stops (Ctrl-C) while the worker's call is held.
	first, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b.URL()}, Run: run})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		_, err := engine.Run(ctx, exp, engine.Options{Out: dir, NoCache: true, Remote: first.Backend, Unasked: first.OnUnasked, MaxCost: 10})
		stopped <- err
	}()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never called the server")
	}
	cancel()
	if err := <-stopped; err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("first run: %v; want it interrupted", err)
	}
	if err := first.Close(false); err != nil {
		t.Fatal(err)
	}

	// Resumed with a new coordinator; the held call then comes back unusable.
	second, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b.URL()}, Run: run})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close(true)
	resumed := make(chan error, 1)
	go func() {
		_, err := engine.Resume(context.Background(), dir, engine.Options{Remote: second.Backend, Unasked: second.OnUnasked})
		resumed <- err
	}()
	time.Sleep(200 * time.Millisecond)
	close(release)
	select {
	case err := <-resumed:
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the resume did not end")
	}

	st, err := store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var decisions, recorded, unusable int
	var invalid []string
	st.Decisions(func(d store.Decision) error {
		decisions++
		recorded += d.Reply.Calls
		unusable += d.Reply.UnusableCalls
		if !d.Reply.Valid() {
			invalid = append(invalid, d.Reply.Invalid)
		}
		return nil
	})
	us, _ := st.UnrecordedSpend()
	t.Logf("server: %d calls; %d decisions with %d calls (%d unusable); unrecorded %+v; invalid %q", calls.Load(), decisions, recorded, unusable, us, invalid)
	if decisions != 2 || len(invalid) != 0 {
		t.Errorf("%d decisions, invalid: %q; want 2, valid", decisions, invalid)
	}
	if calls.Load() != 3 || recorded != 3 || unusable != 1 || len(us) != 0 {
		t.Errorf("the server got %d calls; %d recorded (%d unusable), unrecorded %+v; want 3 calls, each recorded once: the unusable one, its retry, the second decision",
			calls.Load(), recorded, unusable, us)
	}
}
