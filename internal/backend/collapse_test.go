package backend

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestCollapseSharesOneCall(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		calls.Add(1)
		<-release
		return Reply{Values: map[string]float64{"willingness": 5}, Calls: 1, InputTokens: 100, OutputTokens: 10, CostUSD: 0.01}, nil
	})
	const n = 8
	var joined sync.WaitGroup
	joined.Add(n)
	b := collapse(inner, joined.Done)
	replies := make([]Reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := testReq("same", 0)
			req.Seed = uint64(i) // not part of the key
			r, err := b.Decide(context.Background(), req)
			if err != nil {
				t.Error(err)
			}
			replies[i] = r
		})
	}
	joined.Wait() // every caller is in the call before it returns
	close(release)
	wg.Wait()
	if got := calls.Load(); got != 1 {
		t.Fatalf("%d inner calls for %d identical requests, want 1", got, n)
	}
	leaders := 0
	for _, r := range replies {
		if r.Values["willingness"] != 5 {
			t.Fatalf("reply %+v", r)
		}
		if r.Cached {
			if r.Calls != 0 || r.InputTokens != 0 || r.CostUSD != 0 {
				t.Fatalf("shared reply counts spending: %+v", r)
			}
		} else {
			leaders++
			if r.Calls != 1 || r.InputTokens != 100 {
				t.Fatalf("leader reply %+v", r)
			}
		}
	}
	if leaders != 1 {
		t.Fatalf("%d uncached replies, want 1", leaders)
	}
	replies[0].Values["willingness"] = 1
	if replies[1].Values["willingness"] != 5 {
		t.Fatal("collapsed replies share one Values map")
	}
}

func TestCollapseKeepsDifferentRequestsApart(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		calls.Add(1)
		<-release
		return Reply{Values: map[string]float64{"willingness": float64(req.Replicate)}}, nil
	})
	var joined sync.WaitGroup
	joined.Add(3)
	b := collapse(inner, joined.Done)
	var wg sync.WaitGroup
	for rep := range 3 {
		wg.Go(func() {
			r, err := b.Decide(context.Background(), testReq("same", rep))
			if err != nil || r.Values["willingness"] != float64(rep) || r.Cached {
				t.Errorf("replicate %d: %+v, %v", rep, r, err)
			}
		})
	}
	joined.Wait()
	close(release)
	wg.Wait()
	if calls.Load() != 3 {
		t.Fatalf("%d calls for 3 replicates, want 3", calls.Load())
	}
}

// When the caller that started a shared call gives up, the others ask again rather than fail.
func TestCollapseLeaderCancelled(t *testing.T) {
	var calls atomic.Int64
	started := make(chan struct{}, 4)
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		if calls.Add(1) == 1 {
			started <- struct{}{}
			<-ctx.Done()
			return Reply{}, &StatusError{Provider: "x", Err: ctx.Err()}
		}
		return Reply{Values: map[string]float64{"willingness": 3}, Calls: 1}, nil
	})
	joinedCh := make(chan struct{}, 4)
	b := collapse(inner, func() { joinedCh <- struct{}{} })
	lctx, cancel := context.WithCancel(context.Background())
	lerr := make(chan error)
	go func() { _, err := b.Decide(lctx, testReq("p", 0)); lerr <- err }()
	<-started
	<-joinedCh
	ferr := make(chan error)
	var fr Reply
	go func() { var err error; fr, err = b.Decide(context.Background(), testReq("p", 0)); ferr <- err }()
	<-joinedCh // the follower joined the leader's call
	cancel()
	if err := <-lerr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader err = %v, want context.Canceled", err)
	}
	if err := <-ferr; err != nil {
		t.Fatalf("follower err = %v, want it to ask again", err)
	}
	if fr.Values["willingness"] != 3 || calls.Load() != 2 {
		t.Fatalf("follower %+v after %d calls", fr, calls.Load())
	}
}

// A follower's copy of a collapsed reply costs nothing, also when the reply's calls were
// answered by two models (its Others): with the tokens zeroed and Others kept, Meter priced
// the other model's tokens against the reply's own, a cost of (5-1)x40 + (9-2)x4 per million.
func TestSharedCopyCostsNothing(t *testing.T) {
	r := Reply{Raw: "4", Provider: "p", Model: "a", InputTokens: 100, OutputTokens: 10, Calls: 2, CostUSD: 1,
		Others: []ModelTokens{{Provider: "p", Model: "b", InputTokens: 40, OutputTokens: 4}}}
	prices := Prices{"a": {InputPerMTok: 1, OutputPerMTok: 2}, "b": {InputPerMTok: 5, OutputPerMTok: 9}}
	if c := Priced(prices, r).CostUSD; c <= 0 {
		t.Fatalf("the leader's reply costs %v", c)
	}
	s := shared(r)
	if c := Priced(prices, s).CostUSD; c != 0 || s.Calls != 0 || s.Others != nil || !s.Cached {
		t.Errorf("the shared copy %+v costs %v; want no calls, no other models' tokens, $0", s, c)
	}
}
