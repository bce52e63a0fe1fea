package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/cluster"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/study"
)

func startBroker(t *testing.T, o cluster.BrokerOptions) *cluster.Broker {
	t.Helper()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	b, err := cluster.StartBroker(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// startWorkers runs n in-process workers until the test ends.
func startWorkers(t *testing.T, url string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cluster.RunWorker(ctx, cluster.WorkerOptions{ConnectOptions: cluster.ConnectOptions{URL: url,
				Name: "w" + string(rune('1'+i))}, Concurrency: 4, Poll: 50 * time.Millisecond})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// load reads an example experiment and makes it smaller (CI time).
func load(t *testing.T, file string, edit func(e *experiment.Experiment)) *experiment.Experiment {
	t.Helper()
	e, err := experiment.Load(filepath.Join("..", "..", "examples", file))
	if err != nil {
		t.Fatal(err)
	}
	edit(e)
	return e
}

// runDistributed runs exp with its decisions made by the broker's workers, and removes the
// run's stream at the end as prosim run does.
func runDistributed(t *testing.T, url string, exp *experiment.Experiment, dir string) {
	t.Helper()
	run, err := cluster.RunName(dir)
	if err != nil {
		t.Fatal(err)
	}
	coord, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: url}, Run: run})
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Run(context.Background(), exp, engine.Options{Out: dir, NoCache: true, Remote: coord.Backend})
	if cerr := coord.Close(err == nil); cerr != nil {
		t.Error(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(coord.Workers()) < 2 {
		t.Errorf("replies came from %d workers, want the 3 sharing the work: %+v", len(coord.Workers()), coord.Workers())
	}
}

// sameResults compares every file under results/ of two runs byte for byte.
func sameResults(t *testing.T, a, b string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(a, "results", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no results in %s (%v)", a, err)
	}
	for _, fa := range files {
		fb := filepath.Join(b, "results", filepath.Base(fa))
		da, err1 := os.ReadFile(fa)
		db, err2 := os.ReadFile(fb)
		if err1 != nil || err2 != nil {
			t.Fatalf("%v %v", err1, err2)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between the single-process and the distributed run", filepath.Base(fa))
		}
	}
	t.Logf("%d result files identical", len(files))
}

// Study 1 and Study 3 decided by 3 workers over the broker give byte-identical results to a
// single-process run with the same seed.
func TestDistributedRunsMatchSingleProcess(t *testing.T) {
	b := startBroker(t, cluster.BrokerOptions{})
	startWorkers(t, b.URL(), 3)
	for _, c := range []struct {
		file string
		edit func(e *experiment.Experiment)
	}{
		{"study1.yaml", func(e *experiment.Experiment) { e.Population.N, e.Replicates, e.Concurrency = 20, 2, 32 }},
		{"study3-network.yaml", func(e *experiment.Experiment) { e.Replicates, e.Concurrency = 1, 32 }},
	} {
		t.Run(c.file, func(t *testing.T) {
			local := filepath.Join(t.TempDir(), "local")
			if _, err := engine.Run(context.Background(), load(t, c.file, c.edit), engine.Options{Out: local, NoCache: true}); err != nil {
				t.Fatal(err)
			}
			dist := filepath.Join(t.TempDir(), "dist")
			runDistributed(t, b.URL(), load(t, c.file, c.edit), dist)
			sameResults(t, local, dist)
		})
	}
	// Every run's stream is deleted at its end.
	nc, err := nats.Connect(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for n := range js.StreamNames(context.Background()).Name() {
		t.Errorf("stream %s left on the broker after the runs", n)
	}
}

var oneField = schema.Schema{Fields: []schema.Field{{Name: "willingness", Kind: schema.Likert, Min: 1, Max: 7, Step: 1}}}

// request is a decision for the behavioural model: agent i's willingness to volunteer.
func request(t *testing.T, i int) backend.Request {
	t.Helper()
	ps, err := persona.Sample(i+1, 7, persona.SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := scenario.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := lib.Get("volunteering")
	return backend.Request{AgentID: i, Prompt: "p", Schema: oneField, Seed: uint64(i),
		Structured: &situation.Situation{Persona: &ps[i], Scenario: sc.ID, Kind: sc.Kind, Params: study.SituationParams(sc, nil),
			Policy: situation.PolicyExposure{ID: "none", Channel: "none"}}}
}

// A task taken by a worker that dies without acknowledging it goes to another worker after
// the ack wait; the reply published twice (the task decided twice) is taken once.
func TestTaskOfADeadWorkerIsRedelivered(t *testing.T) {
	b := startBroker(t, cluster.BrokerOptions{})
	ctx := context.Background()
	coord, err := cluster.Open(ctx, cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b.URL()}, Run: "redeliver", AckWait: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close(true)
	be, err := coord.Backend(experiment.Backend{Provider: "builtin"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan backend.Reply, 1)
	go func() {
		r, err := be.Decide(ctx, request(t, 1))
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	// A "worker" takes the task and dies: it never acknowledges.
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
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var dead jetstream.Msg
	for m := range batch.Messages() {
		dead = m
	}
	if dead == nil {
		t.Fatal("the task was never published")
	}
	// The reply waits for a real worker, which gets the task after the ack wait.
	select {
	case <-got:
		t.Fatal("a reply arrived before any worker decided the task")
	case <-time.After(200 * time.Millisecond):
	}
	startWorkers(t, b.URL(), 1)
	start := time.Now()
	var r backend.Reply
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the task of the dead worker was never redelivered")
	}
	if r.Provider != "builtin" || r.Raw == "" {
		t.Fatalf("reply %+v", r)
	}
	t.Logf("redelivered and decided after %s", time.Since(start).Round(time.Millisecond))
	// A second copy of the reply (the dead worker was only slow, and replies now) reaches
	// the coordinator but answers nothing: the decision had its reply.
	dup := nats.NewMsg("prosim.redeliver.reply")
	dup.Header.Set("Prosim-Key", dead.Headers().Get("Prosim-Key"))
	dup.Header.Set("Prosim-Worker", "slow")
	rb, _ := json.Marshal(map[string]any{"reply": backend.Reply{Raw: "duplicate", Provider: "builtin"}})
	dup.Data = rb
	if _, err := js.PublishMsg(ctx, dup); err != nil {
		t.Fatal(err)
	}
	dead.Ack() // too late: the task was decided by the other worker
	time.Sleep(200 * time.Millisecond)
	names := map[string]int{}
	for _, w := range coord.Workers() {
		names[w.Name] = w.Replies
	}
	if names["slow"] != 1 || names["w1"] != 1 {
		t.Fatalf("replies by worker %v, want one each from w1 and the slow one", names)
	}
}

// A broker restarted on its file store keeps the tasks it acknowledged to the coordinator:
// tasks published before the restart are decided by a worker that starts after it.
func TestBrokerRestartKeepsTasks(t *testing.T) {
	store := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	b1, err := cluster.StartBroker(cluster.BrokerOptions{Listen: addr, StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	coord, err := cluster.Open(ctx, cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b1.URL()}, Run: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close(true)
	be, _ := coord.Backend(experiment.Backend{Provider: "builtin"})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := be.Decide(ctx, request(t, i))
			errs <- err
		}()
	}
	time.Sleep(300 * time.Millisecond) // every task published and acknowledged by the stream
	b1.Close()
	b2, err := cluster.StartBroker(cluster.BrokerOptions{Listen: addr, StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b2.Close) // after the coordinator and the worker have gone
	startWorkers(t, b2.URL(), 1)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("tasks published before the broker restart were not decided after it")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Credentials in the URL are what a broker with a user and password asks for; without them
// the connection is refused, and messages never show them.
func TestCredentialsInURL(t *testing.T) {
	b := startBroker(t, cluster.BrokerOptions{User: "prosim", Password: "s3cret-pw"})
	host := strings.TrimPrefix(b.URL(), "nats://")
	ctx := context.Background()
	_, err := cluster.Open(ctx, cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: "nats://prosim:wrong-pw@" + host}, Run: "creds"})
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if strings.Contains(err.Error(), "wrong-pw") {
		t.Fatalf("the error shows the password: %v", err)
	}
	c, err := cluster.Open(ctx, cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: "nats://prosim:s3cret-pw@" + host}, Run: "creds"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close(true)
	tb := startBroker(t, cluster.BrokerOptions{Token: "tok3n"})
	c, err = cluster.Open(ctx, cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: "nats://tok3n@" + strings.TrimPrefix(tb.URL(), "nats://")}, Run: "creds"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close(true)
	if got := cluster.Redact("nats://u:p@h:4222,nats://tok@h2:4222"); got != "nats://h:4222,nats://h2:4222" {
		t.Fatalf("Redact: %s", got)
	}
}

// The broker's cache bucket is a backend.CacheStore: what one coordinator's cache stores,
// another's (a second process on the broker) reads; the first reply to a key wins.
func TestKVStoreSharesEntries(t *testing.T) {
	b := startBroker(t, cluster.BrokerOptions{})
	ctx := context.Background()
	open := func() *backend.Cache {
		s, err := cluster.OpenKVStore(ctx, cluster.ConnectOptions{URL: b.URL()})
		if err != nil {
			t.Fatal(err)
		}
		return backend.NewCache(s)
	}
	a, c := open(), open()
	defer c.Close()
	k1, k2 := backend.Key{1}, backend.Key{2}
	r := backend.Reply{Raw: `{"willingness": 5}`, Values: map[string]float64{"willingness": 5}, Provider: "openai", Model: "m",
		ModelVersion: "m-2026", InputTokens: 50, OutputTokens: 5, Calls: 1}
	if err := a.Put(ctx, k1, r); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, k2, backend.Reply{Raw: "no number here", Provider: "openai", Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // flushes to the bucket
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, k1)
	if err != nil || !ok {
		t.Fatalf("the other process's entry: ok %v, err %v", ok, err)
	}
	if !got.Cached || got.Raw != r.Raw || got.Values["willingness"] != 5 || got.ModelVersion != "m-2026" || got.Calls != 0 || got.InputTokens != 0 {
		t.Fatalf("hit %+v, want the stored reply marked cached, nothing spent", got)
	}
	if got, ok, _ := c.Get(ctx, k2); !ok || got.Values != nil || got.Raw != "no number here" {
		t.Fatalf("an answer without values: ok %v, %+v", ok, got)
	}
	if _, ok, err := c.Get(ctx, backend.Key{3}); ok || err != nil {
		t.Fatalf("a key never stored: ok %v, err %v", ok, err)
	}
	// A second reply to the same request keeps the first.
	if err := c.Put(ctx, k1, backend.Reply{Raw: `{"willingness": 1}`, Values: map[string]float64{"willingness": 1}, Provider: "openai", Model: "m"}); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	d := open()
	defer d.Close()
	if got, _, _ := d.Get(ctx, k1); got.Values["willingness"] != 5 {
		t.Fatalf("after a second Put the entry says %v, want the first reply's 5", got.Values)
	}
	if n, err := d.Len(ctx); err != nil || n != 2 {
		t.Fatalf("Len %d (%v), want 2", n, err)
	}
	if st := c.Stats(); st.Errors != 0 {
		t.Fatalf("cache errors: %+v", st)
	}
}
