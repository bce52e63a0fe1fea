package backend

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/prosim/prosim/internal/schema"
)

var likert = schema.Schema{Fields: []schema.Field{{Name: "willingness", Kind: schema.Likert, Min: 1, Max: 7}}}

func testReq(prompt string, replicate int) Request {
	t := 0.7
	return Request{
		System:    "You are Ana, 34, a nurse.",
		Prompt:    prompt,
		Schema:    likert,
		Sampling:  Sampling{Temperature: &t, MaxTokens: 50},
		Replicate: replicate,
		Seed:      uint64(replicate) * 7919,
	}
}

// fake is a scripted client: it answers raws in turn (the last one repeatedly) and records
// every request it saw.
type fake struct {
	mu    sync.Mutex
	raws  []string
	calls atomic.Int64
	seen  []Request
}

func (f *fake) Decide(ctx context.Context, req Request) (Reply, error) {
	n := f.calls.Add(1)
	f.mu.Lock()
	f.seen = append(f.seen, req)
	f.mu.Unlock()
	raw := `{"willingness": 5}`
	if len(f.raws) > 0 {
		raw = f.raws[min(int(n)-1, len(f.raws)-1)]
	}
	return Reply{Raw: raw, Provider: "openai", Model: "gpt-4o-mini", InputTokens: 100, OutputTokens: 10, Calls: 1, Latency: 1}, nil
}
