package backend

import (
	"context"
	"errors"
	"sync"
)

// Balance spreads requests over several endpoints serving one model (e.g. many vLLM servers):
// each request goes to the endpoint with the fewest requests in flight, ties broken round-robin
// so that a lightly loaded set still uses every endpoint. Give each endpoint its own
// RateLimit(Retry(client)) chain, and put Validate, Collapse and Cache above Balance.
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

func (b *balancer) decide(ctx context.Context, req Request) (Reply, error) {
	b.mu.Lock()
	n := len(b.eps)
	best := b.next
	for i := 1; i < n; i++ {
		j := (b.next + i) % n
		if b.inflight[j] < b.inflight[best] {
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
	return b.eps[best].Decide(ctx, req)
}
