package backend

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// slotServer serves calls with a fixed service time, at most slots at once (0: unlimited),
// and records the most calls it held at once, waiting ones included.
type slotServer struct {
	service time.Duration
	sem     chan struct{}
	held    atomic.Int64
	maxHeld atomic.Int64
}

func newSlotServer(slots int, service time.Duration) *slotServer {
	s := &slotServer{service: service}
	if slots > 0 {
		s.sem = make(chan struct{}, slots)
	}
	return s
}

func (s *slotServer) Decide(ctx context.Context, req Request) (Reply, error) {
	h := s.held.Add(1)
	defer s.held.Add(-1)
	for {
		m := s.maxHeld.Load()
		if h <= m || s.maxHeld.CompareAndSwap(m, h) {
			break
		}
	}
	if s.sem != nil {
		s.sem <- struct{}{}
		defer func() { <-s.sem }()
	}
	time.Sleep(s.service)
	return Reply{Raw: `{"willingness": 4}`, Calls: 1}, nil
}

func drive(b Backend, callers, calls int) {
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(calls))
	for range callers {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				b.Decide(context.Background(), Request{})
			}
		})
	}
	wg.Wait()
}

func TestAdaptiveSingleSlot(t *testing.T) {
	// 16 callers against a server that serves one at a time: the limit stays low, so the
	// server never holds many waiting calls (without the limit it would hold all 16).
	s := newSlotServer(1, 20*time.Millisecond)
	drive(Adaptive(s, AdaptiveConfig{}), 16, 40)
	if m := s.maxHeld.Load(); m > 4 {
		t.Fatalf("the single-slot server held up to %d calls at once", m)
	}
}

func TestAdaptiveParallel(t *testing.T) {
	// A server whose latency does not grow with load (a batching vLLM): the limit grows
	// towards Max.
	s := newSlotServer(0, 5*time.Millisecond)
	a := Adaptive(s, AdaptiveConfig{Max: 12})
	drive(a, 16, 200)
	if m := s.maxHeld.Load(); m < 8 || m > 12 {
		t.Fatalf("the parallel server held up to %d calls at once, want 8..12 (Max 12)", m)
	}
}

func TestAdaptiveCutsOnFailure(t *testing.T) {
	a := newAIMD(AdaptiveConfig{})
	for range 10 {
		a.acquire(context.Background())
		a.release(time.Now(), time.Millisecond, served)
	}
	before := a.Limit()
	a.acquire(context.Background())
	a.release(time.Now(), time.Millisecond, overloaded)
	if got := a.Limit(); got != before/2 {
		t.Fatalf("limit %v after a failure, want %v", got, before/2)
	}
	// A call sent before that cut does not cut again; a cancelled call never does.
	a.acquire(context.Background())
	a.release(time.Now().Add(-time.Hour), time.Millisecond, overloaded)
	a.acquire(context.Background())
	a.release(time.Now(), time.Hour, neutral)
	if got := a.Limit(); got != before/2 {
		t.Fatalf("limit %v, want %v: cut twice for one round, or for a cancelled call", got, before/2)
	}
}

// A refused connection reached no server: it does not cut the limit (a dead server's
// refusals would otherwise queue the calls that tell the run it is gone); a dropped
// connection, a 5xx or a timeout does.
func TestAdaptiveOutcome(t *testing.T) {
	refused := &StatusError{Provider: "openai", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	ctx := context.Background()
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, served},
		{refused, neutral},
		{&GaveUpError{Attempts: 6, Last: refused}, neutral},
		{&GaveUpError{Attempts: 6, Answered: true, Last: refused}, overloaded},
		{&StatusError{Provider: "openai", Err: syscall.ECONNRESET}, overloaded},
		{&StatusError{Provider: "openai", Status: 503}, overloaded},
		{&StatusError{Provider: "openai", Status: 400}, neutral},
	} {
		if got := outcome(ctx, c.err); got != c.want {
			t.Errorf("outcome(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
