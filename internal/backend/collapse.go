package backend

import (
	"context"
	"errors"
	"maps"
	"sync"
)

// Collapse makes identical requests in flight (same KeyOf(id, req)) share one call to next.
// The caller whose request started the call gets the reply as is; the others get a copy with
// Cached set and Calls, tokens and cost zero, since they cost nothing (so usage is not counted
// twice). Put it above the Cache, so that duplicates also share the lookup and the store.
//
// The shared call runs under the first caller's context. If that caller gives up, the call
// fails with its context error; the others, whose contexts are still live, then ask again.
func Collapse(next Backend, id BackendID) Backend { return collapse(next, id, nil) }

// collapse is Collapse with a hook called once a caller has joined (or started) a call, for tests.
//
// The first caller of a key makes the call in its own goroutine (no goroutine is started per
// decision); the others wait for it or for their own context.
func collapse(next Backend, id BackendID, joined func()) Backend {
	var mu sync.Mutex
	calls := map[Key]*sharedCall{}
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		key := KeyOf(id, req)
		for {
			mu.Lock()
			c, busy := calls[key]
			if !busy {
				c = &sharedCall{done: make(chan struct{})}
				calls[key] = c
			}
			mu.Unlock()
			if joined != nil {
				joined()
			}
			if !busy {
				return c.run(ctx, next, req, func() {
					mu.Lock()
					delete(calls, key)
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
	r.Values = maps.Clone(r.Values)
	r.Cached = true
	r.Calls, r.InputTokens, r.OutputTokens, r.CostUSD = 0, 0, 0, 0
	return r
}

// leaderGone marks a shared call's failure caused by its first caller's context ending.
type leaderGone struct{ err error }

func (e leaderGone) Error() string { return e.err.Error() }
func (e leaderGone) Unwrap() error { return e.err }
