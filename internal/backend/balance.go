package backend

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Balance spreads requests over several endpoints serving one model (e.g. many vLLM servers):
// each request goes to the endpoint with the fewest requests in flight, ties broken round-robin
// so that a lightly loaded set still uses every endpoint. Give each endpoint its own
// RateLimit(Timed(client)) chain, put Retry above Balance and Validate, Collapse and Cache
// above that (Stack does). Under a Retry, a request's retry goes to an endpoint it has not yet
// failed on with a retryable error (5xx, 429, timeout, connection), while there is one: an
// endpoint that keeps failing does not hold the requests first sent to it (QA12 #3). An
// endpoint whose last sickAfter calls all failed so is passed over for sickFor after its last
// failure while another can take the request: an endpoint that fails fast has nothing in
// flight and would otherwise be chosen first (39 of 91 calls went to an always-500 endpoint,
// and requests that had failed on both endpoints went back to it).
func Balance(endpoints []Backend) Backend { return balance(endpoints, time.Now) }

// balance is Balance on the clock now (for tests).
func balance(endpoints []Backend, now func() time.Time) Backend {
	if len(endpoints) == 0 {
		return Func(func(context.Context, Request) (Reply, error) {
			return Reply{}, errors.New("balance: no endpoints")
		})
	}
	if len(endpoints) == 1 {
		return endpoints[0]
	}
	b := &balancer{eps: endpoints, inflight: make([]int, len(endpoints)), streak: make([]int, len(endpoints)),
		lastFail: make([]time.Time, len(endpoints)), now: now}
	return Func(b.decide)
}

// An endpoint is sick for sickFor after its last failure once sickAfter calls in a row failed
// with a retryable error; a call after that is its probe.
const (
	sickAfter = 3
	sickFor   = 2 * time.Second
)

type balancer struct {
	eps      []Backend
	mu       sync.Mutex
	inflight []int
	next     int         // where the round-robin scan starts
	streak   []int       // retryable failures in a row, by endpoint
	lastFail []time.Time // by endpoint
	now      func() time.Time
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
	// Endpoints this request failed on are skipped, unless it failed on all of them; sick ones
	// too, unless every other is skipped or sick.
	skip := func(j int) bool { return failed != nil && failed[j] && slices.Contains(failed, false) }
	now := b.now()
	sick := func(j int) bool { return b.streak[j] >= sickAfter && now.Sub(b.lastFail[j]) < sickFor }
	best := -1
	for _, avoidSick := range []bool{true, false} {
		for i := range n {
			j := (b.next + i) % n
			if !skip(j) && !(avoidSick && sick(j)) && (best < 0 || b.inflight[j] < b.inflight[best]) {
				best = j
			}
		}
		if best >= 0 {
			break
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
	if ctx.Err() != nil {
		return r, err // the caller gave up: it says nothing of the endpoint
	}
	se, ok := errors.AsType[*StatusError](err)
	retryable := err != nil && ((ok && se.Retryable()) || errors.Is(err, context.DeadlineExceeded))
	b.mu.Lock()
	if retryable {
		b.streak[best]++
		b.lastFail[best] = b.now()
	} else {
		b.streak[best] = 0
	}
	b.mu.Unlock()
	if retryable && failed != nil {
		f.mu.Lock()
		failed[best] = true
		f.mu.Unlock()
	}
	return r, err
}
