package backend

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The full chain: re-asks are metered and retried, every turn is cached (invalid answers too),
// so a re-run makes no calls, replays invalid decisions as invalid, and reports cache hits at
// zero cost.
func TestStackEndToEnd(t *testing.T) {
	cache, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	var calls atomic.Int64
	var mu sync.Mutex
	attempts := map[string]int{}
	client := Func(func(ctx context.Context, r Request) (Reply, error) {
		calls.Add(1)
		mu.Lock()
		attempts[r.Prompt]++
		n := attempts[r.Prompt]
		mu.Unlock()
		rep := Reply{Provider: "openai", Model: "gpt-4o-mini", Calls: 1, InputTokens: 1000, OutputTokens: 10}
		switch {
		case n == 1 && r.Prompt != "p0": // every prompt but p0 first hits a 503
			return Reply{}, &StatusError{Provider: "openai", Status: 503}
		case r.Prompt == "never":
			rep.Raw = "I cannot decide."
		case n == 2 && len(r.Repair) == 0: // then an out-of-range answer, repaired
			rep.Raw = `{"willingness": 0}`
		default:
			rep.Raw = `{"willingness": 6}`
		}
		return rep, nil
	})
	var u Usage
	b := Stack([]Backend{client}, StackConfig{
		ID:         BackendID{Provider: "openai", Model: "gpt-4o-mini"},
		Cache:      cache,
		MaxRepairs: 2,
		Limits:     Limits{Concurrency: 4},
		Retry:      RetryPolicy{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }},
		Prices:     DefaultPrices(),
		Usage:      &u,
	})
	prompts := []string{"p0", "p1", "p2", "never"}
	run := func() {
		var wg sync.WaitGroup
		for _, p := range prompts {
			wg.Go(func() {
				for range 3 { // the same request again: served from the cache once valid
					r, err := b.Decide(context.Background(), testReq(p, 0))
					if err != nil {
						t.Error(err)
						return
					}
					if p == "never" && r.Valid() || p != "never" && r.Values["willingness"] != 6 {
						t.Errorf("%s: %+v", p, r)
					}
				}
			})
		}
		wg.Wait()
	}
	run()
	// p0: 1 call. p1, p2: 503, invalid, repaired = 3 calls each. never: 503 + 3 invalid = 4.
	// Each repeat replays its whole conversation from the cache, the invalid one included.
	first := calls.Load()
	if first != 1+3+3+4 {
		t.Fatalf("first run: %d client calls, want 11", first)
	}
	tot := u.Total()
	// The 503s (one each for p1, p2 and never) are calls, and failed ones.
	if tot.Calls != first || tot.FailedCalls != 3 || tot.Decisions != 12 || tot.Invalid != 3 || tot.CacheHits != 8 || !tot.CostKnown {
		t.Fatalf("first run usage %+v", tot)
	}
	run()
	// Everything replays, the never-valid prompt as invalid again.
	if got := calls.Load() - first; got != 0 {
		t.Fatalf("second run: %d client calls, want 0", got)
	}
	tot2 := u.Total()
	if hits := tot2.CacheHits - tot.CacheHits; hits != 12 {
		t.Fatalf("second run: %d cache hits, want 12", hits)
	}
	if tot2.Calls != tot.Calls || tot2.FailedCalls != tot.FailedCalls {
		t.Fatalf("second run: cache hits counted %d calls (%d failed), want 0", tot2.Calls-tot.Calls, tot2.FailedCalls-tot.FailedCalls)
	}
	if inv := tot2.Invalid - tot.Invalid; inv != 3 {
		t.Fatalf("second run: %d invalid decisions, want 3", inv)
	}
	wantCost := float64(tot2.InputTokens)*0.15/1e6 + float64(tot2.OutputTokens)*0.60/1e6
	if d := tot2.CostUSD - wantCost; d > 1e-9 || d < -1e-9 {
		t.Fatalf("cost %v, want %v", tot2.CostUSD, wantCost)
	}
}

func fastClient(ctx context.Context, r Request) (Reply, error) {
	return Reply{Raw: `{"willingness": 5}`, Provider: "openai", Model: "gpt-4o-mini", Calls: 1, InputTokens: 300, OutputTokens: 8}, nil
}

// BenchmarkChain is the wrappers' overhead per decision (no cache): decisions/sec through
// Meter, Collapse, Validate (parsing the reply), Balance over 4 endpoints, RateLimit and Retry.
func BenchmarkChain(b *testing.B) {
	eps := []Backend{Func(fastClient), Func(fastClient), Func(fastClient), Func(fastClient)}
	chain := Stack(eps, StackConfig{
		ID:     BackendID{Provider: "openai", Model: "gpt-4o-mini"},
		Limits: Limits{Concurrency: 64}, Retry: DefaultRetryPolicy(),
		Prices: DefaultPrices(), Usage: &Usage{}, MaxRepairs: 2,
	})
	reqs := make([]Request, 1024)
	for i := range reqs {
		reqs[i] = testReq(fmt.Sprintf("scenario text for agent %d, of a realistic length: you are asked to volunteer two hours this weekend", i), i%5)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := chain.Decide(context.Background(), reqs[i%len(reqs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkCacheReplay replays 10,000 cached decisions from SQLite.
func BenchmarkCacheReplay(b *testing.B) {
	cache, err := OpenCache(filepath.Join(b.TempDir(), "cache.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close()
	id := BackendID{Provider: "openai", Model: "gpt-4o-mini"}
	var calls atomic.Int64
	chain := Meter(cache.Wrap(Collapse(Validate(Func(func(ctx context.Context, r Request) (Reply, error) {
		calls.Add(1)
		return fastClient(ctx, r)
	}), 0)), id), DefaultPrices(), &Usage{})
	const n = 10_000
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = testReq(fmt.Sprintf("agent %d decides whether to volunteer", i/10), i%10)
	}
	fill := func() {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					if _, err := chain.Decide(context.Background(), reqs[i]); err != nil {
						b.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}
	fill()
	calls.Store(0)
	b.ResetTimer()
	for range b.N {
		fill()
	}
	b.StopTimer()
	if calls.Load() != 0 {
		b.Fatalf("replay made %d calls", calls.Load())
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "decisions/s")
}
