package engine

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/store"
)

// A held reply is the reply replyOf gives of its decision, every field: values (none, none
// but a map, several), texts shared or not, repair turns.
func TestHeldReplyIsReplyOf(t *testing.T) {
	full := store.Reply{Raw: `{"give": 3}`, Values: map[string]float64{"give": 3, "keep": 7}, Invalid: "", Provider: "openai",
		Model: "m", ModelVersion: "m-2024 fp_1", InputTokens: 11, OutputTokens: 5, Calls: 3, FailedCalls: 1, UnusableCalls: 1,
		NoUsageCalls: 1, CostUSD: 0.125, Latency: 1500 * time.Millisecond, Cached: true,
		Repairs: []store.Attempt{{Raw: "no", Invalid: "not JSON", Repair: "answer in JSON"}}}
	invalid := store.Reply{Raw: "no idea", Invalid: "not JSON", Provider: "openai", Model: "m", CostUSD: math.NaN()}
	empty := store.Reply{Raw: "{}", Values: map[string]float64{}, Provider: "builtin"}
	ds := []store.Decision{{Key: store.Key{RunID: "a", AgentID: 1}, Reply: full}, {Key: store.Key{RunID: "a", AgentID: 2}, Reply: invalid},
		{Key: store.Key{RunID: "b", AgentID: 1, Round: 2, Trial: 3, Scenario: "s"}, Reply: empty}}
	h := newHeldReplies(len(ds))
	for _, d := range ds {
		h.add(d)
	}
	for _, d := range ds {
		got, ok := h.reply(d.Key)
		want := replyOf(d.Reply)
		if math.IsNaN(want.CostUSD) && math.IsNaN(got.CostUSD) {
			got.CostUSD, want.CostUSD = 0, 0
		}
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%v: held %+v, want %+v", d.Key, got, want)
		}
	}
	if _, ok := h.reply(store.Key{RunID: "c"}); ok {
		t.Error("a key not added is held")
	}
}
