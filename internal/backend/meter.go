package backend

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// ModelUsage is what one provider/model (or, from Usage.Total, everything) consumed.
type ModelUsage struct {
	Provider, Model string
	// Decisions counts replies returned (valid or invalid, cached or not); Errors counts
	// decisions that failed with an error.
	Decisions, Errors int64
	// Calls counts provider calls, including re-asks and retried attempts; cache hits make none.
	// FailedCalls counts those of Calls that failed (HTTP 5xx, 429, timeouts: see
	// Reply.FailedCalls); UnusableCalls those answered with HTTP 2xx whose reply could not be
	// used or timed out after sending, which may have been billed and whose cost (at their worst case unless their reply
	// said its usage) CostUSD includes (see Reply.UnusableCalls).
	Calls, FailedCalls, UnusableCalls int64
	// NoUsageCalls counts those of Calls whose usable reply said no token usage, in CostUSD at
	// their worst case (see Reply.NoUsageCalls).
	NoUsageCalls              int64
	InputTokens, OutputTokens int64
	// CostUSD sums the cost of calls whose price is known. CostKnown is false when any call's
	// price was unknown: CostUSD is then a lower bound and reports must say "unknown price".
	CostUSD   float64
	CostKnown bool
	// CacheHits counts replies served without a provider call (from the cache, or shared with
	// an identical request in flight).
	CacheHits int64
	// Invalid counts replies that stayed invalid after re-asking.
	Invalid int64
}

// Usage accumulates consumption per provider/model. It is safe for concurrent use; the zero
// value is ready.
type Usage struct {
	mu sync.Mutex
	m  map[[2]string]*ModelUsage
}

// Add counts one decision's reply (err is the decision's error, if any; a reply returned with
// an error still counts what it spent).
func (u *Usage) Add(r Reply, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.entry(r)
	if err != nil {
		e.Errors++
	} else {
		e.Decisions++
		if r.Cached {
			e.CacheHits++
		}
		if r.Invalid != "" {
			e.Invalid++
		}
	}
	e.add(r)
}

// ByModel returns a snapshot per provider/model, sorted by provider then model.
func (u *Usage) ByModel() []ModelUsage {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]ModelUsage, 0, len(u.m))
	for _, e := range u.m {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b ModelUsage) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Model, b.Model))
	})
	return out
}

// Total sums all models; Provider and Model are empty.
func (u *Usage) Total() ModelUsage {
	t := ModelUsage{CostKnown: true}
	for _, e := range u.ByModel() {
		t.Decisions += e.Decisions
		t.Errors += e.Errors
		t.Calls += e.Calls
		t.FailedCalls += e.FailedCalls
		t.UnusableCalls += e.UnusableCalls
		t.NoUsageCalls += e.NoUsageCalls
		t.InputTokens += e.InputTokens
		t.OutputTokens += e.OutputTokens
		t.CostUSD += e.CostUSD
		t.CostKnown = t.CostKnown && e.CostKnown
		t.CacheHits += e.CacheHits
		t.Invalid += e.Invalid
	}
	return t
}

// Meter prices each reply from its tokens, its unusable attempts' included (Reply.CostUSD; NaN
// when the model's price is unknown, zero for a reply with no tokens such as a cache hit) and,
// if usage is not nil,
// counts it there. Errors are counted under the reply's provider/model, which is often empty
// for an error.
//
// Put Meter once, outermost, above the Cache: it then sees every decision once, with the
// summed tokens of its re-asks (from Validate) and retried attempts, with Cached set for cache
// hits and collapsed duplicates, and with Invalid set for replies that stayed invalid. Prices
// are linear in tokens, so pricing the summed tokens of one model equals summing its calls'
// prices; the tokens of calls another model answered (Reply.Others: a re-ask a gateway
// answered with another model) are priced at that model's price, as Budgeted settles them.
//
// The price of the last provider/model is kept: a run's replies nearly all name one model, and
// looking a name up (a concatenation, and a scan of every price for a versioned name) cost
// more than the rest of the metering. prices must not change once Meter has it.
//
// The reply's model is the one the provider says it served, which is what it bills (the model
// asked when the response named none: Named); a spend cap (Budgeted) settles each call at the
// same price, so the cap's account and the recorded costs are one number.
func Meter(next Backend, prices Prices, usage *Usage) Backend {
	type priced struct {
		provider, model string
		price           Price
		ok              bool
	}
	var last atomic.Pointer[priced]
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		r, err := next.Decide(ctx, req)
		p := last.Load()
		if p == nil || p.provider != r.Provider || p.model != r.Model {
			p = &priced{provider: r.Provider, model: r.Model}
			p.price, p.ok = prices.Lookup(r.Provider, r.Model)
			last.Store(p)
		}
		r.CostUSD = replyCost(prices, p.price, p.ok, r)
		if usage != nil {
			usage.Add(r, err)
		}
		return r, err
	})
}

// replyCost is what r's calls cost: its tokens (unusable ones included) at price (ok: known),
// its model's, but those of calls another model answered (Reply.Others: a re-ask) at that
// model's price in prices. NaN when a price is unknown.
func replyCost(prices Prices, price Price, ok bool, r Reply) float64 {
	in, out := r.InputTokens+r.UnusableInputTokens, r.OutputTokens+r.UnusableOutputTokens
	for _, o := range r.Others {
		in, out = in-o.InputTokens, out-o.OutputTokens
	}
	usd, _ := price.cost(ok, in, out)
	for _, o := range r.Others {
		pr, found := prices.Lookup(o.Provider, o.Model)
		c, _ := pr.cost(found, o.InputTokens, o.OutputTokens)
		usd += c
	}
	return usd
}

// Priced is r with CostUSD set as Meter sets it, for a reply that did not come through a
// Meter (a cluster task's second reply, which answers no ask).
func Priced(prices Prices, r Reply) Reply {
	pr, ok := prices.Lookup(r.Provider, r.Model)
	r.CostUSD = replyCost(prices, pr, ok, r)
	return r
}

// CapCost is what a spend cap counts for r, a reply that came with no reservation (a cluster
// task's second reply): its cost at prices, as Priced gives it, but the tokens of a model with
// no price at the price of the configured provider and model, which under a cap has one. It is
// Budgeted's rule for a reply naming an unpriced model, counted at the reservation the
// configured price made; with no reservation, its tokens, known, are counted at that price.
func CapCost(prices Prices, r Reply, provider, model string) float64 {
	conf, _ := prices.Lookup(provider, model)
	at := func(p, m string) Price {
		if pr, ok := prices.Lookup(p, m); ok {
			return pr
		}
		return conf
	}
	in, out := r.InputTokens+r.UnusableInputTokens, r.OutputTokens+r.UnusableOutputTokens
	for _, o := range r.Others {
		in, out = in-o.InputTokens, out-o.OutputTokens
	}
	usd, _ := at(r.Provider, r.Model).cost(true, in, out)
	for _, o := range r.Others {
		c, _ := at(o.Provider, o.Model).cost(true, o.InputTokens, o.OutputTokens)
		usd += c
	}
	return usd
}

// AddCalls counts the calls, tokens and cost of r (priced: see Priced), a reply that answers
// no decision (a cluster task decided twice): no decision or error is counted.
func (u *Usage) AddCalls(r Reply) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.entry(r)
	e.add(r)
}

// entry is the tally of r's provider and model, made on first use; the caller holds the
// Usage's lock.
func (u *Usage) entry(r Reply) *ModelUsage {
	if u.m == nil {
		u.m = map[[2]string]*ModelUsage{}
	}
	k := [2]string{r.Provider, r.Model}
	e := u.m[k]
	if e == nil {
		e = &ModelUsage{Provider: r.Provider, Model: r.Model, CostKnown: true}
		u.m[k] = e
	}
	return e
}

// add counts r's calls, tokens and cost; the caller holds the Usage's lock.
func (e *ModelUsage) add(r Reply) {
	e.Calls += int64(r.Calls)
	e.FailedCalls += int64(r.FailedCalls)
	e.UnusableCalls += int64(r.UnusableCalls)
	e.NoUsageCalls += int64(r.NoUsageCalls)
	e.InputTokens += int64(r.InputTokens)
	e.OutputTokens += int64(r.OutputTokens)
	if math.IsNaN(r.CostUSD) {
		e.CostKnown = false
	} else {
		e.CostUSD += r.CostUSD
	}
}

// EstimateTokens estimates the tokens one request will use, input and output together, before
// it is sent: for `prosim estimate` and for the tokens-per-minute limiter. Input is about four
// characters per token of English text plus a few tokens per message; output is MaxTokens if
// set (a ceiling, as providers count it against rate limits) or else about what a JSON reply to
// the schema takes.
func EstimateTokens(req Request) int {
	in, out := EstimateIO(req)
	return in + out
}

// EstimateIO is EstimateTokens split into input and output tokens.
func EstimateIO(req Request) (in, out int) {
	chars := utf8.RuneCountInString(req.System) + utf8.RuneCountInString(req.Prompt)
	msgs := 2
	for _, t := range req.Repair {
		chars += utf8.RuneCountInString(t.Assistant) + utf8.RuneCountInString(t.User)
		msgs += 2
	}
	return estimateIO(req, (chars+3)/4, msgs)
}

// EstimateIOWith is EstimateIO with the texts' tokens counted by count (a model's tokenizer,
// see internal/backend/tokens) instead of by length.
func EstimateIOWith(req Request, count func(string) int) (in, out int) {
	text := count(req.System) + count(req.Prompt)
	msgs := 2
	for _, t := range req.Repair {
		text += count(t.Assistant) + count(t.User)
		msgs += 2
	}
	return estimateIO(req, text, msgs)
}

// estimateIO adds a few tokens per message to the texts' and estimates the output.
func estimateIO(req Request, text, msgs int) (in, out int) {
	in = text + 4*msgs
	out = ExpectedOutputTokens(req)
	if req.Sampling.MaxTokens > 0 {
		out = req.Sampling.MaxTokens
	}
	return in, out * max(1, req.N) // N samples: the prompt once, N replies
}

// ExpectedOutputTokens is about what a JSON reply to req.Schema takes: a few tokens for the
// braces and per field its name and a value.
func ExpectedOutputTokens(req Request) int {
	out := 4
	for _, f := range req.Schema.Fields {
		out += 4 + (len(f.Name)+3)/4
	}
	return out
}
