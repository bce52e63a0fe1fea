package openai

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
)

// A backend with no per-call timeout and one attempt (timeout off, max_attempts: 1) retries
// nothing, and its chain still counts what a call may have cost, as with retries on: a reply
// without usage at its worst case, and a call cut off by the caller (Ctrl-C) after its request
// was written as an unusable call at its worst case. Before, Stack left Retry, which counts
// both, out of such a chain: the reply cost $0 and the cut-off call was counted nowhere.
func TestOneAttemptNoTimeoutStillCounts(t *testing.T) {
	prices := backend.Prices{"gpt-4o-mini": {InputPerMTok: 0.15, OutputPerMTok: 0.60}}
	req := request()
	wi, wo := backend.WorstCase(req, DefaultMaxTokens)
	worst, _ := prices.Cost(Provider, "gpt-4o-mini", wi, wo)
	stack := func(s *server, b *backend.Budget, u *backend.Usage) backend.Backend {
		return backend.Stack([]backend.Backend{newTestClient(t, s)}, backend.StackConfig{
			ID:     backend.BackendID{Provider: Provider, Model: "gpt-4o-mini"},
			Retry:  backend.RetryPolicy{MaxAttempts: 1},
			Prices: prices, Usage: u, Budget: b, MaxOutput: DefaultMaxTokens,
		})
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

	t.Run("no usage", func(t *testing.T) {
		s := newServer(t, jsonReply(200, strings.Replace(okBody, `,
 "usage":{"prompt_tokens":42,"completion_tokens":7,"total_tokens":49}`, "", 1)))
		b, u := backend.NewBudget(1, 0), &backend.Usage{}
		rep, err := stack(s, b, u).Decide(context.Background(), req)
		if err != nil || !rep.Valid() {
			t.Fatalf("reply %+v, %v", rep, err)
		}
		if rep.Calls != 1 || rep.NoUsageCalls != 1 || !near(rep.CostUSD, worst) || !near(b.Spent(), worst) || !near(u.Total().CostUSD, worst) {
			t.Errorf("reply %+v, spent $%v, meter $%v; want 1 call without usage at its worst case $%v", rep, b.Spent(), u.Total().CostUSD, worst)
		}
	})

	t.Run("cut off after sending", func(t *testing.T) {
		got := make(chan struct{})
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			close(got)
			<-r.Context().Done() // no reply before the caller gives up
		})
		b, u := backend.NewBudget(1, 0), &backend.Usage{}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-got
			time.Sleep(20 * time.Millisecond) // the client has seen its request written
			cancel()
		}()
		rep, err := stack(s, b, u).Decide(ctx, req)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v; want the caller's cancellation", err)
		}
		if rep.Calls != 1 || rep.UnusableCalls != 1 || !near(rep.CostUSD, worst) || !near(b.Spent(), worst) || !near(u.Total().CostUSD, worst) {
			t.Errorf("reply %+v, spent $%v, meter $%v; want 1 unusable call at its worst case $%v", rep, b.Spent(), u.Total().CostUSD, worst)
		}
	})
}
