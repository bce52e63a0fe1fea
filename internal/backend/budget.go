package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrBudget is matched (errors.Is) by the error of a call that was not made because its
// worst-case cost would pass the run's spend cap.
var ErrBudget = errors.New("budget reached")

// BudgetError says a call was not made: its worst-case cost would pass the cap.
type BudgetError struct {
	CapUSD, SpentUSD, ReservedUSD, NextUSD float64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("budget of $%.4f reached: $%.4f spent, $%.4f reserved by calls in flight, the next call could cost up to $%.6f",
		e.CapUSD, e.SpentUSD, e.ReservedUSD, e.NextUSD)
}

// Is makes errors.Is(err, ErrBudget) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

// Budget is a hard cap on spend, shared by every backend of a run. A call reserves its
// worst-case cost before it is made and settles the reservation with its actual cost when it
// returns; a reservation that would take spent plus reserved past the cap is refused. So the
// settled spend never passes the cap as long as no call costs more than its worst case (see
// WorstCase). It is safe for concurrent use.
type Budget struct {
	mu       sync.Mutex
	cap      float64
	spent    float64
	reserved float64
}

// NewBudget is a cap of capUSD of which spentUSD is already spent (by earlier invocations of
// a resumed run).
func NewBudget(capUSD, spentUSD float64) *Budget { return &Budget{cap: capUSD, spent: spentUSD} }

// Reserve sets aside usd for a call, or returns a *BudgetError when it would pass the cap.
func (b *Budget) Reserve(usd float64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent+b.reserved+usd > b.cap {
		return &BudgetError{CapUSD: b.cap, SpentUSD: b.spent, ReservedUSD: b.reserved, NextUSD: usd}
	}
	b.reserved += usd
	return nil
}

// Settle replaces a reservation by the call's actual cost.
func (b *Budget) Settle(reservedUSD, actualUSD float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved -= reservedUSD
	if b.reserved < 1e-12 { // float residue of many reservations
		b.reserved = max(0, b.reserved)
	}
	b.spent += actualUSD
}

// Cap is the budget's cap in USD.
func (b *Budget) Cap() float64 { return b.cap }

// Spent is the settled spend in USD (earlier invocations included).
func (b *Budget) Spent() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// WorstCase is an upper bound of the tokens one call of req can be billed: input as the
// UTF-8 bytes of every message and of the response schema (byte-level BPE tokenizers never
// make more tokens than bytes) plus a chat-template allowance per message; output as the
// request's max tokens, or maxOut (what the client sends when the request sets none), times
// the samples asked. It is deliberately pessimistic: a reservation is returned when the call
// settles, so it costs nothing but the last call before the cap.
func WorstCase(req Request, maxOut int) (in, out int) {
	in = len(req.System) + len(req.Prompt)
	msgs := 2
	for _, t := range req.Repair {
		in += len(t.Assistant) + len(t.User)
		msgs += 2
	}
	if js, err := json.Marshal(req.Schema); err == nil {
		in += len(js)
	}
	in += 16*msgs + 64
	out = maxOut
	if req.Sampling.MaxTokens > 0 {
		out = req.Sampling.MaxTokens
	}
	return in, out * max(1, req.N)
}

// Budgeted reserves each call's worst-case cost in b before passing it to next, and settles
// it with the reply's tokens at the same prices. provider and model price the calls; maxOut
// is the client's completion limit for requests that set none. A refused reservation returns
// a *BudgetError without calling next.
//
// It goes below the cache (hits cost nothing) and below Validate (each re-ask is a call that
// reserves in turn); above the rate limits and retries, so one reservation covers a call's
// attempts (a failed attempt is not billed).
func Budgeted(next Backend, b *Budget, prices Prices, provider, model string, maxOut int) Backend {
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		in, out := WorstCase(req, maxOut)
		worst, ok := prices.Cost(provider, model, in, out)
		if !ok || math.IsNaN(worst) {
			return Reply{}, fmt.Errorf("%s/%s: no price is known, and a budget needs one (add it under prices:)", provider, model)
		}
		if err := b.Reserve(worst); err != nil {
			return Reply{}, err
		}
		r, err := next.Decide(ctx, req)
		actual := 0.0
		if c, ok := prices.Cost(provider, model, r.InputTokens, r.OutputTokens); ok {
			actual = c
		}
		b.Settle(worst, actual)
		return r, err
	})
}
