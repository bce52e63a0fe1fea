package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// flakyServer is a loopback chat completions endpoint that answers its n-th call (from 1)
// as script says: a 500, a 429, an HTTP 200 that is not a completion (unusable), a reply
// after the timeout (slow), or a reply.
func flakyServer(t *testing.T, script func(n int64) string) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch script(calls.Add(1)) {
		case "500":
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":{"message":"server error"}}`)
		case "429":
			w.WriteHeader(429)
			fmt.Fprint(w, `{"error":{"message":"rate limited"}}`)
		case "slow": // answered after the backend's timeout of 300ms: sent, maybe billed
			time.Sleep(700 * time.Millisecond)
			fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"loopback-llm","choices":[{"index":0,"message":{"role":"assistant","content":"{\"willingness\": 4}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":300,"completion_tokens":8}}`)
		case "unusable":
			fmt.Fprint(w, `{"id":"chatcmpl-x","object":"chat.completion","model":"loopback-llm","choices":[]}`)
		default:
			fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"loopback-llm","choices":[{"index":0,"message":{"role":"assistant","content":"{\"willingness\": 4}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":300,"completion_tokens":8}}`)
		}
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

// A worker's retry of a reply that came with HTTP 200 but could not be used (which may have
// been billed) reserves its worst case against the coordinator's spend cap, as a local call's
// retry does (backend.Budgeted, Retry): the cap refuses the retry that does not fit, the
// decision is recorded invalid with the refusal, and the run stops at the cap with the spend
// within it. So does a retry of a call that timed out after its request was sent. Retries
// after a 500 or a 429 (not billed) reserve nothing, as locally. Before,
// the worker retried every unusable reply on the one reservation the coordinator made, and
// the run's spend passed its cap.
func TestWorkerRetriesReserveAgainstTheCap(t *testing.T) {
	const keyEnv = "PROSIM_CLUSTER_TEST_KEY"
	t.Setenv(keyEnv, "sk-test")
	b := startBroker(t, cluster.BrokerOptions{})
	startWorkers(t, b.URL(), 1)
	for _, c := range []struct {
		name   string
		script []string // the server's answers, in turn, repeated
		caps   float64  // the cap, in worst cases of one call
		// want: the server's calls, and the spend in worst cases (w) and good replies (g)
		calls int64
		w, g  int
		why   string // in the refused decision's reason
	}{
		// Each unusable reply: the first call's worst case fits in 1.5, its retry does not.
		{"always unusable", []string{"unusable"}, 1.5, 1, 1, 0, "HTTP 200"},
		// A call that timed out after sending may have been billed too: the same rule.
		{"always times out", []string{"slow"}, 1.5, 1, 1, 0, "timed out after its request was sent"},
		// The first decision: two reservations grown (3 worst cases held), 2w+g spent; the
		// second's first unusable reply makes 4 worst cases and a bit: its retry is refused.
		{"fails often", []string{"500", "429", "unusable", "unusable", "ok"}, 3.2, 8, 3, 1, "HTTP 200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, calls := flakyServer(t, func(n int64) string { return c.script[(n-1)%int64(len(c.script))] })
			src := fmt.Sprintf(`name: capped
study: vignettes
seed: 1
replicates: 1
concurrency: 1
population: {source: sample, n: 4}
scenarios: [volunteering]
conditions:
  - {name: none, policy: none}
prices: {loopback-llm: {input: 100, output: 400}}
backends: [{provider: openai, model: loopback-llm, base_url: %s/v1, api_key_env: %s, max_concurrency: 1, timeout: 300ms, label: remote}]
`, srv.URL, keyEnv)
			path := filepath.Join(t.TempDir(), "capped.yaml")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			exp, err := experiment.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := engine.Prepare(exp, engine.Options{NoCache: true, Offline: true, MaxCost: 1})
			if err != nil {
				t.Fatal(err)
			}
			est, err := r.Estimate()
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			worst := est[0].WorstCallUSD // the dearest call's; the agents' prompts differ little
			good := (300*100 + 8*400) / 1e6
			capUSD := c.caps * worst

			dir := filepath.Join(t.TempDir(), "run")
			run, _ := cluster.RunName(dir)
			coord, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b.URL()}, Run: run})
			if err != nil {
				t.Fatal(err)
			}
			defer coord.Close(true)
			_, err = engine.Run(context.Background(), exp, engine.Options{Out: dir, NoCache: true, Remote: coord.Backend, MaxCost: capUSD})
			stop, ok := errors.AsType[*engine.BudgetStop](err)
			if !ok {
				t.Fatalf("run: %v; want a stop at the spend cap", err)
			}
			st, err := store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
			if err != nil {
				t.Fatal(err)
			}
			var recorded, unusable, failed int
			var costs float64
			var refused []string
			st.Decisions(func(d store.Decision) error {
				recorded += d.Reply.Calls
				unusable += d.Reply.UnusableCalls
				failed += d.Reply.FailedCalls
				costs += d.Reply.CostUSD
				if strings.HasPrefix(d.Reply.Invalid, "error: budget of $") {
					refused = append(refused, d.Reply.Invalid)
				}
				return nil
			})
			st.Close()
			t.Logf("server: %d calls; recorded: %d calls (%d unusable, %d failed), $%.6f in costs; spent $%.6f of a $%.6f cap (one call's worst case $%.6f)",
				calls.Load(), recorded, unusable, failed, costs, stop.Spent, capUSD, worst)
			if calls.Load() != c.calls || int64(recorded) != calls.Load() {
				t.Errorf("the server got %d calls, %d recorded; want %d", calls.Load(), recorded, c.calls)
			}
			if stop.Spent > capUSD || math.Abs(stop.Spent-costs) > 1e-9 {
				t.Errorf("spent $%v of a $%v cap, decisions' costs $%v: want one amount within the cap", stop.Spent, capUSD, costs)
			}
			// Each call's worst case is within a few percent of the dearest.
			if want := float64(c.w)*worst + float64(c.g)*good; math.Abs(stop.Spent-want) > 0.05*float64(c.w)*worst {
				t.Errorf("spent $%v, want about %d worst cases and %d replies, $%v", stop.Spent, c.w, c.g, want)
			}
			if len(refused) != 1 || !strings.Contains(refused[0], c.why) || !strings.Contains(refused[0], "on worker") {
				t.Errorf("decisions refused by the cap: %q; want the one whose retry was refused, on its worker", refused)
			}
		})
	}
}
