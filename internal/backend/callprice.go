package backend

import (
	"context"
	"sync"
)

// callPrice prices one backend's calls for its spend cap (Budgeted) by the rule Meter prices
// their replies for the record: a call costs its tokens at the price of the model its reply
// names, which is the model the provider says it served and what it bills (a gateway may
// answer a gpt-4o-mini request with gpt-4o-2024-08-06), looked up by Prices.Lookup. A reply
// whose response named no model is named the configured one, once, below both (Named), so
// that the two never price it apart. Reservations are made before the
// reply is known, at the dearest of the configured model's price and every price a reply of
// the backend has named so far (QA12: a cap that priced calls at the configured model let the
// recorded cost reach 12.6 times the cap).
type callPrice struct {
	prices          Prices
	provider, model string
	mu              sync.Mutex
	dearest         Price // input and output each at their highest seen
	known           bool  // the configured model has a price
	// first is closed when the backend's first call has returned; until then further calls
	// wait (probe), so that they reserve at the price its reply names.
	first   chan struct{}
	probing bool
}

func newCallPrice(prices Prices, provider, model string) *callPrice {
	c := &callPrice{prices: prices, provider: provider, model: model, first: make(chan struct{})}
	c.dearest, c.known = prices.Lookup(provider, model)
	return c
}

// probe waits, unless this is the first call, until the first call has returned; it reports
// whether the caller is that first call (which must then call firstDone). A call of a model
// dearer than the configured one costs more than its reservation: letting only one such call
// be made before the price its reply names raises the reservations bounds how far the spend can
// pass the cap. Batch mode does not probe: its calls return only when the whole job does.
func (c *callPrice) probe(ctx context.Context) (first bool, err error) {
	c.mu.Lock()
	if !c.probing {
		c.probing = true
		c.mu.Unlock()
		return true, nil
	}
	c.mu.Unlock()
	select {
	case <-c.first:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// firstDone ends the first call's probe.
func (c *callPrice) firstDone() { close(c.first) }

// worst is the cost of a call's worst-case tokens at the dearest price seen; ok is false when
// the configured model has no price.
func (c *callPrice) worst(in, out int) (usd float64, ok bool) {
	c.mu.Lock()
	pr := c.dearest
	c.mu.Unlock()
	return pr.cost(c.known, in, out)
}

// actual is the cost of a call's reply r at the price of the model it names (see callPrice),
// for tokens in and out; ok is false when that model has no price. A known price dearer than
// the dearest so far raises it for later reservations.
func (c *callPrice) actual(r Reply, in, out int) (usd float64, ok bool) {
	pr, found := c.prices.Lookup(r.Provider, r.Model)
	if found {
		c.mu.Lock()
		c.dearest = Price{InputPerMTok: max(c.dearest.InputPerMTok, pr.InputPerMTok), OutputPerMTok: max(c.dearest.OutputPerMTok, pr.OutputPerMTok)}
		c.mu.Unlock()
	}
	return pr.cost(found, in, out)
}

// Named names the configured provider and model on each reply of next that has tokens to price
// but whose response named no model (some OpenAI-compatible servers leave "model" out): it
// was served by the model asked, and is priced, counted and recorded as that model's. Stack
// puts it at the bottom of the chain, under Budgeted and Meter, so that the cap settles and
// the record prices such a reply at one price (the clients name the model asked too; Named
// is the chain's own guarantee, whatever the endpoint: a client, a worker, a batch job).
func Named(next Backend, provider, model string) Backend {
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		r, err := next.Decide(ctx, req)
		if r.Model == "" && r.InputTokens+r.OutputTokens+r.UnusableInputTokens+r.UnusableOutputTokens > 0 {
			if r.Provider == "" {
				r.Provider = provider
			}
			r.Model = model
		}
		return r, err
	})
}
