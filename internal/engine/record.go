package engine

import (
	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/store"
)

// record is what the run database keeps of a backend's reply: every field but Samples (which
// never reach the engine: the cache's fan-out serves each replicate its own reply).
func record(r backend.Reply) store.Reply {
	return store.Reply{Raw: r.Raw, Values: r.Values, Invalid: r.Invalid, Provider: r.Provider, Model: r.Model, ModelVersion: r.ModelVersion,
		InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Calls: r.Calls, FailedCalls: r.FailedCalls, UnusableCalls: r.UnusableCalls, NoUsageCalls: r.NoUsageCalls,
		CostUSD: r.CostUSD,
		Latency: r.Latency, Cached: r.Cached, Repairs: attempts(r.Repairs)}
}

// attempts are a reply's repair turns as the store keeps them.
func attempts(as []backend.Attempt) []store.Attempt {
	if len(as) == 0 {
		return nil
	}
	out := make([]store.Attempt, len(as))
	for i, a := range as {
		out[i] = store.Attempt(a)
	}
	return out
}

// replyOf is a recorded reply as studies read it (study.Env.Reply, Batch.Absorb). The
// store does not read repair turns back with a decision (no study uses them; store.Repairs reads them).
func replyOf(r store.Reply) backend.Reply {
	var rep []backend.Attempt
	for _, a := range r.Repairs {
		rep = append(rep, backend.Attempt(a))
	}
	return backend.Reply{Raw: r.Raw, Values: r.Values, Invalid: r.Invalid, Provider: r.Provider, Model: r.Model, ModelVersion: r.ModelVersion,
		InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Calls: r.Calls, FailedCalls: r.FailedCalls, UnusableCalls: r.UnusableCalls, NoUsageCalls: r.NoUsageCalls,
		CostUSD: r.CostUSD,
		Latency: r.Latency, Cached: r.Cached, Repairs: rep}
}
