package backend

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

func TestPricesLookup(t *testing.T) {
	p := DefaultPrices()
	for _, tc := range []struct {
		provider, model, want string // want: the table entry, "" for unknown
	}{
		{"openai", "gpt-4o", "gpt-4o"},
		{"openai", "gpt-4o-2024-08-06", "gpt-4o"},
		{"openai", "gpt-4o-mini", "gpt-4o-mini"},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"openai", "gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"},
		{"anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"anthropic", "claude-opus-4-1@20250805", "claude-opus-4-1"},
		{"gemini", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite"},
		{"gemini", "gemini-2.5-pro-latest", "gemini-2.5-pro"},
		{"gemini", "gemini-2.5-flash-preview-05-20", ""},
		{"openai", "gpt-4o-audio", ""},
		{"openai", "llama-3.1-8b-instruct", ""},
		{"anthropic", "claude-sonnet-4", ""},
	} {
		pr, ok := p.Lookup(tc.provider, tc.model)
		if ok != (tc.want != "") || (ok && pr != p[tc.want]) {
			t.Errorf("Lookup(%s) = %v, %v; want %q", tc.model, pr, ok, tc.want)
		}
	}
	// Overrides: a local model priced at zero, a provider-specific entry.
	q := p.With(Prices{"llama-3.1-8b-instruct": {}, "azure/gpt-4o": {InputPerMTok: 5, OutputPerMTok: 15}})
	if c, ok := q.Cost("openai", "llama-3.1-8b-instruct", 1000, 100); !ok || c != 0 {
		t.Errorf("zero-priced local model: %v, %v", c, ok)
	}
	if c, _ := q.Cost("azure", "gpt-4o", 1e6, 1e6); c != 20 {
		t.Errorf("provider-specific price: %v, want 20", c)
	}
	if c, _ := q.Cost("openai", "gpt-4o", 1e6, 1e6); c != 12.5 {
		t.Errorf("gpt-4o 1M+1M tokens: %v, want 12.5", c)
	}
	// A dated snapshot takes a qualified user price as it takes a bare one (QA12: the reply's
	// "gpt-4o-mini-2024-07-18" fell through to the default table's bare price).
	user := p.With(Prices{"openai/gpt-4o-mini": {InputPerMTok: 10, OutputPerMTok: 10}, "anthropic/claude-opus-4-1": {InputPerMTok: 1, OutputPerMTok: 2}, "gpt-4.1": {InputPerMTok: 7, OutputPerMTok: 7}})
	for _, tc := range []struct {
		provider, model string
		want            Price
	}{
		{"openai", "gpt-4o-mini", Price{10, 10}},
		{"openai", "gpt-4o-mini-2024-07-18", Price{10, 10}},
		{"anthropic", "claude-opus-4-1-20250805", Price{1, 2}},
		{"anthropic", "claude-opus-4-1@20250805", Price{1, 2}},
		{"openai", "gpt-4.1-2025-04-14", Price{7, 7}},          // a bare user price
		{"azure", "gpt-4o-mini-2024-07-18", p["gpt-4o-mini"]},  // another provider's price is not it
		{"", "claude-opus-4-1-20250805", p["claude-opus-4-1"]}, // no provider: bare names only
		{"openai", "gpt-4o-2024-08-06", p["gpt-4o"]},           // "openai/gpt-4o-mini" is no base of it
	} {
		if pr, ok := user.Lookup(tc.provider, tc.model); !ok || pr != tc.want {
			t.Errorf("with user prices, Lookup(%s, %s) = %v, %v; want %v", tc.provider, tc.model, pr, ok, tc.want)
		}
	}
	if _, ok := p["llama-3.1-8b-instruct"]; ok {
		t.Error("With modified the receiver")
	}
	if c, ok := p.Cost("x", "unknown-model", 10, 1); ok || !math.IsNaN(c) {
		t.Errorf("unknown model: %v, %v; want NaN, false", c, ok)
	}
	if c, ok := p.Cost("x", "unknown-model", 0, 0); !ok || c != 0 {
		t.Errorf("no tokens: %v, %v; want 0, true", c, ok)
	}
}

func TestMeterUsage(t *testing.T) {
	replies := map[string]Reply{
		"mini":    {Provider: "openai", Model: "gpt-4o-mini", Values: map[string]float64{"willingness": 5}, Calls: 1, InputTokens: 1_000_000, OutputTokens: 100_000},
		"repair":  {Provider: "openai", Model: "gpt-4o-mini", Values: map[string]float64{"willingness": 5}, Calls: 2, InputTokens: 2_000_000, OutputTokens: 0},
		"hit":     {Provider: "openai", Model: "gpt-4o-mini", Values: map[string]float64{"willingness": 5}, Cached: true},
		"invalid": {Provider: "openai", Model: "gpt-4o-mini", Raw: "?", Invalid: "no number", Calls: 1, InputTokens: 10},
		"local":   {Provider: "openai", Model: "my-finetune", Values: map[string]float64{"willingness": 5}, Calls: 1, InputTokens: 100, OutputTokens: 10},
	}
	boom := errors.New("boom")
	inner := Func(func(ctx context.Context, r Request) (Reply, error) {
		if r.Prompt == "error" {
			return Reply{}, boom
		}
		return replies[r.Prompt], nil
	})
	var u Usage
	b := Meter(inner, DefaultPrices(), &u)
	ctx := context.Background()
	r, _ := b.Decide(ctx, testReq("mini", 0))
	if want := 0.15 + 0.06; math.Abs(r.CostUSD-want) > 1e-12 {
		t.Fatalf("cost %v, want %v", r.CostUSD, want)
	}
	var wg sync.WaitGroup
	for _, p := range []string{"repair", "hit", "invalid", "local", "error", "hit"} {
		wg.Go(func() { b.Decide(ctx, testReq(p, 0)) })
	}
	wg.Wait()
	if r, _ := b.Decide(ctx, testReq("local", 0)); !math.IsNaN(r.CostUSD) {
		t.Fatalf("unknown price gave cost %v, want NaN", r.CostUSD)
	}
	by := u.ByModel()
	var mini, local ModelUsage
	for _, m := range by {
		switch m.Model {
		case "gpt-4o-mini":
			mini = m
		case "my-finetune":
			local = m
		}
	}
	want := ModelUsage{Provider: "openai", Model: "gpt-4o-mini", Decisions: 5, Calls: 4, InputTokens: 3_000_010, OutputTokens: 100_000,
		CostUSD: 0.15 + 0.06 + 0.30 + 10*0.15/1e6, CostKnown: true, CacheHits: 2, Invalid: 1}
	if math.Abs(mini.CostUSD-want.CostUSD) > 1e-12 {
		t.Fatalf("mini cost %v, want %v", mini.CostUSD, want.CostUSD)
	}
	mini.CostUSD = want.CostUSD
	if mini != want {
		t.Fatalf("mini usage\n got %+v\nwant %+v", mini, want)
	}
	if local.CostKnown || local.Decisions != 2 || local.InputTokens != 200 {
		t.Fatalf("local usage %+v, want unknown cost", local)
	}
	tot := u.Total()
	if tot.CostKnown || tot.Decisions != 7 || tot.Errors != 1 || tot.Calls != 6 || tot.CacheHits != 2 {
		t.Fatalf("total %+v", tot)
	}
}

func TestEstimateTokens(t *testing.T) {
	short := testReq("Would you volunteer?", 0)
	short.Sampling.MaxTokens = 0
	long := short
	long.Prompt = strings.Repeat("word ", 400) // 2000 characters, ~500 tokens
	in1, out1 := EstimateIO(short)
	in2, out2 := EstimateIO(long)
	if in2-in1 < 450 || in2-in1 > 550 {
		t.Errorf("2000 more characters added %d input tokens, want about 500", in2-in1)
	}
	if out1 != out2 || out1 < 5 || out1 > 30 {
		t.Errorf("output estimate for one likert field = %d", out1)
	}
	long.Sampling.MaxTokens = 300
	if _, out := EstimateIO(long); out != 300 {
		t.Errorf("with MaxTokens 300, output estimate %d", out)
	}
	long.Repair = []Turn{{Assistant: strings.Repeat("x", 400), User: strings.Repeat("y", 400)}}
	if in3, _ := EstimateIO(long); in3-in2 < 200 {
		t.Errorf("repair turns added only %d tokens", in3-in2)
	}
	if EstimateTokens(long) != func() int { a, b := EstimateIO(long); return a + b }() {
		t.Error("EstimateTokens != in + out")
	}
}

// A tokenizer's counts replace the length estimate of every text; the message overhead and
// the output estimate stay.
func TestEstimateIOWith(t *testing.T) {
	req := testReq("p", 0)
	req.Repair = []Turn{{Assistant: "a", User: "u"}}
	var texts []string
	in, out := EstimateIOWith(req, func(s string) int { texts = append(texts, s); return 10 })
	_, wantOut := EstimateIO(req)
	if in != 4*10+4*4 || out != wantOut || len(texts) != 4 || texts[0] != req.System || texts[1] != req.Prompt {
		t.Errorf("in %d, out %d (want %d), texts %q", in, out, wantOut, texts)
	}
}

// A re-ask answered by another model than the reply it repairs (a gateway switching models) is
// priced at its own model, as Budgeted settles it: the first call at the cheap model's price,
// the repair at the dear one's; and an unpriced model among them makes the cost unknown
// (before: every token at the last reply's model).
func TestMeterPricesEachReaskAtItsModel(t *testing.T) {
	models := []string{"cheap", "dear", "cheap"}
	prices := Prices{"cheap": {InputPerMTok: 1, OutputPerMTok: 2}, "dear": {InputPerMTok: 100, OutputPerMTok: 400}}
	ask := func(raws []string, models []string) Reply {
		n := 0
		inner := Func(func(ctx context.Context, req Request) (Reply, error) {
			r := Reply{Raw: raws[n], Provider: "openai", Model: models[n], Calls: 1, InputTokens: 1000 * (n + 1), OutputTokens: 10 * (n + 1)}
			n++
			return r, nil
		})
		r, err := Meter(Validate(inner, 2), prices, nil).Decide(context.Background(), testReq("p", 0))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := ask([]string{"?", `{"willingness": 9}`, `{"willingness": 4}`}, models)
	want := (1000*1+10*2)/1e6 + (2000*100+20*400)/1e6 + (3000*1+30*2)/1e6
	if !r.Valid() || r.Model != "cheap" || math.Abs(r.CostUSD-want) > 1e-12 {
		t.Fatalf("reply %s at $%v; want valid, cheap, $%v (the repair at dear's price)", r.Model, r.CostUSD, want)
	}
	if len(r.Others) != 1 || r.Others[0] != (ModelTokens{Provider: "openai", Model: "dear", InputTokens: 2000, OutputTokens: 20}) {
		t.Errorf("others %+v; want dear's 2000/20 tokens", r.Others)
	}
	r = ask([]string{"?", `{"willingness": 4}`}, []string{"unpriced", "cheap"})
	if !math.IsNaN(r.CostUSD) {
		t.Errorf("a repair of a reply by an unpriced model costs $%v, want unknown", r.CostUSD)
	}
}

// The spend cap counts the tokens of a model with no price at the configured model's price,
// the reply's own and those another model answered (Reply.Others) alike; priced models at
// their own price.
func TestCapCostPricesUnpricedAtTheConfiguredModel(t *testing.T) {
	prices := Prices{"cheap": {InputPerMTok: 1, OutputPerMTok: 2}, "dear": {InputPerMTok: 100, OutputPerMTok: 400}}
	r := Reply{Provider: "openai", Model: "dear", Calls: 2, InputTokens: 3000, OutputTokens: 30,
		Others: []ModelTokens{{Provider: "openai", Model: "unpriced", InputTokens: 1000, OutputTokens: 10}}}
	want := (2000*100+20*400)/1e6 + (1000*1+10*2)/1e6
	if got := CapCost(prices, r, "openai", "cheap"); math.Abs(got-want) > 1e-12 {
		t.Errorf("cap cost $%v; want dear's tokens at its price and the unpriced model's at cheap's, $%v", got, want)
	}
	if got := Priced(prices, r).CostUSD; !math.IsNaN(got) {
		t.Errorf("recorded cost $%v; want unknown", got)
	}
}
