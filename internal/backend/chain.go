package backend

// The wrappers compose, outermost first, as
//
//	Meter(Collapse(Cache(Validate(Balance([RateLimit(Retry(client)), ...])))))
//
//   - Meter is outermost so that it sees each decision exactly once, as returned to the
//     engine: with the summed calls and tokens of its re-asks and retries, Cached for cache
//     hits and collapsed duplicates (which cost nothing), and Invalid for replies that stayed
//     invalid.
//   - Collapse above Cache: identical requests in flight share one lookup, one call with its
//     whole repair sequence, and one store. (Under the Cache there would be a window between a
//     shared call ending and its reply being stored in which a duplicate asks again.)
//   - Cache stores only the final valid reply, under the key of the request as the engine made
//     it (no repair turns), so a re-run makes zero calls.
//   - Validate above the limits: each re-ask is a provider call that must be rate-limited and
//     retried.
//   - Balance picks an endpoint; each endpoint has its own limits.
//   - RateLimit above Retry: one admission covers a request's attempts, so the per-call
//     timeout measures the provider and not the queue, and back-off keeps its concurrency slot
//     (slowing an endpoint that pushes back). Retry wraps the client directly.

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
	// Retry is the retry policy of each endpoint; a zero MaxAttempts means one attempt.
	Retry RetryPolicy
	// Prices price replies (nil: every non-zero cost is unknown).
	Prices Prices
	// Usage, if not nil, accumulates usage.
	Usage *Usage
}

// Stack builds the standard chain (see above) over one or more endpoints of one model.
func Stack(endpoints []Backend, c StackConfig) Backend {
	eps := make([]Backend, len(endpoints))
	for i, ep := range endpoints {
		if c.Retry.MaxAttempts > 1 || c.Retry.Timeout > 0 {
			p := c.Retry
			p.MaxAttempts = max(1, p.MaxAttempts)
			p.Seed += uint64(i) // distinct jitter per endpoint
			ep = Retry(ep, p)
		}
		if c.Limits != (Limits{}) {
			ep = RateLimit(ep, c.Limits)
		}
		eps[i] = ep
	}
	b := Validate(Balance(eps), c.MaxRepairs)
	if c.Cache != nil {
		b = c.Cache.Wrap(b, c.ID)
	}
	return Meter(Collapse(b, c.ID), c.Prices, c.Usage)
}
