package backend

import (
	"context"
	"errors"
	"sync"
	"time"
)

// AdaptiveConfig configures Adaptive.
type AdaptiveConfig struct {
	// Max caps the limit (0: 64).
	Max int
	// Tolerance is how many times its baseline a call's latency may grow before the limit is
	// cut (0: 1.5). A server that batches (vLLM) keeps latency nearly flat as calls are added and
	// the limit grows; one that serves one request at a time (Ollama by default) doubles it with
	// a second call in flight, and the limit stays near 1.
	Tolerance float64
}

// Adaptive limits the calls in flight to next with a limit it learns (additive increase,
// multiplicative decrease on latency): each call that comes back within Tolerance times the
// baseline latency raises the limit by 1/limit (about one per round of calls); a slower call,
// or a failed one (but a refused connection), halves it, at most once per round (only a call
// sent after the last cut can cut again, so the calls that were already queued in the server
// when it slowed down count once). The baseline is the lowest latency seen, drifting slowly
// up to follow a server whose replies lengthen. The limit starts at 1 and doubles each round
// until the first cut (slow start).
//
// Put it above Retry, so that time spent waiting here is not charged to a call's timeout, and
// use one per endpoint: it measures that server.
func Adaptive(next Backend, c AdaptiveConfig) Backend {
	a := newAIMD(c)
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		if err := a.acquire(ctx); err != nil {
			return Reply{}, err
		}
		start := time.Now()
		r, err := next.Decide(ctx, req)
		a.release(start, time.Since(start), outcome(ctx, err))
		return r, err
	})
}

// outcome says how a call that ended with err ends for the limit.
func outcome(ctx context.Context, err error) int {
	if err == nil {
		return served
	}
	// A refused connection reached no server and says nothing of its load: cutting would
	// only queue the calls that tell the run its server is gone (engine, step.go).
	var se *StatusError
	if ctx.Err() == nil && (!errors.As(err, &se) || se.Retryable()) && !Refused(err) {
		return overloaded // a timeout, a 5xx or 429, a dropped connection
	}
	return neutral
}

type aimd struct {
	max       float64
	tolerance float64

	mu       sync.Mutex
	limit    float64
	inFlight int
	baseline time.Duration
	lastCut  time.Time
	slow     bool // slow start: before the first cut
	wake     chan struct{}
}

func newAIMD(c AdaptiveConfig) *aimd {
	a := &aimd{max: float64(c.Max), tolerance: c.Tolerance, limit: 1, slow: true, wake: make(chan struct{})}
	if a.max <= 0 {
		a.max = 64
	}
	if a.tolerance <= 0 {
		a.tolerance = 1.5
	}
	return a
}

// Limit is the current limit (for tests and progress).
func (a *aimd) Limit() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limit
}

func (a *aimd) acquire(ctx context.Context) error {
	for {
		a.mu.Lock()
		if float64(a.inFlight) < a.limit {
			a.inFlight++
			a.mu.Unlock()
			return nil
		}
		wake := a.wake
		a.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// How a call ended, for the limit.
const (
	served     = iota // a reply: its latency counts
	overloaded        // a failure that says the server is overloaded or unreachable: cut
	neutral           // a cancelled call or a refused request: says nothing of load
)

// release ends a call sent at start that took d.
func (a *aimd) release(start time.Time, d time.Duration, out int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	ok := out == served
	switch {
	case out == neutral:
	case ok && (a.baseline == 0 || d < a.baseline):
		a.baseline = d
		a.grow()
	case ok && float64(d) <= a.tolerance*float64(a.baseline):
		a.baseline += (d - a.baseline) / 64
		a.grow()
	case start.After(a.lastCut):
		if ok {
			a.baseline += (d - a.baseline) / 64
		}
		a.limit = max(1, a.limit/2)
		a.lastCut, a.slow = time.Now(), false
	}
	close(a.wake) // wake every waiter: the limit or the count changed
	a.wake = make(chan struct{})
}

func (a *aimd) grow() {
	if a.slow {
		a.limit++
	} else {
		a.limit += 1 / a.limit
	}
	a.limit = min(a.limit, a.max)
}
