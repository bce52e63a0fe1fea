package backend

import (
	"context"
	"errors"
	"maps"

	"golang.org/x/sync/singleflight"
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
func collapse(next Backend, id BackendID, joined func()) Backend {
	var g singleflight.Group
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		key := string(func() []byte { k := KeyOf(id, req); return k[:] }())
		for {
			leader := false
			ch := g.DoChan(key, func() (any, error) {
				leader = true // set only in the goroutine that runs the call, read after it
				r, err := next.Decide(ctx, req)
				if err != nil && ctx.Err() != nil {
					err = leaderGone{err}
				}
				return r, err
			})
			if joined != nil {
				joined()
			}
			var res singleflight.Result
			select {
			case res = <-ch:
			case <-ctx.Done():
				return Reply{}, ctx.Err()
			}
			r, _ := res.Val.(Reply)
			var gone leaderGone
			if leader {
				if errors.As(res.Err, &gone) {
					return r, gone.err
				}
				return r, res.Err
			}
			if res.Err != nil {
				if errors.As(res.Err, &gone) && ctx.Err() == nil {
					continue // the leader's context ended, not ours: ask again
				}
				return Reply{}, res.Err
			}
			return shared(r), nil
		}
	})
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
