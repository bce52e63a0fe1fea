// Package backend defines how agents decide: one Backend interface, the clients that
// implement it (LLM providers and the embedded behavioural model, in sub-packages), and the
// wrappers that add cross-cutting concerns (cache, rate limits, retries, cost, validity).
package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prosim/prosim/internal/schema"
)

// Backend makes one decision for one agent.
//
// An error means no usable answer could be had from the provider (network failure after
// retries, cancelled context, bad credentials): the decision is not recorded, and a resumed run
// asks again. A reply that the model gave but that does not fit the schema is not an error: it
// is returned with Invalid set, and is recorded as an invalid decision.
type Backend interface {
	Decide(ctx context.Context, req Request) (Reply, error)
}

// Func adapts a function to the Backend interface.
type Func func(ctx context.Context, req Request) (Reply, error)

// Decide calls f.
func (f Func) Decide(ctx context.Context, req Request) (Reply, error) { return f(ctx, req) }

// Request is one decision to make.
type Request struct {
	AgentID int
	// System is the system text (the rendered persona and the role).
	System string
	// Prompt is the user text: the rendered scenario, policy frame and observations.
	Prompt string
	// Repair holds earlier turns of this same decision when a reply was invalid and is re-asked.
	Repair []Turn
	// Schema is the typed response the reply must fit.
	Schema schema.Schema
	// Structured is the structured, non-text description of the decision (for prosim's
	// studies a *situation.Situation: the persona and the situation), read by backends that do
	// not read text (the behavioural model). LLM clients ignore it, and it is never part of the
	// cache key: LLMs see only System and Prompt.
	Structured any
	Sampling   Sampling
	// Replicate distinguishes repeated samples of the same request (part of the cache key).
	Replicate int
	// Levels names the factor levels the decision's Seed derives from besides its content and
	// replicate ("option_order=shuffled", several joined by ";"), empty without factors; the
	// runner sets it from the task's cell (study.Batch.Task). It is part of the cache key: two
	// levels that show the same texts (a decision without options under option_order) are
	// two draws, as they are without a cache, not one reply and its copy.
	Levels string
	// Seed is this decision's own seed, derived from the run seed; never part of the cache key.
	Seed uint64
	// N, when above 1, asks for N samples of this request in one call (OpenAI's n parameter):
	// a client that implements Multi returns the first as the reply and the others in
	// Reply.Samples; other clients ignore it. It is set by the cache's replicate fan-out
	// (see Stack) and is not part of the cache key.
	N int
}

// Multi is implemented by clients that can return several samples of one request in one call.
// Their Decide honours Request.N, which is how such a request travels through the wrappers.
type Multi interface {
	DecideN(ctx context.Context, req Request, n int) ([]Reply, error)
}

// Turn is one exchange of a repair conversation: what the model said, and what it was told.
type Turn struct {
	Assistant string
	User      string
}

// Sampling holds the sampling parameters sent to a provider. Nil means the provider's default.
type Sampling struct {
	Temperature *float64
	TopP        *float64
	MaxTokens   int
}

// Reply is a backend's answer to one Request.
type Reply struct {
	// Raw is the reply text exactly as received (the final attempt's when re-asked).
	Raw string
	// Values are the parsed, validated values; nil when Invalid is set.
	Values map[string]float64
	// Invalid is why the reply could not be used; empty when valid.
	Invalid  string
	Provider string // "openai", "anthropic", "gemini", "builtin"
	Model    string
	// ModelVersion is the model snapshot the provider says answered: OpenAI's response model
	// with its system_fingerprint ("gpt-4o-mini-2024-07-18 fp_44709d6fcb"), Anthropic's
	// response model, Gemini's modelVersion, the behavioural model's version. Empty when the
	// provider named none. A cache hit carries the version of the call that was cached.
	ModelVersion string
	InputTokens  int
	OutputTokens int
	// Calls is how many provider calls this reply took (0 when served from the cache).
	Calls int
	// FailedCalls are the calls among Calls that failed (an HTTP error status such as a 400, 429
	// or 5xx, or a timeout before the request was sent) and were retried or given up on: they reached the
	// provider, which does not usually bill them, and carry no tokens or cost.
	FailedCalls int
	// UnusableCalls are the calls among Calls (and not among FailedCalls) that the provider
	// answered with HTTP 2xx but whose reply could not be used: a body cut or malformed, not
	// the protocol's shape, too large; or that timed out after the request was sent (see
	// Retry). The provider may have billed them (it generated the
	// tokens), so they are counted at UnusableInputTokens and UnusableOutputTokens: the
	// reply's own usage when it said one, else the call's worst case (WorstCase). CostUSD
	// includes them; InputTokens and OutputTokens, what the provider counted, do not.
	UnusableCalls int
	// NoUsageCalls are the calls among Calls (and not among FailedCalls or UnusableCalls)
	// whose usable reply said no token usage (some gateways and older local servers leave it
	// out): the provider billed tokens it did not say, so each is counted at its worst case in
	// UnusableInputTokens and UnusableOutputTokens, as an unusable call is (CountNoUsage), and
	// InputTokens and OutputTokens, what the provider said, hold none of it.
	NoUsageCalls int
	// UnusableInputTokens and UnusableOutputTokens are the tokens of the calls whose tokens the
	// provider did not say or that could not be used: UnusableCalls' and NoUsageCalls'.
	UnusableInputTokens, UnusableOutputTokens int
	CostUSD                                   float64
	// Others are the tokens (unusable ones included) of this reply's calls that another model
	// than Model answered, by model: a re-ask answered by another model than the reply it
	// repairs (a gateway or router may switch). The tokens above include them; Meter prices
	// each at its own model, as Budgeted settles each call. Nil when one model answered all.
	Others  []ModelTokens
	Latency time.Duration
	Cached  bool
	// Samples are the further samples of a call made with Request.N above 1, in the server's
	// order; they carry no calls or tokens (the reply itself accounts for the whole call).
	Samples []Reply
	// Repairs are the attempts before this one when the reply was re-asked (Validate), in
	// order: what each said, why it was unusable and the repair message sent after it.
	Repairs []Attempt
}

// Unspent is r without what its calls spent (calls, tokens, cost, other models' tokens): a
// copy of a reply whose calls another decision carries. Others goes too: with no tokens left,
// Meter would otherwise price them against the reply's own model.
func (r Reply) Unspent() Reply {
	r.Calls, r.FailedCalls, r.UnusableCalls, r.NoUsageCalls = 0, 0, 0, 0
	r.InputTokens, r.OutputTokens, r.UnusableInputTokens, r.UnusableOutputTokens = 0, 0, 0, 0
	r.CostUSD, r.Others = 0, nil
	return r
}

// ModelTokens are the tokens some calls of one provider/model were billed (Reply.Others).
type ModelTokens struct {
	Provider, Model           string
	InputTokens, OutputTokens int
}

// othersOf are the tokens of replies a and b that a reply naming provider and model, summing
// both, has from other models (its Others): each reply's own tokens under its model and its
// Others, merged by model, without that model's.
func othersOf(a, b Reply, provider, model string) []ModelTokens {
	var out []ModelTokens
	for _, r := range []Reply{a, b} {
		own := ModelTokens{Provider: r.Provider, Model: r.Model, InputTokens: r.InputTokens + r.UnusableInputTokens, OutputTokens: r.OutputTokens + r.UnusableOutputTokens}
		for _, o := range r.Others {
			own.InputTokens -= o.InputTokens
			own.OutputTokens -= o.OutputTokens
		}
		for _, t := range append(slices.Clip(r.Others), own) {
			if (t.Provider == provider && t.Model == model) || t.InputTokens+t.OutputTokens == 0 {
				continue
			}
			if i := slices.IndexFunc(out, func(o ModelTokens) bool { return o.Provider == t.Provider && o.Model == t.Model }); i >= 0 {
				out[i].InputTokens += t.InputTokens
				out[i].OutputTokens += t.OutputTokens
			} else {
				out = append(out, t)
			}
		}
	}
	return out
}

// Attempt is an unusable reply that was asked again.
type Attempt struct {
	Raw     string
	Invalid string
	// Repair is the message sent after it ("" when the same request was sent again, as
	// after an empty reply).
	Repair string
}

// Valid reports whether the reply carries usable values.
func (r Reply) Valid() bool { return r.Invalid == "" && r.Values != nil }

// StatusError is an HTTP failure from a provider, used by the retry wrapper.
type StatusError struct {
	Provider   string
	Status     int           // HTTP status code; 0 for transport failures and timeouts
	RetryAfter time.Duration // from a Retry-After header; 0 if absent
	Body       string        // a short excerpt of the response body, never containing the API key
	// NotConnected is a worker's failure to connect, as Reason says it (the network error
	// itself stays on the worker); "" for any other failure. See Unreachable.
	NotConnected string
	// Unusable says the provider answered with HTTP 2xx but the reply could not be used (a
	// body cut or malformed, not the protocol's shape, a stream that broke off): it may have
	// billed the call, which counts at InputTokens and OutputTokens (the reply's usage when it
	// said one, else the call's worst case), priced as Model's. See Reply.UnusableCalls.
	Unusable                  bool
	Model                     string
	InputTokens, OutputTokens int
	Err                       error
}

func (e *StatusError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s: %v", e.Provider, e.Err)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Provider, e.Status, e.Body)
}

func (e *StatusError) Unwrap() error { return e.Err }

// Retryable reports whether the failure is worth trying again: rate limits, server errors,
// timeouts and transport failures, but not a transport failure that is a ConfigError (a
// redirect refused), which every attempt would meet.
func (e *StatusError) Retryable() bool {
	if _, ok := errors.AsType[*ConfigError](e.Err); ok {
		return false
	}
	return e.Status == 0 || e.Status == 408 || e.Status == 409 || e.Status == 429 || e.Status >= 500
}
