package backend

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBudgetedReservesWorstCaseAndSettlesActual(t *testing.T) {
	prices := Prices{"gpt-4o-mini": {InputPerMTok: 1e6, OutputPerMTok: 1e6}} // $1 a token
	req := testReq("Would you volunteer?", 1)
	in, out := WorstCase(req, 256)
	if out != 50 || in < len(req.System)+len(req.Prompt) {
		t.Fatalf("worst case %d in, %d out", in, out)
	}
	worst := float64(in + out)
	// Room for exactly two calls' worst case: the third is refused without a call.
	b := NewBudget(2*worst+0.5, 0)
	f := &fake{}
	be := Budgeted(f, b, prices, "openai", "gpt-4o-mini", 256, nil)
	for i := range 2 {
		if _, err := be.Decide(context.Background(), req); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	// fake bills 100 + 10 tokens a call.
	if got := b.Spent(); got != 220 {
		t.Fatalf("spent %v, want 220", got)
	}
	// Settled calls returned their reservations: a third call fits now.
	if _, err := be.Decide(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	tight := NewBudget(worst-1, 0)
	_, err := Budgeted(f, tight, prices, "openai", "gpt-4o-mini", 256, nil).Decide(context.Background(), req)
	var be2 *BudgetError
	if !errors.Is(err, ErrBudget) || !errors.As(err, &be2) || be2.NextUSD != worst {
		t.Fatalf("over the cap: %v", err)
	}
	if f.calls.Load() != 3 {
		t.Fatalf("%d calls made, want 3 (the refused one is not made)", f.calls.Load())
	}
}

func TestBudgetedReAsksReserve(t *testing.T) {
	prices := Prices{"gpt-4o-mini": {InputPerMTok: 1e6, OutputPerMTok: 1e6}}
	req := testReq("Would you volunteer?", 1)
	in, out := WorstCase(req, 256)
	// One call fits, not a re-ask: the invalid first reply is re-asked, and the re-ask is refused.
	f := &fake{raws: []string{"not json", `{"willingness": 4}`}}
	b := NewBudget(float64(in+out)+200, 0)
	_, err := Validate(Budgeted(f, b, prices, "openai", "gpt-4o-mini", 256, nil), 2).Decide(context.Background(), req)
	if !errors.Is(err, ErrBudget) || f.calls.Load() != 1 || b.Spent() != 110 {
		t.Fatalf("re-ask over the cap: err %v, %d calls, $%v spent", err, f.calls.Load(), b.Spent())
	}
}

func TestBudgetedNeedsAPrice(t *testing.T) {
	_, err := Budgeted(&fake{}, NewBudget(10, 0), Prices{}, "openai", "mystery", 256, nil).Decide(context.Background(), testReq("x", 1))
	if err == nil || errors.Is(err, ErrBudget) {
		t.Fatalf("unknown price: %v", err)
	}
}

// A reservation that does not fit while calls are in flight waits for them to settle and
// tries again; with none in flight it is refused (QA10: every refusal stopped the run while
// the calls in flight settled at a fraction of their worst case).
func TestBudgetWaitsForCallsInFlight(t *testing.T) {
	b := NewBudget(10, 0)
	if err := b.Reserve(context.Background(), 6); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- b.Reserve(context.Background(), 6) }()
	select {
	case err := <-got:
		t.Fatalf("reserved past the cap while a call was in flight: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	b.Settle(6, 1)
	if err := <-got; err != nil {
		t.Fatalf("after the call in flight settled: %v", err)
	}
	b.Settle(6, 1)
	// Nothing in flight, and 2 + 9 > 10: refused at once.
	var be *BudgetError
	if err := b.Reserve(context.Background(), 9); !errors.As(err, &be) || be.SpentUSD != 2 || be.ReservedUSD != 0 {
		t.Fatalf("with nothing in flight: %v", err)
	}
	// A growth of a reservation held does not wait.
	if err := b.Reserve(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tryReserve(5, false, true); !errors.As(err, &be) || be.ReservedUSD != 5 {
		t.Fatalf("a growth with a call in flight: %v", err)
	}
	// An interrupt ends the wait at once.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { got <- b.Reserve(ctx, 5) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted wait: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an interrupt did not end the wait")
	}
}

// Eight calls at once, room for two worst cases and the actual spend of all: every call is
// made, and the spend stays within the cap.
func TestBudgetedConcurrentCallsShareTheCap(t *testing.T) {
	prices := Prices{"gpt-4o-mini": {InputPerMTok: 1e6, OutputPerMTok: 1e6}}
	req := testReq("Would you volunteer?", 1)
	in, out := WorstCase(req, 256)
	worst := float64(in + out)
	b := NewBudget(2*worst+8*110, 0)
	f := &fake{}
	slow := Func(func(ctx context.Context, req Request) (Reply, error) {
		time.Sleep(5 * time.Millisecond) // all eight in flight at once
		return f.Decide(ctx, req)
	})
	be := Budgeted(slow, b, prices, "openai", "gpt-4o-mini", 256, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := be.Decide(context.Background(), req)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.calls.Load() != 8 || b.Spent() != 880 {
		t.Fatalf("%d calls, $%v spent; want 8 calls, $880", f.calls.Load(), b.Spent())
	}
}

// servedAs is a gateway: f's replies, naming model instead of the requested one. It counts
// the calls in flight at once.
func servedAs(f *fake, model string, wait time.Duration, inFlight, most *atomic.Int64) Backend {
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(wait)
		r, err := f.Decide(ctx, req)
		r.Model = model
		return r, err
	})
}

// A gateway answering gpt-4o-mini requests with gpt-4o (QA12): the cap settles each call at
// the price of the model the reply names, the cost Meter records; after the first reply the
// reservations are at that dearer price; the first call goes alone, so the spend passes the cap
// by at most that call's excess over its reservation.
func TestBudgetedPricesTheModelTheReplyNames(t *testing.T) {
	prices := Prices{"gpt-4o-mini": {InputPerMTok: 1e6, OutputPerMTok: 1e6}, "gpt-4o": {InputPerMTok: 10e6, OutputPerMTok: 10e6}}
	req := testReq("Would you volunteer?", 1)
	in, out := WorstCase(req, 256)
	mini, dear := float64(in+out), float64(10*(in+out))
	// fake bills 100 + 10 tokens a call: $1100 at gpt-4o, more than mini's worst case.
	if mini >= 1100 {
		t.Fatalf("the test needs a first call dearer than its reservation: worst case $%v", mini)
	}
	capUSD := 3 * dear
	b := NewBudget(capUSD, 0)
	var inFlight, most atomic.Int64
	f := &fake{}
	var u Usage
	be := Meter(Budgeted(servedAs(f, "gpt-4o-2024-08-06", 5*time.Millisecond, &inFlight, &most), b, prices, "openai", "gpt-4o-mini", 256, nil), prices, &u)
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 8 {
		wg.Go(func() {
			if _, err := be.Decide(context.Background(), req); errors.Is(err, ErrBudget) {
				refused.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	calls := f.calls.Load()
	if most.Load() > 3 || calls+refused.Load() != 8 {
		t.Fatalf("%d calls, %d refused, at most %d at once", calls, refused.Load(), most.Load())
	}
	tot := u.Total()
	if !tot.CostKnown || tot.CostUSD != float64(calls)*1100 || b.Spent() != tot.CostUSD {
		t.Fatalf("cap's account $%v, recorded $%v (known %v), for %d calls at $1100", b.Spent(), tot.CostUSD, tot.CostKnown, calls)
	}
	if b.Spent() > capUSD {
		t.Fatalf("spent $%v past the cap $%v", b.Spent(), capUSD)
	}
	// The next reservation is gpt-4o's worst case.
	var be2 *BudgetError
	if _, err := be.Decide(context.Background(), req); !errors.As(err, &be2) || be2.NextUSD != dear {
		t.Fatalf("after gpt-4o replies: %v; want a refusal of $%v", err, dear)
	}
}

// The first call of a model dearer than its reservation settles at its cost, which may pass
// the cap; then no further call is made.
func TestBudgetedFirstDearerCallPassesTheCapOnce(t *testing.T) {
	prices := Prices{"gpt-4o-mini": {InputPerMTok: 1e6, OutputPerMTok: 1e6}, "gpt-4o": {InputPerMTok: 10e6, OutputPerMTok: 10e6}}
	req := testReq("Would you volunteer?", 1)
	in, out := WorstCase(req, 256)
	b := NewBudget(float64(in+out)+1, 0) // one mini worst case
	var inFlight, most atomic.Int64
	f := &fake{}
	be := Budgeted(servedAs(f, "gpt-4o", 5*time.Millisecond, &inFlight, &most), b, prices, "openai", "gpt-4o-mini", 256, nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { be.Decide(context.Background(), req) })
	}
	wg.Wait()
	if f.calls.Load() != 1 || b.Spent() != 1100 {
		t.Fatalf("%d calls, $%v spent; want the first call alone, $1100", f.calls.Load(), b.Spent())
	}
}

// A reply naming a model with no price: Meter records an unknown cost, the cap counts the call
// at its reservation (the configured model's worst case), not at nothing.
func TestBudgetedUnpricedReplyModel(t *testing.T) {
	prices := Prices{"gpt-4o-mini": {InputPerMTok: 1e6, OutputPerMTok: 1e6}}
	req := testReq("Would you volunteer?", 1)
	in, out := WorstCase(req, 256)
	b := NewBudget(10*float64(in+out), 0)
	var inFlight, most atomic.Int64
	var u Usage
	be := Meter(Budgeted(servedAs(&fake{}, "weird-model-x", 0, &inFlight, &most), b, prices, "openai", "gpt-4o-mini", 256, nil), prices, &u)
	r, err := be.Decide(context.Background(), req)
	if err != nil || !math.IsNaN(r.CostUSD) || b.Spent() != float64(in+out) {
		t.Fatalf("err %v, recorded cost %v, cap's account $%v; want NaN and $%v", err, r.CostUSD, b.Spent(), in+out)
	}
}

// A call that grows its reservation (the retry of a reply unusable after HTTP 200) is refused
// at once when the growth does not fit, other calls in flight or not: it holds its
// concurrency slot, which those calls may be waiting for (a run with two workers and a local
// server's adaptive limit of one hung when it waited).
func TestBudgetGrowthNeverWaits(t *testing.T) {
	b := NewBudget(10, 0)
	for range 2 { // this call and another in flight
		if err := b.Reserve(context.Background(), 4); err != nil {
			t.Fatal(err)
		}
	}
	grown := make(chan error, 1)
	go func() { grown <- b.reserve(context.Background(), 4, true) }()
	var be *BudgetError
	select {
	case err := <-grown:
		if !errors.As(err, &be) || be.ReservedUSD != 8 {
			t.Fatalf("growth past the cap: %v, want a refusal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a growth past the cap waits")
	}
	b.Settle(4, 1)                                                   // the other call
	if err := b.reserve(context.Background(), 4, true); err != nil { // 1 spent + 4 + 4 fit
		t.Fatal(err)
	}
	b.Settle(8, 8)
	if b.Spent() != 9 {
		t.Fatalf("spent %v, want 9", b.Spent())
	}
}

// A reply whose response named no model (an OpenAI-compatible server that leaves "model"
// out, through any endpoint) is the configured model's: the cap settles it and Meter records
// it at that one price, under that model. Before, the cap priced it at the configured model
// and Meter at an unknown price (NaN), under a model named "".
func TestReplyNamingNoModelIsPricedOnce(t *testing.T) {
	prices := Prices{"gpt-4o-mini": {InputPerMTok: 0.15, OutputPerMTok: 0.60}}
	unnamed := Func(func(context.Context, Request) (Reply, error) {
		return Reply{Raw: `{"willingness": 5}`, Provider: "openai", InputTokens: 100, OutputTokens: 10, Calls: 1}, nil
	})
	b, u := NewBudget(1, 0), &Usage{}
	be := Stack([]Backend{unnamed}, StackConfig{ID: BackendID{Provider: "openai", Model: "gpt-4o-mini"}, Prices: prices, Usage: u, Budget: b, MaxOutput: 256})
	r, err := be.Decide(context.Background(), testReq("Would you volunteer?", 1))
	want, _ := prices.Cost("openai", "gpt-4o-mini", 100, 10)
	if err != nil || r.Model != "gpt-4o-mini" || r.CostUSD != want || b.Spent() != want {
		t.Fatalf("reply of %q at $%v, cap's account $%v, %v; want gpt-4o-mini's $%v for both", r.Model, r.CostUSD, b.Spent(), err, want)
	}
	if rows := u.ByModel(); len(rows) != 1 || rows[0].Model != "gpt-4o-mini" || !rows[0].CostKnown || rows[0].CostUSD != want {
		t.Errorf("usage %+v; want one row, gpt-4o-mini at $%v", rows, want)
	}
}
