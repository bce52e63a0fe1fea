package backend

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// splitBatcher answers every request of a job at once, splits a step into jobs of split
// requests, and fails its failCreate-th job creation.
type splitBatcher struct {
	mu         sync.Mutex
	split      int
	failCreate int
	creates    int
	jobs       map[string][]BatchItem
	submitted  map[string]int
}

func (f *splitBatcher) SplitBatch(items []BatchItem) [][]BatchItem {
	var out [][]BatchItem
	for len(items) > f.split {
		out, items = append(out, items[:f.split]), items[f.split:]
	}
	return append(out, items)
}

func (f *splitBatcher) SubmitBatch(_ context.Context, items []BatchItem) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates++
	if f.creates == f.failCreate {
		return "", errors.New("create refused")
	}
	id := fmt.Sprintf("job-%d", f.creates)
	f.jobs[id] = items
	for _, it := range items {
		f.submitted[it.CustomID]++
	}
	return id, nil
}

func (f *splitBatcher) BatchStatus(context.Context, string) (string, bool, string, error) {
	return "ended", true, "", nil
}

func (f *splitBatcher) BatchResults(_ context.Context, id string) (map[string]BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]BatchResult{}
	for _, it := range f.jobs[id] {
		out[it.CustomID] = BatchResult{Reply: Reply{Raw: it.Req.Prompt, Calls: 1}}
	}
	return out, nil
}

type memJournal struct {
	mu   sync.Mutex
	byID map[string]string
	jobs []string
}

func (j *memJournal) Lookup(id string) (string, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, ok := j.byID[id]
	return b, ok
}

func (j *memJournal) Record(b string, ids []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jobs = append(j.jobs, b)
	for _, id := range ids {
		j.byID[id] = b
	}
	return nil
}

// step decides n requests through a fresh collector, one worker each.
func step(f *splitBatcher, j *memJournal, n int) []error {
	g := NewBatchGroup()
	col := NewCollector(CollectorConfig{Client: f, Group: g, Journal: j, Name: "fake", Poll: time.Millisecond, Attempts: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.Begin(ctx, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer g.Done()
			r, err := col.Decide(ctx, Request{Prompt: fmt.Sprint(i)})
			if err == nil && r.Raw != fmt.Sprint(i) {
				err = fmt.Errorf("reply %q to request %d", r.Raw, i)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errs
}

// A step split into several jobs journals each as it is created: when creating one fails, the
// step stops (a job error), and the next attempt polls the jobs created before and submits
// only the rest.
func TestCollectorSplitJobs(t *testing.T) {
	f := &splitBatcher{split: 2, failCreate: 2, jobs: map[string][]BatchItem{}, submitted: map[string]int{}}
	j := &memJournal{byID: map[string]string{}}
	for i, err := range step(f, j, 5) {
		var je *BatchJobError
		if !errors.As(err, &je) {
			t.Fatalf("request %d: %v, want a batch job error", i, err)
		}
	}
	if len(j.jobs) != 1 || len(j.byID) != 2 {
		t.Fatalf("journal after the failed creation: %v", j.jobs)
	}
	for i, err := range step(f, j, 5) {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if f.creates != 4 || len(j.jobs) != 3 {
		t.Errorf("%d creations (want 4: the first part, the refused one, then the remaining 3 requests in 2 parts), journal %v", f.creates, j.jobs)
	}
	for id, n := range f.submitted {
		if n != 1 {
			t.Errorf("request %s submitted %d times", id, n)
		}
	}
	if len(f.submitted) != 5 {
		t.Errorf("%d requests submitted, want 5", len(f.submitted))
	}
}

// A job's lines are the requests' cache keys (KeyOf), as the cache and Collapse share them in
// synchronous mode: one agent's identical texts under two seeds (the round, which the key
// leaves out) are one line, sent as the request whose custom id comes first, whichever
// arrived first; another agent's identical texts are a line of their own. Before, the custom
// id (which holds the seed) made the lines, so such a batch asked twice what a cache asks once.
func TestCollectorLinesAreCacheKeys(t *testing.T) {
	reqs := []Request{
		{AgentID: 1, Prompt: "p", Seed: 1},
		{AgentID: 2, Prompt: "p", Seed: 3}, // a decision's seed depends on its agent
		{AgentID: 1, Prompt: "p", Seed: 2},
		{AgentID: 1, Prompt: "p", Seed: 1},
	}
	want := BatchID(reqs[0])
	if id := BatchID(reqs[2]); id < want {
		want = id
	}
	for _, order := range [][]int{{0, 1, 2, 3}, {2, 3, 1, 0}} {
		f := &splitBatcher{split: 100, jobs: map[string][]BatchItem{}, submitted: map[string]int{}}
		g := NewBatchGroup()
		col := NewCollector(CollectorConfig{ID: BackendID{Provider: "openai", Model: "m"}, Client: f, Group: g, Name: "fake", Poll: time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		g.Begin(ctx, len(order))
		cached := make([]bool, len(reqs))
		var wg sync.WaitGroup
		for _, i := range order {
			wg.Go(func() {
				defer g.Done()
				r, err := col.Decide(ctx, reqs[i])
				if err != nil {
					t.Error(err)
				}
				cached[i] = r.Cached
			})
		}
		wg.Wait()
		cancel()
		if len(f.submitted) != 2 || f.submitted[want] != 1 || f.submitted[BatchID(reqs[1])] != 1 {
			t.Errorf("order %v: lines %v, want %s (agent 1) and %s (agent 2)", order, f.submitted, want, BatchID(reqs[1]))
		}
		paid := 0
		for _, i := range []int{0, 2, 3} {
			if !cached[i] {
				paid++
			}
		}
		if paid != 1 || cached[1] {
			t.Errorf("order %v: cached %v: agent 1's line answers one request paid and the others as copies, agent 2's its own", order, cached)
		}
	}
}
