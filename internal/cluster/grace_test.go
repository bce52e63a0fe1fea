package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/cluster"
	"github.com/prosim/prosim/internal/experiment"
)

// slowProvider is a loopback OpenAI-compatible endpoint that takes delay per call and counts
// the calls; at(n) is called at the n-th.
func slowProvider(t *testing.T, delay time.Duration, at func(n int64)) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		n := calls.Add(1)
		if at != nil {
			at(n)
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done(): // the caller gave up: the call is paid for nothing
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": 4}"}}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}`, n)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// decideAll asks n decisions of the broker's workers on backend b at once and waits for them.
func decideAll(t *testing.T, url, run string, b experiment.Backend, n int) {
	t.Helper()
	coord, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: url}, Run: run, AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close(true)
	be, err := coord.Backend(b)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := be.Decide(ctx, request(t, i)); err != nil {
				t.Errorf("decision %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
}

// worker runs one in-process worker until stop is called; result is closed once RunWorker
// returned, with its error in *err.
func worker(t *testing.T, url, name string, grace time.Duration, abandon <-chan struct{}) (stop func(), result <-chan struct{}, err *error) {
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan struct{})
	err = new(error)
	go func() {
		defer close(res)
		*err = cluster.RunWorker(ctx, cluster.WorkerOptions{ConnectOptions: cluster.ConnectOptions{URL: url, Name: name},
			Concurrency: 4, Poll: 50 * time.Millisecond, Grace: grace, Abandon: abandon})
	}()
	t.Cleanup(func() { cancel(); <-res })
	return cancel, res, err
}

// A worker stopped mid-run (SIGTERM) takes no new task and finishes its calls in flight,
// whose replies the coordinator records: every decision is paid once (QA12 #5: 248 calls for
// 240 decisions, the stopped worker's 8 in flight asked again elsewhere).
func TestStoppedWorkerFinishesItsCalls(t *testing.T) {
	b := startBroker(t, cluster.BrokerOptions{})
	const decisions = 24
	var stopA func()
	var once sync.Once
	var stoppedAt atomic.Int64
	srv, calls := slowProvider(t, 300*time.Millisecond, func(n int64) {
		if n == 6 { // both workers have calls in flight
			once.Do(func() { stoppedAt.Store(n); go stopA() })
		}
	})
	stopA, resA, errA := worker(t, b.URL(), "a", 10*time.Second, nil)
	worker(t, b.URL(), "b", 10*time.Second, nil)
	decideAll(t, b.URL(), "grace", experiment.Backend{Provider: "vllm", Model: "m", BaseURL: srv.URL + "/v1", MaxAttempts: 1}, decisions)
	select {
	case <-resA:
		if err := *errA; err != nil {
			t.Fatalf("the stopped worker returned %v, want nil: its calls finished", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stopped worker did not return")
	}
	if stoppedAt.Load() == 0 {
		t.Fatal("the worker was never stopped")
	}
	if got := calls.Load(); got != decisions {
		t.Fatalf("%d calls for %d decisions with a worker stopped mid-run: want each paid once", got, decisions)
	}
}

// At the grace's end, or at a second signal (Abandon), the calls still going are cancelled
// and their tasks handed back: another worker decides them, and RunWorker says how many.
func TestWorkerAbandonsAtSecondSignal(t *testing.T) {
	b := startBroker(t, cluster.BrokerOptions{})
	const decisions = 8
	var stopA func()
	abandon := make(chan struct{})
	var once sync.Once
	srv, calls := slowProvider(t, 500*time.Millisecond, func(n int64) {
		if n == 2 {
			once.Do(func() {
				go func() {
					stopA()
					time.Sleep(50 * time.Millisecond)
					close(abandon)
				}()
			})
		}
	})
	stopA, resA, errA := worker(t, b.URL(), "a", time.Minute, abandon)
	worker(t, b.URL(), "b", time.Minute, nil)
	decideAll(t, b.URL(), "abandon", experiment.Backend{Provider: "vllm", Model: "m", BaseURL: srv.URL + "/v1", MaxAttempts: 1}, decisions)
	<-resA
	err := *errA
	var ab *cluster.AbandonedError
	if !errors.As(err, &ab) || ab.Calls == 0 || ab.Why != "asked to" {
		t.Fatalf("the abandoning worker returned %v, want the calls it abandoned", err)
	}
	// An abandoned call may be cancelled before it reached the provider (still connecting).
	if got := calls.Load(); got < decisions || got > decisions+int64(ab.Calls) {
		t.Fatalf("%d calls for %d decisions and %d abandoned", got, decisions, ab.Calls)
	}
	t.Logf("%v; %d calls for %d decisions", err, calls.Load(), decisions)
}

// A worker that abandons a task at a second signal hands it back, and the calls it made for
// it that may be billed (here a reply that came with HTTP 200 but could not be used, and its
// retry, cut off after its request was sent) go to the coordinator, which counts them
// (OnUnasked) while another worker decides the task. Before, they were dropped with the task:
// paid, and counted nowhere.
func TestAbandonedTaskCountsItsPaidCalls(t *testing.T) {
	b := startBroker(t, cluster.BrokerOptions{})
	var stopA func()
	abandon := make(chan struct{})
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			go func() { stopA(); time.Sleep(50 * time.Millisecond); close(abandon) }()
			fmt.Fprint(w, `{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": 4}"}}],"usage":{"prompt_tokens":5`) // cut
			return
		}
		select {
		case <-time.After(time.Second): // the retry is still going when the worker abandons it
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, `{"id":"c2","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": 4}"}}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}`)
	}))
	t.Cleanup(srv.Close)
	stopA, resA, errA := worker(t, b.URL(), "a", time.Minute, abandon)

	coord, err := cluster.Open(context.Background(), cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: b.URL()}, Run: "spent", AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close(true)
	var mu sync.Mutex
	var counted []backend.Reply
	coord.OnUnasked(func(label string, r backend.Reply) {
		mu.Lock()
		defer mu.Unlock()
		if label != "vllm:m" {
			t.Errorf("calls counted under %q", label)
		}
		counted = append(counted, r)
	})
	be, err := coord.Backend(experiment.Backend{Provider: "vllm", Model: "m", BaseURL: srv.URL + "/v1", MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := be.Decide(ctx, request(t, 0))
		done <- err
	}()
	<-resA
	var ab *cluster.AbandonedError
	if !errors.As(*errA, &ab) || ab.Calls != 1 {
		t.Fatalf("the abandoning worker returned %v, want its 1 call abandoned", *errA)
	}
	worker(t, b.URL(), "b", time.Minute, nil) // decides the task handed back
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(counted) != 1 || counted[0].UnusableCalls < 1 || counted[0].Calls != counted[0].UnusableCalls || counted[0].UnusableInputTokens == 0 {
		t.Fatalf("counted %+v; want the abandoned task's unusable calls, at their worst case", counted)
	}
	if got := calls.Load(); got != int64(counted[0].Calls)+1 {
		t.Errorf("the provider had %d calls; want the %d counted and worker b's", got, counted[0].Calls)
	}
}
