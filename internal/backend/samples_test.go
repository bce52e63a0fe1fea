package backend

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// multiFake is a seeded server that supports n: sample i of a call answers from the request's
// seed, prompt and i. maxN caps the samples it returns (0: as many as asked).
type multiFake struct {
	calls atomic.Int64
	maxN  int
}

func (f *multiFake) Decide(ctx context.Context, req Request) (Reply, error) {
	f.calls.Add(1)
	n := max(1, req.N)
	if f.maxN > 0 {
		n = min(n, f.maxN)
	}
	var r Reply
	for i := range n {
		h := KeyOf(BackendID{}, Request{Prompt: fmt.Sprint(req.Prompt, req.Seed, i)})
		s := Reply{Raw: fmt.Sprintf(`{"willingness": %d}`, 1+int(h[0])%7), Provider: "openai", Model: "m"}
		if i == 0 {
			r = s
			r.Calls, r.InputTokens, r.OutputTokens = 1, 100, 10*n
		} else {
			r.Samples = append(r.Samples, s)
		}
	}
	return r, nil
}

func (f *multiFake) DecideN(ctx context.Context, req Request, n int) ([]Reply, error) {
	req.N = n
	r, err := f.Decide(ctx, req)
	return append([]Reply{r}, r.Samples...), err
}

func replicateStack(t *testing.T, client Backend, u *Usage) Backend {
	return replicateStackSeed(t, client, u, 0)
}

func replicateStackSeed(t *testing.T, client Backend, u *Usage, seed uint64) Backend {
	t.Helper()
	return replicateStackOpts(t, client, u, seed, false)
}

func replicateStackOpts(t *testing.T, client Backend, u *Usage, seed uint64, noN bool) Backend {
	t.Helper()
	cache, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	return Stack([]Backend{client}, StackConfig{
		ID: BackendID{Provider: "openai", Model: "m"}, Cache: cache, Limits: Limits{Concurrency: 8},
		Prices: Prices{"m": {1, 1}}, Usage: u, Replicates: 3, SampleSeed: seed, NoN: noN,
	})
}

// ask decides replicates 1..3 of prompts p0..p9 with the given concurrency, replicates in the
// given order, and returns the values by prompt and replicate.
func ask(t *testing.T, b Backend, workers int, order []int) map[string]float64 {
	t.Helper()
	var mu sync.Mutex
	out := map[string]float64{}
	jobs := make(chan Request)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for req := range jobs {
				r, err := b.Decide(context.Background(), req)
				if err != nil || !r.Valid() {
					t.Errorf("%s r%d: %+v, %v", req.Prompt, req.Replicate, r, err)
					continue
				}
				mu.Lock()
				out[fmt.Sprintf("%s.r%d", req.Prompt, req.Replicate)] = r.Values["willingness"]
				mu.Unlock()
			}
		})
	}
	for _, rep := range order {
		for p := range 10 {
			req := testReq(fmt.Sprintf("p%d", p), rep)
			req.Seed = uint64(1000*rep + p) // each replicate's own seed, as the engine derives it
			jobs <- req
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

func TestReplicatesShareOneCallWithNSamples(t *testing.T) {
	var want map[string]float64
	for i, c := range []struct {
		workers int
		order   []int
	}{{1, []int{1, 2, 3}}, {1, []int{3, 1, 2}}, {16, []int{2, 3, 1}}, {30, []int{1, 2, 3}}} {
		f := &multiFake{}
		var u Usage
		b := replicateStack(t, f, &u)
		got := ask(t, b, c.workers, c.order)
		if n := f.calls.Load(); n != 10 {
			t.Fatalf("case %d: %d calls for 10 prompts x 3 replicates, want 10", i, n)
		}
		tot := u.Total()
		if tot.Calls != 10 || tot.Decisions != 30 || tot.CacheHits != 20 || tot.OutputTokens != 10*30 || tot.InputTokens != 10*100 {
			t.Fatalf("case %d: usage %+v: want each call counted once, on one decision", i, tot)
		}
		if again := ask(t, b, c.workers, c.order); f.calls.Load() != 10 || !maps.Equal(again, got) {
			t.Fatalf("case %d: the replay made %d calls or differs", i, f.calls.Load()-10)
		}
		if i == 0 {
			want = got
			continue
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("case %d (workers %d, order %v): %s = %v, want %v: results depend on scheduling", i, c.workers, c.order, k, got[k], v)
			}
		}
	}
	// The samples differ: replicates are not copies of one answer.
	same := 0
	for p := range 10 {
		if want[fmt.Sprintf("p%d.r1", p)] == want[fmt.Sprintf("p%d.r2", p)] {
			same++
		}
	}
	if same == 10 {
		t.Fatal("every replicate 2 equals replicate 1")
	}
}

func TestReplicatesWithoutNSupport(t *testing.T) {
	// A server that accepts n but returns one choice (Ollama): the first group call finds it
	// out and its reply is dropped; every replicate is then asked alone, as with n: off, and
	// counted as the call it was, never as a cache hit.
	var want map[string]float64
	for i, c := range []struct {
		workers int
		order   []int
		noN     bool
	}{{1, []int{1, 2, 3}, true}, {1, []int{1, 2, 3}, false}, {1, []int{3, 2, 1}, false}, {16, []int{2, 1, 3}, false}} {
		f := &multiFake{maxN: 1}
		var u Usage
		b := replicateStackOpts(t, f, &u, 0, c.noN)
		got := ask(t, b, c.workers, c.order)
		probe := int64(1)
		if c.noN {
			probe = 0
		}
		if n := f.calls.Load(); n != 30+probe {
			t.Fatalf("case %d: %d calls, want %d", i, n, 30+probe)
		}
		if tot := u.Total(); tot.Calls != 30+probe || tot.Decisions != 30 || tot.CacheHits != 0 {
			t.Fatalf("case %d: usage %+v: want every call counted and no cache hit", i, tot)
		}
		if i == 0 {
			want = got
		} else if !maps.Equal(got, want) {
			t.Fatalf("case %d (workers %d, order %v): results depend on scheduling or differ from n: off", i, c.workers, c.order)
		}
		// The replay is all cache hits.
		if again := ask(t, b, c.workers, c.order); f.calls.Load() != 30+probe || !maps.Equal(again, got) {
			t.Fatalf("case %d: the replay made %d calls or differs", i, f.calls.Load()-30-probe)
		}
		if tot := u.Total(); tot.CacheHits != 30 {
			t.Fatalf("case %d: after the replay %d cache hits, want 30", i, tot.CacheHits)
		}
	}
	// A client that does not implement Multi is never sent N.
	var plain atomic.Int64
	client := Func(func(ctx context.Context, req Request) (Reply, error) {
		plain.Add(1)
		if req.N > 1 {
			t.Errorf("N = %d sent to a client without Multi", req.N)
		}
		return Reply{Raw: `{"willingness": 3}`, Calls: 1}, nil
	})
	ask(t, replicateStack(t, client, &Usage{}), 8, []int{1, 2, 3})
	if plain.Load() != 30 {
		t.Fatalf("%d calls, want 30", plain.Load())
	}
}

func TestReplicatesSampleSeed(t *testing.T) {
	a := ask(t, replicateStackSeed(t, &multiFake{}, &Usage{}, 1), 4, []int{1, 2, 3})
	b := ask(t, replicateStackSeed(t, &multiFake{}, &Usage{}, 2), 4, []int{1, 2, 3})
	if maps.Equal(a, b) {
		t.Fatal("another experiment seed drew the same samples")
	}
	if c := ask(t, replicateStackSeed(t, &multiFake{}, &Usage{}, 1), 4, []int{3, 2, 1}); !maps.Equal(a, c) {
		t.Fatal("the same seed drew other samples")
	}
}

// What the probe found is kept in the cache's store: a second run (a new stack over the same
// cache file, new prompts so nothing is a hit) does not probe again, for a server that ignores
// n (no call asks for N > 1) and for one that honours it (no probe, one call per group).
func TestNProbeRemembered(t *testing.T) {
	for _, maxN := range []int{1, 0} {
		path := filepath.Join(t.TempDir(), "cache.db")
		run := func(prompt string) (calls, withN int64) {
			cache, err := OpenCache(path)
			if err != nil {
				t.Fatal(err)
			}
			defer cache.Close()
			var nAsked atomic.Int64
			f := &multiFake{maxN: maxN}
			client := &countN{multiFake: f, n: &nAsked}
			b := Stack([]Backend{client}, StackConfig{ID: BackendID{Provider: "openai", Model: "m", BaseURL: "http://127.0.0.1:11434/v1"},
				Cache: cache, Limits: Limits{Concurrency: 4}, Usage: &Usage{}, Replicates: 3})
			for rep := 1; rep <= 3; rep++ {
				if _, err := b.Decide(context.Background(), testReq(prompt, rep)); err != nil {
					t.Fatal(err)
				}
			}
			return f.calls.Load(), nAsked.Load()
		}
		c1, n1 := run("first run")
		c2, n2 := run("second run")
		if maxN == 1 && (c1 != 4 || n1 != 1 || c2 != 3 || n2 != 0) {
			t.Errorf("n ignored: first run %d calls (%d with n), second %d (%d with n); want 4 (1), 3 (0)", c1, n1, c2, n2)
		}
		if maxN == 0 && (c1 != 1 || n1 != 1 || c2 != 1 || n2 != 1) {
			t.Errorf("n honoured: first run %d calls (%d with n), second %d (%d with n); want 1 (1), 1 (1)", c1, n1, c2, n2)
		}
	}
}

type countN struct {
	*multiFake
	n *atomic.Int64
}

func (c *countN) Decide(ctx context.Context, req Request) (Reply, error) {
	if req.N > 1 {
		c.n.Add(1)
	}
	return c.multiFake.Decide(ctx, req)
}

// Requests that differ only in their factor levels (a decision without options under
// option_order) are separate groups: each level's replicates get their own call, with a group
// seed of their own, not the other level's samples.
func TestReplicateGroupsKeepLevelsApart(t *testing.T) {
	f := &multiFake{}
	var u Usage
	b := replicateStack(t, f, &u)
	seen := map[string][]float64{}
	for _, lv := range []string{"option_order=original", "option_order=shuffled"} {
		for rep := 1; rep <= 3; rep++ {
			req := testReq("p", rep)
			req.Levels, req.Seed = lv, uint64(100*rep+len(lv))
			r, err := b.Decide(context.Background(), req)
			if err != nil || !r.Valid() {
				t.Fatalf("%s r%d: %+v, %v", lv, rep, r, err)
			}
			seen[lv] = append(seen[lv], r.Values["willingness"])
		}
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d calls for 2 levels x 3 replicates, want one per level", n)
	}
	if tot := u.Total(); tot.CacheHits != 4 {
		t.Errorf("%d cache hits, want 4 (each level's replicates 2 and 3)", tot.CacheHits)
	}
}
