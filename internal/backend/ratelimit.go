package backend

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Limits are one endpoint's rate limits. Zero means no limit of that kind.
type Limits struct {
	// Concurrency caps calls in flight.
	Concurrency int
	// RPM and TPM are requests and tokens (input plus output) per minute.
	RPM, TPM float64
	// Watch, if not nil, is told of calls held by RPM or TPM, so that the progress output
	// says what a run waits for (QA12 #12: with tpm below one request's size a decision took
	// 90 s and the progress said nothing).
	Watch *Watch
}

// RateLimit admits calls to next within limits: at most Concurrency in flight, and requests
// and tokens drawn from per-minute buckets that refill continuously and hold one second's
// worth when idle (so an idle endpoint does not send a minute's burst at once). A request's
// tokens are estimated before the call (EstimateTokens: prompt characters/4, plus MaxTokens or
// the schema's expected reply) and corrected after it from the reply's counted tokens: spent
// more, and later calls wait longer; spent less, and the difference is given back. Waiting
// ends when ctx does. Use one RateLimit per endpoint, shared by everything that calls it.
//
// The buckets are small token buckets rather than golang.org/x/time/rate limiters because
// the estimate must be refundable, which rate.Limiter does not allow once a reservation's
// time has passed.
func RateLimit(next Backend, l Limits) Backend {
	return rateLimit(next, l, realClock{})
}

type clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time                                   { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }

func rateLimit(next Backend, l Limits, clk clock) Backend {
	var sem chan struct{}
	if l.Concurrency > 0 {
		sem = make(chan struct{}, l.Concurrency)
	}
	reqs := newBucket(l.RPM, clk)
	toks := newBucket(l.TPM, clk)
	reqs.watch, reqs.what = l.Watch, fmt.Sprintf("the rpm limit (%g requests a minute)", l.RPM)
	toks.watch, toks.what = l.Watch, fmt.Sprintf("the tpm limit (%g tokens a minute)", l.TPM)
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		if sem != nil {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return Reply{}, ctx.Err()
			}
		}
		if err := reqs.wait(ctx, 1); err != nil {
			return Reply{}, err
		}
		est := 0.0
		if toks.rate > 0 { // the estimate counts the prompt's runes: only for a token limit
			est = float64(EstimateTokens(req))
		}
		if err := toks.wait(ctx, est); err != nil {
			reqs.give(1) // not sent after all
			return Reply{}, err
		}
		r, err := next.Decide(ctx, req)
		if used := r.InputTokens + r.OutputTokens; err == nil && used > 0 {
			toks.give(est - float64(used)) // negative: take the excess
		}
		return r, err
	})
}

// bucket is a token bucket that may go into debt: a take larger than what is left is granted
// at once and the taker waits until the debt would have been refilled, so requests larger
// than the burst still pass at the right long-run rate.
type bucket struct {
	clk    clock
	mu     sync.Mutex
	rate   float64 // tokens per second; 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time
	watch  *Watch // told of waits (nil: none)
	what   string // the limit, for watch
}

func newBucket(perMinute float64, clk clock) *bucket {
	b := &bucket{clk: clk}
	if perMinute > 0 && !math.IsInf(perMinute, 1) {
		b.rate = perMinute / 60
		b.burst = max(1, b.rate) // one second's worth
		b.tokens = b.burst
		b.last = clk.Now()
	}
	return b
}

func (b *bucket) refill() {
	now := b.clk.Now()
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
	}
	b.last = now
}

// wait takes n tokens, waiting as long as the bucket is in debt. If ctx ends first, the
// tokens are given back.
func (b *bucket) wait(ctx context.Context, n float64) error {
	if b.rate == 0 {
		return ctx.Err()
	}
	b.mu.Lock()
	b.refill()
	b.tokens -= n
	var d time.Duration
	if b.tokens < 0 {
		d = time.Duration(math.Ceil(-b.tokens / b.rate * float64(time.Second)))
	}
	b.mu.Unlock()
	if d == 0 {
		return ctx.Err()
	}
	defer b.watch.limited(b.what, b.clk.Now().Add(d))()
	if err := b.clk.Sleep(ctx, d); err != nil {
		b.give(n)
		return err
	}
	return nil
}

// give returns n tokens (n < 0 takes more, into debt).
func (b *bucket) give(n float64) {
	if b.rate == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	b.tokens = min(b.burst, b.tokens+n)
}
