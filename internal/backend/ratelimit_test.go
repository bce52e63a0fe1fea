package backend

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock's Sleep advances its time at once and records the wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	fail   error // if set, Sleep returns it without sleeping
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func TestRateLimitRequestsPerMinute(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	inner := &fake{}
	b := rateLimit(inner, Limits{RPM: 120}, clk) // 2 per second, burst 2
	for range 6 {
		if _, err := b.Decide(context.Background(), testReq("p", 0)); err != nil {
			t.Fatal(err)
		}
	}
	// 2 at once, then one every 0.5 s.
	want := []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}
	if len(clk.sleeps) != len(want) {
		t.Fatalf("waits %v, want %v", clk.sleeps, want)
	}
	for i := range want {
		if clk.sleeps[i] != want[i] {
			t.Fatalf("waits %v, want %v", clk.sleeps, want)
		}
	}
	// After idling a minute the bucket holds one second's worth, not a minute's.
	clk.now = clk.now.Add(time.Minute)
	clk.sleeps = nil
	for range 3 {
		b.Decide(context.Background(), testReq("p", 0))
	}
	if len(clk.sleeps) != 1 {
		t.Fatalf("after idling: waits %v, want one", clk.sleeps)
	}
}

// The token estimate is corrected by the reply's counted tokens.
func TestRateLimitTokensCorrected(t *testing.T) {
	req := testReq("a prompt of some length for the estimate", 0)
	est := EstimateTokens(req)
	for _, tc := range []struct {
		name string
		used int
		wait time.Duration // before the second call
	}{
		{"exact", est, time.Second},
		{"half", est / 2, time.Duration(float64(time.Second) * float64(est/2) / float64(est))},
		{"double", 2 * est, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Unix(1e9, 0)}
			inner := Func(func(ctx context.Context, r Request) (Reply, error) {
				return Reply{InputTokens: tc.used, OutputTokens: 0}, nil
			})
			b := rateLimit(inner, Limits{TPM: 60 * float64(est)}, clk) // est per second, burst est
			b.Decide(context.Background(), req)
			if len(clk.sleeps) != 0 {
				t.Fatalf("first call waited %v", clk.sleeps)
			}
			b.Decide(context.Background(), req)
			if len(clk.sleeps) != 1 || (clk.sleeps[0]-tc.wait).Abs() > time.Millisecond {
				t.Fatalf("second call waited %v, want %v", clk.sleeps, tc.wait)
			}
		})
	}
}

func TestRateLimitCancelGivesBack(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	inner := &fake{}
	b := rateLimit(inner, Limits{RPM: 60}, clk)
	b.Decide(context.Background(), testReq("p", 0)) // uses the one token
	clk.fail = context.Canceled
	if _, err := b.Decide(context.Background(), testReq("p", 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if inner.calls.Load() != 1 {
		t.Fatal("a cancelled wait still called the backend")
	}
	clk.fail = nil
	b.Decide(context.Background(), testReq("p", 0))
	// The cancelled request gave its token back: the third waits one interval, not two.
	if len(clk.sleeps) != 1 || clk.sleeps[0] != time.Second {
		t.Fatalf("waits %v, want [1s]", clk.sleeps)
	}
}

func TestRateLimitConcurrency(t *testing.T) {
	var in, peak atomic.Int64
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	inner := Func(func(ctx context.Context, r Request) (Reply, error) {
		n := in.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		entered <- struct{}{}
		<-release
		in.Add(-1)
		return Reply{}, nil
	})
	b := RateLimit(inner, Limits{Concurrency: 3})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { b.Decide(context.Background(), testReq("p", 0)) })
	}
	for range 3 {
		<-entered
	}
	if in.Load() != 3 {
		t.Fatalf("%d in flight, want 3", in.Load())
	}
	// A waiting caller whose context ends leaves the queue.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Decide(ctx, testReq("p", 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	close(release)
	wg.Wait()
	if peak.Load() != 3 {
		t.Fatalf("peak in flight %d, want 3", peak.Load())
	}
}

// hookClock is a fakeClock whose Sleep first calls during (to see what is recorded while a
// call waits).
type hookClock struct {
	fakeClock
	during func()
}

func (c *hookClock) Sleep(ctx context.Context, d time.Duration) error {
	c.during()
	return c.fakeClock.Sleep(ctx, d)
}

// A call held by tpm is in the Watch while it waits, so the progress says what the run waits
// for (QA12 #12: a tpm below one request's size looked like a hang).
func TestRateLimitWaitIsWatched(t *testing.T) {
	w := NewWatch()
	clk := &hookClock{fakeClock: fakeClock{now: time.Unix(0, 0)}}
	w.now = clk.Now
	var seen []string
	clk.during = func() { seen = append(seen, w.Waiting(0)) }
	be := rateLimit(Func(func(ctx context.Context, req Request) (Reply, error) { return Reply{}, nil }), Limits{TPM: 60, Watch: w}, clk)
	req := Request{Prompt: strings.Repeat("x", 400)} // about 100 tokens, 100 s at 60 a minute
	if _, err := be.Decide(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !strings.Contains(seen[0], "1 call(s) held by the tpm limit (60 tokens a minute), ") {
		t.Fatalf("while held: %q", seen)
	}
	if s := w.Waiting(0); s != "" {
		t.Errorf("after the call: %q", s)
	}
}
