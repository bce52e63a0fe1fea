package backend

import (
	"context"
	"errors"
	"testing"
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
	be := Budgeted(f, b, prices, "openai", "gpt-4o-mini", 256)
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
	_, err := Budgeted(f, tight, prices, "openai", "gpt-4o-mini", 256).Decide(context.Background(), req)
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
	_, err := Validate(Budgeted(f, b, prices, "openai", "gpt-4o-mini", 256), 2).Decide(context.Background(), req)
	if !errors.Is(err, ErrBudget) || f.calls.Load() != 1 || b.Spent() != 110 {
		t.Fatalf("re-ask over the cap: err %v, %d calls, $%v spent", err, f.calls.Load(), b.Spent())
	}
}

func TestBudgetedNeedsAPrice(t *testing.T) {
	_, err := Budgeted(&fake{}, NewBudget(10, 0), Prices{}, "openai", "mystery", 256).Decide(context.Background(), testReq("x", 1))
	if err == nil || errors.Is(err, ErrBudget) {
		t.Fatalf("unknown price: %v", err)
	}
}
