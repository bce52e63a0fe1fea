package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/prosim/prosim/internal/usd"
)

// ErrBudget is matched (errors.Is) by the error of a call that was not made because its
// worst-case cost would pass the run's spend cap.
var ErrBudget = errors.New("budget reached")

// BudgetError says a call was not made: its worst-case cost would pass the cap.
type BudgetError struct {
	CapUSD, SpentUSD, ReservedUSD, NextUSD float64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("budget of $%s reached: $%s spent, $%s reserved by calls in flight, the next call could cost up to $%s",
		usd.Exact(e.CapUSD), usd.String(e.SpentUSD), usd.String(e.ReservedUSD), usd.String(e.NextUSD))
}

// Is makes errors.Is(err, ErrBudget) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

// Budget is a hard cap on spend, shared by every backend of a run. A call reserves its
// worst-case cost before it is made and settles the reservation with its actual cost when it
// returns; a reservation that would take spent plus reserved past the cap waits for the
// calls in flight to settle (their actual cost is a fraction of their worst case) and is
// refused only when none is left in flight. So the settled spend never passes the cap as long
// as no call costs more than its worst case (see WorstCase), and a concurrent run stops where
// a sequential one would (QA10: 8 workers' reservations stopped a run at 14% of its cap). It
// is safe for concurrent use.
type Budget struct {
	mu       sync.Mutex
	cap      float64
	spent    float64
	reserved float64
	inFlight int           // reservations not yet settled
	settled  chan struct{} // closed (and dropped) by the next Settle; nil when none waits
}

// NewBudget is a cap of capUSD of which spentUSD is already spent (by earlier invocations of
// a resumed run).
func NewBudget(capUSD, spentUSD float64) *Budget { return &Budget{cap: capUSD, spent: spentUSD} }

// Reserve sets aside usd for a call. When it does not fit, it waits for a call in flight to
// settle and tries again, until ctx ends (its error is returned); with none in flight it
// returns a *BudgetError.
func (b *Budget) Reserve(ctx context.Context, usd float64) error {
	return b.reserve(ctx, usd, false)
}

// reserve is Reserve, or with more set, the growth of a reservation the caller already
// holds, which never waits (see tryReserve).
func (b *Budget) reserve(ctx context.Context, usd float64, more bool) error {
	for {
		ch, err := b.tryReserve(usd, !more, more)
		if ch == nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryReserve reserves usd, or returns the channel to wait on (wait, and calls in flight) or
// the refusal. With more, usd is added to a reservation the caller holds, and the call is not
// counted again. A growth is made from inside the call (Retry, under the rate limits), which
// holds its concurrency slot: waiting there for other calls to settle could wait for calls
// that themselves wait for that slot (a run with two workers and a local server's adaptive
// limit of one hung so), so reserve never waits to grow.
func (b *Budget) tryReserve(usd float64, wait, more bool) (<-chan struct{}, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent+b.reserved+usd <= b.cap {
		b.reserved += usd
		if !more {
			b.inFlight++
		}
		return nil, nil
	}
	if !wait || b.inFlight == 0 {
		return nil, &BudgetError{CapUSD: b.cap, SpentUSD: b.spent, ReservedUSD: b.reserved, NextUSD: usd}
	}
	if b.settled == nil {
		b.settled = make(chan struct{})
	}
	return b.settled, nil
}

// AddSpent adds a spend made without a reservation (a resumed run's earlier invocations).
func (b *Budget) AddSpent(usd float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent += usd
}

// Settle replaces a reservation by the call's actual cost.
func (b *Budget) Settle(reservedUSD, actualUSD float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	b.reserved -= reservedUSD
	if b.inFlight <= 0 {
		b.inFlight = 0
		b.reserved = 0 // no float residue of many reservations
	}
	b.spent += actualUSD
	if b.settled != nil {
		close(b.settled)
		b.settled = nil
	}
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

// UnusableTokens are the tokens a reply that came with HTTP 2xx but could not be used is
// counted at, in synchronous and batch mode alike: in and out, its usage, when it said one,
// else its request's worst case (WorstCase at maxOut, the client's completion limit for a
// request that sets none), what the spend cap reserved for it.
func UnusableTokens(req Request, maxOut, in, out int) (int, int) {
	if in == 0 && out == 0 {
		return WorstCase(req, maxOut)
	}
	return in, out
}

// CountNoUsage counts r, the usable reply of one call of req, at the call's worst case
// (WorstCase at maxOut) when it said no token usage (none counted, and not already counted as
// unusable): a reply costs tokens, and one that said none would otherwise be recorded at $0 and
// never stop a spend cap (QA15 F1: 120 calls at "$0" passed a $0.02 cap threefold). Retry and
// the batch collector apply it to each reply they return.
func CountNoUsage(r Reply, req Request, maxOut int) Reply {
	if r.Calls == 0 || r.InputTokens != 0 || r.OutputTokens != 0 || r.UnusableCalls != 0 || r.NoUsageCalls != 0 {
		return r
	}
	in, out := WorstCase(req, maxOut)
	r.NoUsageCalls++
	r.UnusableInputTokens += in
	r.UnusableOutputTokens += out
	return r
}

// Budgeted reserves each call's worst-case cost in b before passing it to next, and settles
// it with the cost of the reply's tokens at the price of the model the reply names, the number
// Meter records for it (see callPrice). provider and model are the configured model, whose
// price (or a dearer one a reply named) the reservations use; maxOut is the client's
// completion limit for requests that set none. A refused reservation returns a *BudgetError
// without calling next. A call that does not fit waits for those in flight (Reserve). In batch
// mode (batch, the chain's Collector, not nil) those settle only when their job is sent and
// ends, and a job is sent when every worker waits: the call tells the batch group it waits
// too, so that the jobs of the others go and, once they settle, it goes in a smaller
// follow-up job if it fits then (QA12 #8: a refusal stopped the run at 12 of 24 decisions
// with room for 3 more). A call whose line the collector already has (Collector.Shares,
// asked before it reserves and after each wait) is a copy of that line: it reserves and
// settles nothing (QA13 F1: a twin held until its line's job settled was then recorded as a
// call and settled at the line's cost).
//
// The settled spend stays within the cap as long as no call costs more than its reservation.
// One can: a call of a model dearer than the configured one, before a reply has named it.
// So a backend's first call goes alone (outside batch mode), its reply's price raises the
// later reservations, and once the spend passes the cap no further call fits: the cap is
// passed by at most that call's excess, or, when replies start naming a dearer model later
// (or in batch mode, in the first job), by the excess of the calls in flight then.
//
// A reply naming a model with no price is recorded at an unknown cost (Meter); the cap counts
// it at its reservation, the worst case at the configured price, rather than at nothing.
//
// It goes below the cache (hits cost nothing) and below Validate (each re-ask is a call that
// reserves in turn); above the rate limits and retries, so one reservation covers a call's
// attempts (a failed attempt is not billed). An attempt answered with HTTP 2xx whose reply
// could not be used may have been billed: before its retry, Retry (in batch mode, the
// collector, before the line goes in a new job) asks through the call's context for the
// call's worst case once more, so the reservation grows by one worst case per such attempt
// and the cap can refuse the retry (at once when it does not fit: the call holds its
// rate-limit slot, see tryReserve). The call settles once, at the price of its tokens and of
// its unusable attempts' (Reply.UnusableInputTokens and UnusableOutputTokens: their usage,
// or their worst case, UnusableTokens).
func Budgeted(next Backend, b *Budget, prices Prices, provider, model string, maxOut int, batch *Collector) Backend {
	cp := newCallPrice(prices, provider, model)
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		if batch == nil {
			first, err := cp.probe(ctx)
			if err != nil {
				return Reply{}, err
			}
			if first {
				defer cp.firstDone()
			}
		}
		in, out := WorstCase(req, maxOut)
		worst, ok := cp.worst(in, out)
		if !ok || math.IsNaN(worst) {
			return Reply{}, fmt.Errorf("%s/%s: no price is known, and a budget needs one (add it under prices:)", provider, model)
		}
		reserve := func(ctx context.Context, more bool) error {
			if batch == nil || more {
				return b.reserve(ctx, worst, more)
			}
			group, k := batch.cfg.Group, batch.Key(req)
			for {
				if batch.Shares(k) {
					return errCopy
				}
				settled, err := b.tryReserve(worst, true, false)
				if settled == nil {
					return err
				}
				group.hold()
				select {
				case <-settled:
				case <-ctx.Done():
				}
				group.release()
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		if err := reserve(ctx, false); err == errCopy {
			r, err := next.Decide(context.WithValue(ctx, copyKey{}, true), req)
			if r.Calls > 0 { // not expected: the collector makes a line's reserving request its call
				if actual, ok := cp.actual(r, r.InputTokens+r.UnusableInputTokens, r.OutputTokens+r.UnusableOutputTokens); ok {
					b.AddSpent(actual)
				} else {
					b.AddSpent(worst)
				}
			}
			return r, err
		} else if err != nil {
			return Reply{}, err
		}
		// again grows the reservation from below: from Retry in the call's goroutine, or from
		// a batch collector's, which may outlive a call whose context ended (ended).
		var mu sync.Mutex
		held, ended := worst, false
		again := func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if ended {
				return errCallEnded
			}
			if err := reserve(ctx, true); err != nil {
				return err
			}
			held += worst
			return nil
		}
		r, err := next.Decide(WithReserveAgain(ctx, again), req)
		mu.Lock()
		ended = true
		mu.Unlock()
		actual, ok := cp.actual(r, r.InputTokens+r.UnusableInputTokens, r.OutputTokens+r.UnusableOutputTokens)
		if !ok {
			actual = held // the reply names a model with no price: counted at what it held
		}
		b.Settle(held, actual)
		return r, err
	})
}

// errCallEnded refuses a reservation for a call that has returned (its reservation settled).
var errCallEnded = errors.New("the call has ended")

// errCopy says a batch request is a copy of a line the collector has: it reserves nothing.
var errCopy = errors.New("a copy of a batch line")

// reserveAgainKey is the context key of a Budgeted call's func(context.Context) error that
// reserves one more attempt's worst case (see Retry).
type reserveAgainKey struct{}

// ReserveAgain is the reservation of one more attempt's worst case that ctx carries, a
// Budgeted call's (or one given by WithReserveAgain), or nil when the call is under no cap.
// A cluster coordinator sends it to the worker making the call.
func ReserveAgain(ctx context.Context) func(context.Context) error {
	f, _ := ctx.Value(reserveAgainKey{}).(func(context.Context) error)
	return f
}

// WithReserveAgain is ctx carrying f as the call's ReserveAgain: a cluster worker's, which asks
// the coordinator's Budgeted, so that its Retry reserves each retry of an unusable reply
// against the run's cap as a local call's does.
func WithReserveAgain(ctx context.Context, f func(context.Context) error) context.Context {
	return context.WithValue(ctx, reserveAgainKey{}, f)
}
