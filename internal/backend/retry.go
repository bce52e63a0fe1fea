package backend

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prosim/prosim/internal/plural"
)

// RetryPolicy says how failed provider calls are retried.
type RetryPolicy struct {
	// MaxAttempts is the most calls made for one request, the first included (default 6).
	MaxAttempts int
	// Base and Max bound the back-off: before retry n (n = 1, 2, ...) the wait is uniform in
	// [0, min(Max, Base*2^(n-1))] ("full jitter"), and at least the provider's Retry-After.
	Base, Max time.Duration // defaults 500ms and 60s
	// MaxRetryAfter caps the wait a server asks for with Retry-After (default 60s): a server
	// asking for a day would otherwise hold the decision, silently, for a day per attempt.
	// When the cap applies, the error after the last attempt says so.
	MaxRetryAfter time.Duration
	// Timeout limits each call (0: no limit but the caller's context). A call that times out
	// is retried; the caller's own deadline is not.
	Timeout time.Duration
	// TimeoutName says where Timeout is set, for the error of a call that timed out (e.g.
	// "backends[0].timeout"); "" leaves it out.
	TimeoutName string
	// Sleep waits d or until ctx ends (default: a timer). Tests inject a recorder.
	Sleep func(ctx context.Context, d time.Duration) error
	// Seed seeds the jitter, so that a run's waits are reproducible given the same failures.
	Seed uint64
	// Watch, if set, is told of each call in flight and each back-off (the progress output
	// shows what a run is waiting for).
	Watch *Watch
	// MaxOutput is the client's completion limit for requests that set none: a call that
	// timed out after its request was sent is counted at its worst case at it (WorstCase).
	MaxOutput int
}

// DefaultMaxRetryAfter is the default cap on a server's Retry-After.
const DefaultMaxRetryAfter = 60 * time.Second

// DefaultRetryPolicy is 6 attempts, back-off from 500ms to 60s, 120s per call.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, Base: 500 * time.Millisecond, Max: 60 * time.Second, MaxRetryAfter: DefaultMaxRetryAfter, Timeout: 120 * time.Second}
}

// Retry retries calls to next that fail with a retryable *StatusError (rate limits, server
// errors, transport failures; see StatusError.Retryable) or that time out under
// policy.Timeout. Other errors, non-retryable statuses (400, 401, 403, 404, ...) and the
// caller's context ending return at once. When attempts run out, the error says how many were
// made and wraps the last failure (errors.As finds its *StatusError).
//
// The returned reply's Calls, FailedCalls and UnusableCalls include the failed attempts, also
// when the call fails in the end (the reply is then returned with the error, for a Meter above
// to count). An attempt answered with HTTP 2xx whose reply could not be used
// (StatusError.Unusable) may have been billed: it is counted among UnusableCalls with its
// tokens, and under a spend cap its retry first reserves its worst case again (Budgeted); a
// refusal ends the call with the *BudgetError. So may an attempt that timed out (the per-call
// timeout or the caller's deadline) after its whole request was written (httptrace's
// WroteRequest without an error): the provider may have generated the reply the client gave up
// on. It is counted the same way, at its request's worst case (UnusableTokens at
// policy.MaxOutput). So does an attempt cut off by the caller's context ending (Ctrl-C) after
// its request was written and before any response: the call returns at once with the error,
// its reply counting that unusable call for the Meter and the cap above. One that timed out
// before its request was written (dialling, a write that did not finish) stays a failed call,
// not billed. Retry sits under RateLimit: one
// admission covers a request's attempts, so the per-call timeout measures the provider, not
// the queue, and a request backing off keeps its concurrency slot, which slows an endpoint
// that is pushing back.
func Retry(next Backend, p RetryPolicy) Backend {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	if p.Base <= 0 {
		p.Base = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 60 * time.Second
	}
	if p.Max < p.Base {
		p.Max = p.Base
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))
	jitter := func(ceil time.Duration) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(rng.Int64N(int64(ceil) + 1))
	}

	return Func(func(ctx context.Context, req Request) (Reply, error) {
		// A Balance below sends each retry to an endpoint this request has not failed on.
		ctx = context.WithValue(ctx, failedKey{}, &failedOn{})
		var last error
		capped := ""       // set when a Retry-After was cut to the cap
		made := 0          // failed attempts that reached the provider
		var unusable Reply // attempts answered with HTTP 2xx but unusable (Reply.UnusableCalls)
		answered := false  // an attempt had an HTTP status, or timed out after sending
		for attempt := 1; ; attempt++ {
			done := p.Watch.call()
			var wrote atomic.Bool // the attempt's whole request was written to the provider
			actx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
				if i.Err == nil {
					wrote.Store(true)
				}
			}})
			r, err := call(actx, next, req, p.Timeout, p.TimeoutName)
			done()
			if err == nil {
				r = CountNoUsage(r, req, p.MaxOutput)
				r.Calls += made + unusable.UnusableCalls
				r.FailedCalls += made
				r.UnusableCalls += unusable.UnusableCalls
				r.UnusableInputTokens += unusable.UnusableInputTokens
				r.UnusableOutputTokens += unusable.UnusableOutputTokens
				return r, nil
			}
			var se *StatusError
			isStatus := errors.As(err, &se)
			timedOut := errors.Is(err, context.DeadlineExceeded) // ours unless ctx ended (below)
			// Timed out, or cut off by the caller (Ctrl-C), after sending and before any
			// response: the provider may have billed the reply it generated.
			sentTimeout := (timedOut || ctx.Err() != nil) && wrote.Load() && !(isStatus && (se.Unusable || se.Status != 0))
			// A failed attempt counts as a call unless nothing was sent: a connection that
			// could not be made (refused, no route, no such host) or a failure before sending
			// (an error that is neither a provider's nor a timeout). The reply returned with
			// the error carries the count, so that the run's calls equal what the provider
			// counted. A reply that came with HTTP 2xx but could not be used is counted apart,
			// with the tokens it may have been billed.
			switch {
			case isStatus && se.Unusable:
				unusable.Provider, unusable.Model = se.Provider, se.Model // to price it
				unusable.UnusableCalls++
				unusable.UnusableInputTokens += se.InputTokens
				unusable.UnusableOutputTokens += se.OutputTokens
			case sentTimeout:
				// Named above names the model asked, to price it, when no reply names one.
				in, out := UnusableTokens(req, p.MaxOutput, 0, 0)
				unusable.UnusableCalls++
				unusable.UnusableInputTokens += in
				unusable.UnusableOutputTokens += out
			case (isStatus || timedOut) && !notSent(err):
				made++
			}
			if (isStatus && (se.Status != 0 || se.Unusable)) || (timedOut && !notSent(err)) {
				answered = true
			}
			spent := unusable
			spent.Calls, spent.FailedCalls = made+unusable.UnusableCalls, made
			if ctx.Err() != nil { // the caller gave up: stop now, whatever the call said
				return spent, fmt.Errorf("%w (after %d attempt(s): %v)", ctx.Err(), attempt, err)
			}
			if !timedOut && !(isStatus && se.Retryable()) {
				return spent, err
			}
			last = err
			if attempt >= p.MaxAttempts {
				return spent, &GaveUpError{Attempts: attempt, Capped: capped, Answered: answered, Last: last}
			}
			if (isStatus && se.Unusable) || sentTimeout {
				// It may have been billed: under a spend cap, its retry reserves its worst
				// case again (Budgeted), and is not made when the cap refuses it.
				if again := ReserveAgain(ctx); again != nil {
					if err := again(ctx); err != nil {
						what := "a reply that came with HTTP 200 but could not be used"
						if sentTimeout {
							what = "a call that timed out after its request was sent"
						}
						return spent, fmt.Errorf("%w: %s (it may have been billed) was not asked again (after %s: %v)",
							err, what, plural.Count(attempt, "attempt"), last)
					}
				}
			}
			ceil := p.Base << min(attempt-1, 30)
			if ceil > p.Max || ceil <= 0 {
				ceil = p.Max
			}
			d := jitter(ceil)
			asked := time.Duration(0)
			if se != nil && se.RetryAfter > 0 {
				ra := se.RetryAfter
				if ra > p.MaxRetryAfter {
					capped = fmt.Sprintf(" (the server asked to wait %v; waited at most %v, the Retry-After cap)", se.RetryAfter, p.MaxRetryAfter)
					ra = p.MaxRetryAfter
				}
				d = max(d, ra)
				asked = se.RetryAfter
			}
			done = p.Watch.backoff(d, asked, last)
			err = p.Sleep(ctx, d)
			done()
			if err != nil {
				return spent, fmt.Errorf("%w (after %d attempt(s): %v)", err, attempt, last)
			}
		}
	})
}

// GaveUpError is a call that still failed after its last attempt; it wraps that attempt's
// failure (errors.As finds its *StatusError).
type GaveUpError struct {
	Attempts int
	// Capped says a Retry-After was cut to the cap ("" when none was).
	Capped string
	// Answered says an attempt reached a server that responded: an HTTP status, or a timeout
	// after the request was sent (which may be billed). See Refused.
	Answered bool
	Last     error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("gave up after %s%s: last: %v", plural.Count(e.Attempts, "attempt"), e.Capped, e.Last)
}

func (e *GaveUpError) Unwrap() error { return e.Last }

// Timed bounds each call to next by timeout (as Retry's per-call timeout does, with the same
// TimeoutError naming name). Stack puts it under each endpoint's limits when Retry sits
// above a Balance of several endpoints, so that the timeout still measures the provider and
// not the rate limiter's queue.
func Timed(next Backend, timeout time.Duration, name string) Backend {
	if timeout <= 0 {
		return next
	}
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		return call(ctx, next, req, timeout, name)
	})
}

// call makes one attempt under the per-call timeout; name says where the timeout is set.
func call(ctx context.Context, next Backend, req Request, timeout time.Duration, name string) (Reply, error) {
	if timeout <= 0 {
		return next.Decide(ctx, req)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := next.Decide(cctx, req)
	if err != nil && cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		// The client says "context deadline exceeded", or a bare transport error: say which
		// limit it was, so that the reason names what to change.
		err = &TimeoutError{Timeout: timeout, Name: name, Err: err}
	}
	return r, err
}

// TimeoutError is a call that had no reply within its per-call timeout. It wraps the client's
// error (errors.As finds its *StatusError) and is context.DeadlineExceeded for errors.Is.
type TimeoutError struct {
	Timeout time.Duration
	Name    string // where the timeout is set, e.g. "backends[0].timeout"; may be ""
	Err     error
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("no reply within the timeout of %v", e.Timeout)
	if e.Name != "" {
		s += " (" + e.Name + ")"
	}
	if se, ok := errors.AsType[*StatusError](e.Err); ok && se.Provider != "" {
		s = se.Provider + ": " + s
	}
	return s
}

func (e *TimeoutError) Unwrap() []error { return []error{context.DeadlineExceeded, e.Err} }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notSent reports whether a call failed while connecting, so that no request reached the
// provider: a dial error (refused, unreachable, DNS) or a failed name lookup.
func notSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &dns)
}
