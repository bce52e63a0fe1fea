package backend

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// Balance spreads requests over several endpoints serving one model (e.g. many vLLM servers):
// each request goes to the endpoint with the fewest requests in flight, ties broken round-robin
// so that a lightly loaded set still uses every endpoint. Give each endpoint its own
// RateLimit(Timed(client)) chain, put Retry above Balance and Validate, Collapse and Cache
// above that (Stack does). Under a Retry, a request's retry goes to an endpoint it has not yet
// failed on with a retryable error (5xx, 429, timeout, connection), while there is one: an
// endpoint that keeps failing does not hold the requests first sent to it (QA12 #3).
func Balance(endpoints []Backend) Backend {
	if len(endpoints) == 0 {
		return Func(func(context.Context, Request) (Reply, error) {
			return Reply{}, errors.New("balance: no endpoints")
		})
	}
	if len(endpoints) == 1 {
		return endpoints[0]
	}
	b := &balancer{eps: endpoints, inflight: make([]int, len(endpoints))}
	return Func(b.decide)
}

type balancer struct {
	eps      []Backend
	mu       sync.Mutex
	inflight []int
	next     int // where the round-robin scan starts
}

// failedKey carries a request's *failedOn in the context Retry passes down.
type failedKey struct{}

// failedOn records the endpoints a request failed on, by balancer.
type failedOn struct {
	mu  sync.Mutex
	eps map[*balancer][]bool
}

func (f *failedOn) get(b *balancer) []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.eps == nil {
		f.eps = map[*balancer][]bool{}
	}
	if f.eps[b] == nil {
		f.eps[b] = make([]bool, len(b.eps))
	}
	return f.eps[b]
}

func (b *balancer) decide(ctx context.Context, req Request) (Reply, error) {
	var failed []bool
	f, _ := ctx.Value(failedKey{}).(*failedOn)
	if f != nil {
		failed = f.get(b)
	}
	b.mu.Lock()
	n := len(b.eps)
	// Endpoints this request failed on are skipped, unless it failed on all of them.
	skip := func(j int) bool { return failed != nil && failed[j] && slices.Contains(failed, false) }
	best := -1
	for i := range n {
		j := (b.next + i) % n
		if !skip(j) && (best < 0 || b.inflight[j] < b.inflight[best]) {
			best = j
		}
	}
	b.inflight[best]++
	b.next = (best + 1) % n
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inflight[best]--
		b.mu.Unlock()
	}()
	r, err := b.eps[best].Decide(ctx, req)
	if err != nil && failed != nil && ctx.Err() == nil {
		if se, ok := errors.AsType[*StatusError](err); (ok && se.Retryable()) || errors.Is(err, context.DeadlineExceeded) {
			f.mu.Lock()
			failed[best] = true
			f.mu.Unlock()
		}
	}
	return r, err
}
