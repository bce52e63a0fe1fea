package backend

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/schema"
)

func TestValidateRepairsAndAccumulates(t *testing.T) {
	inner := &fake{raws: []string{"I'm not sure.", `{"willingness": 9}`, `{"willingness": 4}`}}
	req := testReq("p", 0)
	req.Repair = make([]Turn, 0, 8) // spare capacity: Validate must not write into it
	r, err := Validate(inner, 3).Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Valid() || r.Values["willingness"] != 4 || r.Raw != `{"willingness": 4}` {
		t.Fatalf("got %+v, want willingness 4", r)
	}
	if r.Calls != 3 || r.InputTokens != 300 || r.OutputTokens != 30 || r.Latency != 3 {
		t.Fatalf("got calls %d tokens %d/%d latency %v, want the sum of 3 attempts", r.Calls, r.InputTokens, r.OutputTokens, r.Latency)
	}
	if len(inner.seen) != 3 {
		t.Fatalf("%d calls", len(inner.seen))
	}
	if len(inner.seen[0].Repair) != 0 || len(inner.seen[1].Repair) != 1 || len(inner.seen[2].Repair) != 2 {
		t.Fatalf("repair turns per call: %d, %d, %d; want 0, 1, 2", len(inner.seen[0].Repair), len(inner.seen[1].Repair), len(inner.seen[2].Repair))
	}
	t1, t2 := inner.seen[2].Repair[0], inner.seen[2].Repair[1]
	if t1.Assistant != "I'm not sure." || t2.Assistant != `{"willingness": 9}` {
		t.Fatalf("repair turns do not hold the model's replies: %+v", inner.seen[2].Repair)
	}
	_, perr := schema.Parse(likert, `{"willingness": 9}`)
	if t2.User != schema.RepairMessage(perr.Error(), likert) || !strings.Contains(t2.User, "outside") {
		t.Fatalf("repair message %q does not say what was wrong", t2.User)
	}
	if len(req.Repair[:cap(req.Repair)][0].Assistant) != 0 {
		t.Fatal("Validate wrote into the caller's Repair slice")
	}
}

func TestValidateGivesUp(t *testing.T) {
	inner := &fake{raws: []string{"maybe", "hmm, hard to say"}}
	r, err := Validate(inner, 1).Decide(context.Background(), testReq("p", 0))
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid() || r.Invalid == "" || r.Values != nil {
		t.Fatalf("got %+v, want an invalid reply", r)
	}
	if r.Raw != "hmm, hard to say" || r.Calls != 2 {
		t.Fatalf("got raw %q calls %d, want the last raw after 2 calls", r.Raw, r.Calls)
	}
	// maxRepairs 0: a single call.
	inner = &fake{raws: []string{"maybe"}}
	if r, _ := Validate(inner, 0).Decide(context.Background(), testReq("p", 0)); r.Valid() || inner.calls.Load() != 1 {
		t.Fatalf("maxRepairs 0: %+v after %d calls", r, inner.calls.Load())
	}
}

func TestValidateStructuredValues(t *testing.T) {
	var calls int
	vals := map[string]float64{"willingness": 6}
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		calls++
		return Reply{Values: vals, Provider: "builtin", Calls: 1}, nil
	})
	b := Validate(inner, 3)
	if r, err := b.Decide(context.Background(), testReq("p", 0)); err != nil || !r.Valid() {
		t.Fatalf("valid values: %+v, %v", r, err)
	}
	vals = map[string]float64{"willingness": 8}
	r, err := b.Decide(context.Background(), testReq("p", 0))
	if err != nil || r.Valid() || !strings.Contains(r.Invalid, "outside") || r.Values != nil {
		t.Fatalf("out-of-range values: %+v, %v", r, err)
	}
	if calls != 2 {
		t.Fatalf("%d calls; values without raw text must not be re-asked", calls)
	}
}

func TestValidateEmptyReplyReaskedUnchanged(t *testing.T) {
	inner := &fake{raws: []string{"", `{"willingness": 2}`}}
	r, err := Validate(inner, 2).Decide(context.Background(), testReq("p", 0))
	if err != nil || r.Values["willingness"] != 2 || r.Calls != 2 {
		t.Fatalf("got %+v, %v", r, err)
	}
	if len(inner.seen[1].Repair) != 0 {
		t.Fatal("an empty reply became an (empty) assistant turn")
	}
}

func TestValidateErrorKeepsSpending(t *testing.T) {
	n := 0
	boom := &StatusError{Provider: "openai", Status: 401}
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		n++
		if n == 2 {
			return Reply{Calls: 2}, boom // a Retry below made 2 attempts before giving up
		}
		return Reply{Raw: "dunno", Calls: 1, InputTokens: 50, OutputTokens: 5}, nil
	})
	r, err := Validate(inner, 2).Decide(context.Background(), testReq("p", 0))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if r.Calls != 3 || r.InputTokens != 50 {
		t.Fatalf("reply with the error = %+v, want the first attempt's spending and the failed re-ask's 2 calls", r)
	}
}
