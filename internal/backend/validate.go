package backend

import (
	"context"
	"slices"

	"github.com/prosim/prosim/internal/schema"
)

// Validate makes sure every reply fits req.Schema. A reply without Values is parsed from its
// Raw text (schema.Parse); a reply that already has Values (the behavioural model, or a
// client using structured output) is checked with Schema.Validate. An unusable reply is asked
// again, up to maxRepairs times, with the conversation so far in req.Repair: the model's reply
// and a message saying what was wrong. A reply still unusable after that is returned with
// Invalid set to the last reason and Raw the last text: an invalid decision, not an error.
// A reply with Values but no Raw text is not re-asked: there is nothing to show the model; an
// empty reply is re-asked unchanged.
//
// The returned reply accounts for every attempt: Calls, tokens, cost and latency are summed.
// If an attempt fails with an error after earlier attempts were paid for, that error is
// returned with the reply so far, so that a Meter above still counts what was spent.
//
// Validate sits above RateLimit and Retry (each re-ask is a provider call that must be
// rate-limited and retried), above the Cache (which stores each turn's answer under the key
// of the request with its repair turns, so a re-run replays the conversation and re-parses
// it) and below Collapse (identical requests share the whole conversation).
func Validate(next Backend, maxRepairs int) Backend {
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		var acc Reply
		var repairs []Attempt
		for attempt := 0; ; attempt++ {
			r, err := next.Decide(ctx, req)
			if err != nil {
				if attempt == 0 {
					return r, err
				}
				return addSpent(acc, r), err // the failed call's attempts (from Retry) count too
			}
			acc = accumulate(acc, r, attempt)
			acc.Repairs = repairs
			reason := check(req.Schema, &acc)
			if reason == "" {
				return acc, nil
			}
			hadValues := r.Values != nil
			acc.Values, acc.Invalid = nil, reason
			if attempt >= maxRepairs || (hadValues && acc.Raw == "") || ctx.Err() != nil {
				return acc, nil
			}
			if acc.Raw == "" {
				repairs = append(repairs, Attempt{Invalid: reason})
				continue // an empty reply: ask the same again (APIs refuse empty assistant turns)
			}
			msg := schema.RepairMessage(reason, req.Schema)
			repairs = append(repairs, Attempt{Raw: acc.Raw, Invalid: reason, Repair: msg})
			// A fresh slice: the caller's req.Repair must not be appended to in place.
			req.Repair = append(slices.Clip(req.Repair), Turn{Assistant: acc.Raw, User: msg})
		}
	})
}

// accumulate takes the latest attempt's answer and adds its spending to the earlier ones'.
func accumulate(acc, r Reply, attempt int) Reply {
	if attempt == 0 {
		return r
	}
	r.Others = othersOf(acc, r, r.Provider, r.Model) // each call priced at its own model (Meter)
	r.Calls += acc.Calls
	r.FailedCalls += acc.FailedCalls
	r.UnusableCalls += acc.UnusableCalls
	r.NoUsageCalls += acc.NoUsageCalls
	r.UnusableInputTokens += acc.UnusableInputTokens
	r.UnusableOutputTokens += acc.UnusableOutputTokens
	r.InputTokens += acc.InputTokens
	r.OutputTokens += acc.OutputTokens
	r.CostUSD += acc.CostUSD
	r.Latency += acc.Latency
	r.Cached = r.Cached && acc.Cached
	return r
}

// check parses or validates r's values in place and returns why they are unusable, or "".
func check(s schema.Schema, r *Reply) string {
	if r.Values != nil {
		if err := s.Validate(r.Values); err != nil {
			return err.Error()
		}
		r.Invalid = ""
		return ""
	}
	vals, err := schema.Parse(s, r.Raw)
	if err != nil {
		if r.Invalid != "" { // the client knew why (e.g. truncated at max tokens, blocked)
			return r.Invalid
		}
		return err.Error()
	}
	r.Values, r.Invalid = vals, ""
	return ""
}
