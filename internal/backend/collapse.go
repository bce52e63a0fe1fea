package backend

import (
	"context"
	"errors"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"sync"
)

// Collapse makes identical requests in flight (what KeyOf(id, req) covers: the same agent,
// texts, repair turns, schema, sampling, replicate and factor levels) share one call to next.
// The caller whose request started the call gets the reply as is; the others get a copy with
// Cached set and Calls, tokens and cost zero, since they cost nothing (so usage is not counted
// twice). Put it above the Cache, so that duplicates also share the lookup and the store.
//
// The shared call runs under the first caller's context. If that caller gives up, the call
// fails with its context error; the others, whose contexts are still live, then ask again.
func Collapse(next Backend) Backend { return collapse(next, nil) }

// collapse is Collapse with a hook called once a caller has joined (or started) a call, for tests.
//
// The first caller of a key makes the call in its own goroutine (no goroutine is started per
// decision); the others wait for it or for their own context.
//
// Calls in flight are found by a fast 64-bit hash of the request and told apart by comparing
// the requests themselves, so no cryptographic key is computed here (the cache computes
// its own when there is one).
func collapse(next Backend, joined func()) Backend {
	var mu sync.Mutex
	calls := map[uint64][]*sharedCall{}
	seed := maphash.MakeSeed()
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		key := requestHash(seed, req)
		for {
			mu.Lock()
			var c *sharedCall
			for _, o := range calls[key] {
				if sameRequest(o.req, req) {
					c = o
					break
				}
			}
			busy := c != nil
			if !busy {
				c = &sharedCall{req: req, done: make(chan struct{})}
				calls[key] = append(calls[key], c)
			}
			mu.Unlock()
			if joined != nil {
				joined()
			}
			if !busy {
				return c.run(ctx, next, req, func() {
					mu.Lock()
					if l := slices.DeleteFunc(calls[key], func(o *sharedCall) bool { return o == c }); len(l) > 0 {
						calls[key] = l
					} else {
						delete(calls, key)
					}
					mu.Unlock()
				})
			}
			select {
			case <-c.done:
			case <-ctx.Done():
				return Reply{}, ctx.Err()
			}
			if c.err != nil {
				var gone leaderGone
				if errors.As(c.err, &gone) && ctx.Err() == nil {
					continue // the leader's context ended, not ours: ask again
				}
				return Reply{}, c.err
			}
			return shared(c.r), nil
		}
	})
}

// sharedCall is one call in flight and, once done is closed, its outcome.
type sharedCall struct {
	req  Request
	done chan struct{}
	r    Reply
	err  error // wrapped in leaderGone when the first caller's context ended
}

// run makes the call for the first caller and hands the outcome to the others, also if next
// panics.
func (c *sharedCall) run(ctx context.Context, next Backend, req Request, forget func()) (r Reply, err error) {
	c.err = errors.New("collapse: the shared call panicked")
	defer func() {
		forget()
		close(c.done)
	}()
	r, err = next.Decide(ctx, req)
	c.r, c.err = r, err
	if err != nil && ctx.Err() != nil {
		c.err = leaderGone{err}
	}
	return r, err
}

// shared is a follower's copy of a collapsed reply: it did not spend anything.
func shared(r Reply) Reply {
	r = r.Unspent()
	r.Values = maps.Clone(r.Values)
	r.Cached = true
	return r
}

// leaderGone marks a shared call's failure caused by its first caller's context ending.
type leaderGone struct{ err error }

func (e leaderGone) Error() string { return e.err.Error() }
func (e leaderGone) Unwrap() error { return e.err }

// requestHash hashes what sameRequest compares (the schema by its field names: schemas of
// one name set that differ elsewhere are rare and are told apart by sameRequest).
func requestHash(seed maphash.Seed, req Request) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(req.System)
	h.WriteByte(0)
	h.WriteString(req.Prompt)
	h.WriteByte(0)
	h.WriteString(req.Levels)
	for _, t := range req.Repair {
		h.WriteByte(1)
		h.WriteString(t.Assistant)
		h.WriteByte(0)
		h.WriteString(t.User)
	}
	for _, f := range req.Schema.Fields {
		h.WriteByte(2)
		h.WriteString(f.Name)
	}
	return h.Sum64() ^ uint64(req.Replicate)*0x9e3779b97f4a7c15 ^ uint64(req.AgentID)*0xbf58476d1ce4e5b9
}

// sameRequest reports whether a and b have the same cache key under one BackendID (see KeyOf).
func sameRequest(a, b Request) bool {
	return a.Replicate == b.Replicate && a.AgentID == b.AgentID && a.Levels == b.Levels && a.System == b.System && a.Prompt == b.Prompt &&
		slices.Equal(a.Repair, b.Repair) && sameSampling(a.Sampling, b.Sampling) &&
		sameFields(a.Schema.Fields, b.Schema.Fields)
}

// sameSampling is samplingString(a) == samplingString(b) without formatting: the shortest
// decimal form of a float names its bits (NaN aside), -0 included.
func sameSampling(a, b Sampling) bool {
	same := func(x, y *float64) bool {
		return (x == nil) == (y == nil) && (x == nil || math.Float64bits(*x) == math.Float64bits(*y))
	}
	return a.MaxTokens == b.MaxTokens && same(a.Temperature, b.Temperature) && same(a.TopP, b.TopP)
}
