package openai

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
)

// firstCut answers its first request with HTTP 200 and a body cut off in transit, the
// others with okBody.
func firstCut() http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hijack(okBody[:len(okBody)/2])(w, r)
			return
		}
		jsonReply(200, okBody)(w, r)
	}
}

// A reply cut after HTTP 200 may have been billed: it is counted apart from failed calls, at
// the call's worst case, in the reply's cost, the meter and the budget's spend; and under a
// cap its retry reserves again, so a cap that holds one worst case refuses it.
func TestCutReplyCountsAgainstBudget(t *testing.T) {
	prices := backend.Prices{"gpt-4o-mini": {InputPerMTok: 0.15, OutputPerMTok: 0.60}}
	req := request()
	wi, wo := backend.WorstCase(req, DefaultMaxTokens)
	worst, _ := prices.Cost(Provider, "gpt-4o-mini", wi, wo)
	good, _ := prices.Cost(Provider, "gpt-4o-mini", 42, 7)
	stack := func(t *testing.T, s *server, b *backend.Budget, u *backend.Usage) backend.Backend {
		return backend.Stack([]backend.Backend{newTestClient(t, s)}, backend.StackConfig{
			ID:     backend.BackendID{Provider: Provider, Model: "gpt-4o-mini"},
			Retry:  backend.RetryPolicy{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }},
			Prices: prices, Usage: u, Budget: b, MaxOutput: DefaultMaxTokens,
		})
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

	t.Run("counted", func(t *testing.T) {
		s := newServer(t, firstCut())
		b, u := backend.NewBudget(1, 0), &backend.Usage{}
		rep, err := stack(t, s, b, u).Decide(context.Background(), req)
		if err != nil || !rep.Valid() {
			t.Fatalf("reply %+v, error %v", rep, err)
		}
		if rep.Calls != 2 || rep.FailedCalls != 0 || rep.UnusableCalls != 1 || s.NumCalls() != 2 {
			t.Errorf("calls %d (failed %d, unusable %d), server %d: want 2 (0, 1), 2", rep.Calls, rep.FailedCalls, rep.UnusableCalls, s.NumCalls())
		}
		if rep.InputTokens != 42 || rep.OutputTokens != 7 {
			t.Errorf("tokens %d+%d, want the good reply's 42+7 (the cut one's are not known)", rep.InputTokens, rep.OutputTokens)
		}
		if !near(rep.CostUSD, good+worst) || !near(b.Spent(), good+worst) {
			t.Errorf("cost %v, budget spent %v: want %v (the good reply) + %v (the cut one's worst case)", rep.CostUSD, b.Spent(), good, worst)
		}
		if tot := u.Total(); tot.UnusableCalls != 1 || tot.FailedCalls != 0 || !near(tot.CostUSD, good+worst) {
			t.Errorf("meter %+v: want 1 unusable call, 0 failed, cost %v", tot, good+worst)
		}
	})

	t.Run("cap refuses the retry", func(t *testing.T) {
		s := newServer(t, firstCut())
		b := backend.NewBudget(1.5*worst, 0) // one call's worst case, not two
		rep, err := stack(t, s, b, &backend.Usage{}).Decide(context.Background(), req)
		if !errors.Is(err, backend.ErrBudget) || !strings.Contains(err.Error(), "budget of $") || !strings.Contains(err.Error(), "HTTP 200") {
			t.Fatalf("error %v: want the budget's refusal of the retry", err)
		}
		if s.NumCalls() != 1 {
			t.Errorf("the server got %d calls, want 1 (the retry refused)", s.NumCalls())
		}
		if rep.Calls != 1 || rep.UnusableCalls != 1 || !near(rep.CostUSD, worst) || !near(b.Spent(), worst) {
			t.Errorf("reply %+v, spent %v: want 1 unusable call at its worst case %v", rep, b.Spent(), worst)
		}
	})
}

// A completion that names no model (some OpenAI-compatible servers leave "model" out) is the
// model asked's: the reply names it, and the cap settles and the meter records the call at
// its price, one number (see backend.Named).
func TestReplyNamingNoModelPricedAsTheModelAsked(t *testing.T) {
	prices := backend.Prices{"gpt-4o-mini": {InputPerMTok: 0.15, OutputPerMTok: 0.60}, "gpt-4o": {InputPerMTok: 2.5, OutputPerMTok: 10}}
	s := newServer(t, jsonReply(200, strings.Replace(okBody, `"model":"gpt-4o-mini-2024-07-18",`, "", 1)))
	b, u := backend.NewBudget(1, 0), &backend.Usage{}
	be := backend.Stack([]backend.Backend{newTestClient(t, s)}, backend.StackConfig{
		ID: backend.BackendID{Provider: Provider, Model: "gpt-4o-mini"}, Prices: prices, Usage: u, Budget: b, MaxOutput: DefaultMaxTokens,
	})
	rep, err := be.Decide(context.Background(), request())
	want, _ := prices.Cost(Provider, "gpt-4o-mini", 42, 7)
	if err != nil || rep.Model != "gpt-4o-mini" || rep.CostUSD != want || b.Spent() != want {
		t.Fatalf("reply of %q at $%v, cap's account $%v, %v; want gpt-4o-mini's $%v for both", rep.Model, rep.CostUSD, b.Spent(), err, want)
	}
	if tot := u.Total(); !tot.CostKnown || tot.CostUSD != want {
		t.Errorf("meter %+v; want $%v", tot, want)
	}
}
