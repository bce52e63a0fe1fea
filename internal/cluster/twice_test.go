package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/cluster"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// A task whose first worker was slow past its lease goes to a second worker: both calls were
// made and may both be billed. The decision is recorded once, from the reply that came first,
// and the second reply's call and cost are counted in the run (the unrecorded table, the
// summary, the spend cap's account). Before, the second worker's reply had the first's
// message ID and the broker dropped it as a duplicate (or, kept for a later ask, it was never
// counted): 2 calls for the 3 made.
func TestTaskDecidedTwiceCountsBothCalls(t *testing.T) {
	const keyEnv = "PROSIM_CLUSTER_TEST_KEY"
	t.Setenv(keyEnv, "sk-test")
	b := startBroker(t, cluster.BrokerOptions{})
	var calls atomic.Int64
	dupSent := make(chan struct{})
	const completion = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"loopback-llm","choices":[{"index":0,"message":{"role":"assistant","content":"{\"willingness\": 4}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":300,"completion_tokens":8}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 2 {
			<-dupSent // the second decision waits until the slow worker has replied to the first
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, completion)
	}))
	t.Cleanup(srv.Close)
	src := fmt.Sprintf(`name: twice
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
	path := filepath.Join(t.TempDir(), "twice.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	run, _ := cluster.RunName(dir)
	coord, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b.URL()}, Run: run, AckWait: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close(true)
	type result struct {
		res *engine.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, NoCache: true, Remote: coord.Backend, Unasked: coord.OnUnasked, MaxCost: 10})
		done <- result{res, err}
	}()

	// The slow worker takes the first task and holds it past its lease.
	ctx := context.Background()
	nc, err := nats.Connect(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	var cons jetstream.Consumer
	for cons == nil {
		for n := range js.StreamNames(ctx).Name() {
			s, _ := js.Stream(ctx, n)
			for cn := range s.ConsumerNames(ctx).Name() {
				if strings.HasPrefix(cn, "tasks_") {
					cons, _ = js.Consumer(ctx, n, cn)
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var slow jetstream.Msg
	for m := range batch.Messages() {
		slow = m
	}
	if slow == nil {
		t.Fatal("the first task was never published")
	}
	// The task goes to the real worker once the lease ran out; it answers the first decision
	// and starts on the second.
	startWorkers(t, b.URL(), 1)
	for deadline := time.Now().Add(10 * time.Second); calls.Load() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first task was not redelivered to the worker")
		}
	}
	// The slow worker's reply comes now, as a worker replies (its call was made and paid).
	task := slow.Headers().Get(jetstream.MsgIDHeader)
	dup := nats.NewMsg("prosim." + run + ".reply")
	dup.Header.Set(jetstream.MsgIDHeader, "reply."+task) // what every worker sent: one reply per task
	dup.Header.Set("Prosim-Task", task)
	dup.Header.Set("Prosim-Key", slow.Headers().Get("Prosim-Key"))
	dup.Header.Set("Prosim-Worker", "slow")
	body, _ := json.Marshal(map[string]any{"label": "remote", "reply": backend.Reply{Raw: `{"willingness": 4}`, Provider: "openai",
		Model: "loopback-llm", Calls: 1, InputTokens: 300, OutputTokens: 8}})
	dup.Data = body
	if _, err := js.PublishMsg(ctx, dup); err != nil {
		t.Fatal(err)
	}
	slow.Ack()
	close(dupSent)

	var got result
	select {
	case got = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end")
	}
	if got.err != nil {
		t.Fatal(got.err)
	}
	good := (300*100 + 8*400) / 1e6
	st, err := store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	decisions, recorded := 0, 0
	st.Decisions(func(d store.Decision) error {
		decisions++
		recorded += d.Reply.Calls
		return nil
	})
	us, err := st.UnrecordedSpend()
	if err != nil {
		t.Fatal(err)
	}
	spent, _ := st.Meta("spent_usd")
	t.Logf("server: %d calls; %d decisions with %d calls; unrecorded %+v; spent_usd %s", calls.Load(), decisions, recorded, us, spent)
	if decisions != 2 || recorded != 2 {
		t.Errorf("%d decisions with %d calls recorded; want the 2 decisions once, with a call each", decisions, recorded)
	}
	if len(us) != 1 || us[0].Backend != "remote" || us[0].Calls != 1 || math.Abs(us[0].CostUSD-good) > 1e-12 {
		t.Errorf("unrecorded spend %+v; want the slow worker's call at $%v", us, good)
	}
	if s, err := strconv.ParseFloat(spent, 64); err != nil || math.Abs(s-3*good) > 1e-12 {
		t.Errorf("spent_usd %q; want the 3 calls' $%v", spent, 3*good)
	}
	if u := got.res.RunUsage[0]; u.Calls != 3 || math.Abs(u.CostUSD-3*good) > 1e-12 {
		t.Errorf("the run's summary: %d calls, $%v; want 3 calls, $%v", u.Calls, u.CostUSD, 3*good)
	}
	if u := got.res.Usage[0]; u.Calls != 3 || math.Abs(u.CostUSD-3*good) > 1e-12 {
		t.Errorf("the invocation's summary: %d calls, $%v; want 3 calls, $%v", u.Calls, u.CostUSD, 3*good)
	}
}
