package backend

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBalanceRoundRobinWhenIdle(t *testing.T) {
	counts := make([]int, 3)
	var eps []Backend
	for i := range counts {
		eps = append(eps, Func(func(ctx context.Context, r Request) (Reply, error) { counts[i]++; return Reply{}, nil }))
	}
	b := Balance(eps)
	for range 7 {
		b.Decide(context.Background(), testReq("p", 0))
	}
	if counts[0] != 3 || counts[1] != 2 || counts[2] != 2 {
		t.Fatalf("counts %v, want [3 2 2]", counts)
	}
}

func TestBalanceAvoidsBusyEndpoint(t *testing.T) {
	var mu sync.Mutex
	counts := make([]int, 3)
	entered := make(chan int, 1)
	release := make(chan struct{})
	var eps []Backend
	for i := range counts {
		eps = append(eps, Func(func(ctx context.Context, r Request) (Reply, error) {
			mu.Lock()
			counts[i]++
			mu.Unlock()
			if r.AgentID == 1 { // the slow request
				entered <- i
				<-release
			}
			return Reply{}, nil
		}))
	}
	b := Balance(eps)
	done := make(chan struct{})
	slow := testReq("slow", 0)
	slow.AgentID = 1
	go func() { b.Decide(context.Background(), slow); close(done) }()
	busy := <-entered
	for range 6 {
		b.Decide(context.Background(), testReq("fast", 0))
	}
	close(release)
	<-done
	for i, c := range counts {
		want := 3
		if i == busy {
			want = 1
		}
		if c != want {
			t.Fatalf("counts %v with endpoint %d busy; want the 6 fast requests on the other two", counts, busy)
		}
	}
}

func TestBalanceNoEndpoints(t *testing.T) {
	if _, err := Balance(nil).Decide(context.Background(), testReq("p", 0)); err == nil {
		t.Fatal("want an error")
	}
}

// With endpoints [good, always-500] under Stack, a request first sent to the failing endpoint
// is retried on the good one: every decision is valid, each failed attempt is counted once
// (QA12 #3: 4 of 40 recorded invalid, all in the first condition). With every endpoint
// failing, the decision fails after max_attempts across them, with the reason.
func TestStackFailsOverOn5xx(t *testing.T) {
	good := &fake{}
	var badCalls atomic.Int64
	bad := Func(func(ctx context.Context, req Request) (Reply, error) {
		badCalls.Add(1)
		return Reply{}, &StatusError{Provider: "openai", Status: 500, Body: "internal error"}
	})
	noSleep := func(context.Context, time.Duration) error { return nil }
	policy := RetryPolicy{MaxAttempts: 3, Sleep: noSleep, Timeout: time.Second}
	b := Stack([]Backend{bad, good}, StackConfig{Retry: policy, MaxRepairs: 1})
	calls, failed := 0, 0
	for i := range 40 {
		r, err := b.Decide(context.Background(), testReq(fmt.Sprint("p", i), 0))
		if err != nil || !r.Valid() {
			t.Fatalf("request %d: %+v, %v", i, r, err)
		}
		calls += r.Calls
		failed += r.FailedCalls
	}
	if got := int(good.calls.Load()) + int(badCalls.Load()); calls != got || failed != int(badCalls.Load()) || failed == 0 {
		t.Errorf("calls %d (failed %d); the endpoints saw %d (the failing one %d)", calls, failed, got, badCalls.Load())
	}
	// Every endpoint failing: max_attempts in all, across them, and the last failure named.
	badCalls.Store(0)
	b = Stack([]Backend{bad, bad}, StackConfig{Retry: policy})
	r, err := b.Decide(context.Background(), testReq("q", 0))
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("err %v", err)
	}
	if badCalls.Load() != 3 || r.Calls != 3 || r.FailedCalls != 3 {
		t.Errorf("%d calls made, reply counts %d (%d failed); want 3", badCalls.Load(), r.Calls, r.FailedCalls)
	}
}

// An endpoint that fails fast (nothing in flight, so first in line) is passed over once
// sickAfter calls in a row failed, while the other can serve; after sickFor one call probes it,
// and a success makes it well again (QA12 #3 follow-up: 39 of 91 calls went to an always-500
// endpoint).
func TestBalanceAvoidsSickEndpoint(t *testing.T) {
	var good, bad atomic.Int64
	var badOK atomic.Bool
	eps := []Backend{
		Func(func(ctx context.Context, r Request) (Reply, error) { good.Add(1); return Reply{}, nil }),
		Func(func(ctx context.Context, r Request) (Reply, error) {
			bad.Add(1)
			if badOK.Load() {
				return Reply{}, nil
			}
			return Reply{}, &StatusError{Status: 500}
		}),
	}
	now := time.Unix(0, 0)
	b := balance(eps, func() time.Time { return now })
	for range 100 {
		b.Decide(context.Background(), testReq("p", 0))
	}
	if bad.Load() != sickAfter || good.Load() != 100-sickAfter {
		t.Fatalf("%d calls to the failing endpoint, %d to the good one; want %d and the rest", bad.Load(), good.Load(), sickAfter)
	}
	now = now.Add(sickFor)
	badOK.Store(true)
	for range 10 {
		b.Decide(context.Background(), testReq("p", 0))
	}
	if bad.Load() < sickAfter+4 {
		t.Fatalf("%d calls to the endpoint after it recovered: want it used again", bad.Load()-sickAfter)
	}
}
