package backend

import "cmp"

// The wrappers compose, outermost first, as
//
//	Meter(Collapse(Validate(Cache(Budgeted(Named(Balance([RateLimit(Adaptive(Retry(client))), ...])))))))
//
// and, with several endpoints, Retry above Balance so that a retry fails over to another
// endpoint, the per-call timeout staying under each endpoint's limits:
//
//	... Budgeted(Named(Retry(Balance([RateLimit(Adaptive(Timed(client))), ...])))) ...
//
//   - Meter is outermost so that it sees each decision exactly once, as returned to the
//     engine: with the summed calls and tokens of its re-asks and retries, Cached for cache
//     hits and collapsed duplicates (which cost nothing), and Invalid for replies that stayed
//     invalid.
//   - Collapse above Validate and Cache: identical requests in flight share one lookup, one
//     call with its whole repair sequence, and its stores.
//   - Validate above the Cache: the cache holds what the provider said to each exact request,
//     each turn of a repair conversation under its own key (the key includes the repair
//     turns), invalid answers included. A re-run replays every conversation from the cache,
//     re-parsing each answer, so it makes zero calls and records the same decisions, invalid
//     ones too; an improved parser or a higher max_repairs applies to cached answers, asking
//     only for turns not yet cached.
//   - Validate above the limits: each re-ask is a provider call that must be rate-limited and
//     retried.
//   - Budgeted (when the run has a spend cap) below the Cache and Validate, so that each call
//     that reaches a provider, re-asks included, reserves its worst-case cost, and cache hits
//     reserve nothing; above Balance and the limits, so one reservation covers a call's
//     attempts and a call waiting for a rate-limit slot already holds its reservation.
//   - Named (under Budgeted, above the endpoints and their retries) names the configured model
//     on a reply whose response named none, so that Budgeted and Meter price it alike.
//   - Balance picks an endpoint; each endpoint has its own limits.
//   - Adaptive (opt-in; the default for local servers) between RateLimit and Retry: it learns
//     how many calls the server serves at once from their latency, and a call waiting for its
//     slot is queued here, not inside the server, where the wait would count against the
//     call's timeout.
//   - RateLimit above Retry: one admission covers a request's attempts, so the per-call
//     timeout measures the provider and not the queue, and back-off keeps its concurrency slot
//     (slowing an endpoint that pushes back). Retry wraps the client directly, also when it
//     retries nothing: it counts a reply without usage and a call cut off after sending.
//
// With Replicates above 1, a cache, and clients that implement Multi, the cache serves the
// replicates of a request from one call with n samples (see Cache.WrapReplicates).

// StackConfig configures Stack. Zero values switch a wrapper off where that makes sense.
type StackConfig struct {
	// ID names the model for the cache key.
	ID BackendID
	// Cache, if not nil, serves and stores valid replies.
	Cache *Cache
	// MaxRepairs is how many times an invalid reply is re-asked (0: never).
	MaxRepairs int
	// Limits apply to each endpoint separately.
	Limits Limits
	// Adaptive, if not nil, learns each endpoint's concurrency (see Adaptive), under Limits.
	Adaptive *AdaptiveConfig
	// Retry is the retry policy of each endpoint. Retry wraps the endpoints whenever the policy
	// is not zero, one attempt and no timeout included: besides retrying, it counts a reply
	// without usage and a call cut off after sending at their worst case. A zero policy leaves
	// it out, for endpoints that count their own calls (a cluster's remote backend, whose
	// workers retry; the batch collector).
	Retry RetryPolicy
	// Prices price replies (nil: every non-zero cost is unknown).
	Prices Prices
	// Usage, if not nil, accumulates usage.
	Usage *Usage
	// Replicates, when above 1, says that every request is asked as replicates 1..Replicates
	// that differ only in Request.Replicate and Seed: with a Cache and endpoints that all
	// implement Multi, a request's replicates are then fetched in one call with n samples.
	// Leave it 0 when replicates' prompts differ (their samples would be wasted).
	Replicates int
	// NoN (n: off) asks every replicate alone even where the client implements Multi.
	NoN bool
	// SampleSeed is mixed into the seeds of those calls (the experiment's seed).
	SampleSeed uint64
	// Budget, if not nil, caps the spend: every call reserves its worst-case cost at Prices
	// (see Budgeted). MaxOutput is the client's completion limit for requests that set none
	// (also Retry's, for a call that timed out after sending).
	Budget    *Budget
	MaxOutput int
	// Batch, if not nil, is the endpoint, a batch Collector: no Collapse, since a duplicate
	// waiting in Collapse would never reach the collector, whose batch waits for every live
	// decision; the collector gives identical requests one line of the job and marks the
	// copies as Collapse does. A call waiting for the spend cap tells its group, and a copy
	// of a line the collector has reserves nothing (Budgeted).
	Batch *Collector
}

// Stack builds the standard chain (see above) over one or more endpoints of one model.
func Stack(endpoints []Backend, c StackConfig) Backend {
	multi := len(endpoints) > 0
	eps := make([]Backend, len(endpoints))
	// Not only when it retries: with one attempt and no timeout (TestOneAttemptNoTimeoutStillCounts).
	retry := c.Retry.MaxAttempts > 0 || c.Retry.Timeout > 0
	// Several endpoints: Retry above Balance, so that a retry can go to another endpoint
	// (failover), and the per-call timeout under each endpoint's limits.
	failover := len(endpoints) > 1 && retry
	for i, ep := range endpoints {
		if _, ok := ep.(Multi); !ok {
			multi = false
		}
		if failover {
			ep = Timed(ep, c.Retry.Timeout, c.Retry.TimeoutName)
		} else if retry {
			p := c.Retry
			p.MaxOutput = cmp.Or(p.MaxOutput, c.MaxOutput)
			p.MaxAttempts = max(1, p.MaxAttempts)
			p.Seed += uint64(i) // distinct jitter per endpoint
			ep = Retry(ep, p)
		}
		if c.Adaptive != nil {
			ep = Adaptive(ep, *c.Adaptive)
		}
		if c.Limits != (Limits{}) {
			ep = RateLimit(ep, c.Limits)
		}
		eps[i] = ep
	}
	b := Balance(eps)
	if failover {
		p := c.Retry
		p.MaxAttempts, p.Timeout = max(1, p.MaxAttempts), 0 // Timed bounds each call
		p.MaxOutput = cmp.Or(p.MaxOutput, c.MaxOutput)
		b = Retry(b, p)
	}
	b = Named(b, c.ID.Provider, c.ID.Model)
	if c.Budget != nil {
		b = Budgeted(b, c.Budget, c.Prices, c.ID.Provider, c.ID.Model, c.MaxOutput, c.Batch)
	}
	if c.Cache != nil {
		if multi && c.Replicates > 1 && !c.NoN {
			b = c.Cache.WrapReplicates(b, c.ID, c.Replicates, c.SampleSeed)
		} else {
			b = c.Cache.Wrap(b, c.ID)
		}
	}
	if c.Batch != nil {
		return Meter(Validate(b, c.MaxRepairs), c.Prices, c.Usage)
	}
	return Meter(Collapse(Validate(b, c.MaxRepairs)), c.Prices, c.Usage)
}
