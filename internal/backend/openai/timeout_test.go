package openai

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
)

// A call that timed out may have been billed only when its request was sent: one whose
// connection could not be made in time (the dial outlives the per-call timeout) stays a
// failed call at $0, in the reply, the meter and the budget, and its retry reserves nothing
// more (a cap of one worst case lets both attempts go). One whose request was sent counts as an
// unusable call at its worst case, and such a cap refuses its retry.
func TestTimeoutBilledOnlyWhenSent(t *testing.T) {
	prices := backend.Prices{"gpt-4o-mini": {InputPerMTok: 0.15, OutputPerMTok: 0.60}}
	req := request()
	wi, wo := backend.WorstCase(req, DefaultMaxTokens)
	worst, _ := prices.Cost(Provider, "gpt-4o-mini", wi, wo)
	stack := func(c *Client, b *backend.Budget, u *backend.Usage) backend.Backend {
		return backend.Stack([]backend.Backend{c}, backend.StackConfig{
			ID:     backend.BackendID{Provider: Provider, Model: "gpt-4o-mini"},
			Retry:  backend.RetryPolicy{MaxAttempts: 2, Timeout: 100 * time.Millisecond, Sleep: func(context.Context, time.Duration) error { return nil }},
			Prices: prices, Usage: u, Budget: b, MaxOutput: DefaultMaxTokens,
		})
	}

	t.Run("dial", func(t *testing.T) {
		s := newServer(t, jsonReply(200, okBody))
		hung := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done() // a server that never completes the connection
			return nil, ctx.Err()
		}}
		c := newTestClient(t, s, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: hung} })
		b, u := backend.NewBudget(1.5*worst, 0), &backend.Usage{}
		rep, err := stack(c, b, u).Decide(context.Background(), req)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, backend.ErrBudget) {
			t.Fatalf("error %v; want the timeout after 2 attempts", err)
		}
		if rep.Calls != 2 || rep.FailedCalls != 2 || rep.UnusableCalls != 0 || rep.CostUSD != 0 || s.NumCalls() != 0 {
			t.Errorf("reply %+v, server %d calls; want 2 failed calls at $0, none served", rep, s.NumCalls())
		}
		if b.Spent() != 0 || u.Total().CostUSD != 0 || u.Total().UnusableCalls != 0 {
			t.Errorf("spent $%v, meter %+v; want $0, no unusable call", b.Spent(), u.Total())
		}
	})

	t.Run("sent", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			jsonReply(200, okBody)(w, r)
		})
		b, u := backend.NewBudget(1.5*worst, 0), &backend.Usage{}
		rep, err := stack(newTestClient(t, s), b, u).Decide(context.Background(), req)
		if !errors.Is(err, backend.ErrBudget) {
			t.Fatalf("error %v; want the cap's refusal of the retry", err)
		}
		if rep.Calls != 1 || rep.FailedCalls != 0 || rep.UnusableCalls != 1 || math.Abs(rep.CostUSD-worst) > 1e-12 {
			t.Errorf("reply %+v; want 1 unusable call at its worst case $%v", rep, worst)
		}
		if math.Abs(b.Spent()-worst) > 1e-12 || math.Abs(u.Total().CostUSD-worst) > 1e-12 {
			t.Errorf("spent $%v, meter $%v; want $%v", b.Spent(), u.Total().CostUSD, worst)
		}
	})
}
