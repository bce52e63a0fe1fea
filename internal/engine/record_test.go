package engine

import (
	"reflect"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/store"
)

// TestRecordRoundTrip: every field of backend.Reply but Samples, the unusable calls' tokens
// (priced into CostUSD by the Meter, and not the provider's count) and Others (the tokens of
// other models, priced into CostUSD by the Meter, and within the tokens) is recorded and read back,
// and store.Reply has no field backend.Reply lacks, so a field added to one is not silently
// dropped.
func TestRecordRoundTrip(t *testing.T) {
	br, sr := reflect.TypeFor[backend.Reply](), reflect.TypeFor[store.Reply]()
	for i := range br.NumField() {
		f := br.Field(i)
		// Repair turns are recorded as store.Attempt, a struct of the same fields (the store
		// does not import backend).
		if f.Name == "Samples" || f.Name == "UnusableInputTokens" || f.Name == "UnusableOutputTokens" || f.Name == "Others" {
			continue
		}
		if g, ok := sr.FieldByName(f.Name); !ok || g.Type != f.Type && !(f.Name == "Repairs" && g.Type.Elem().ConvertibleTo(f.Type.Elem())) {
			t.Errorf("backend.Reply.%s (%s) is not recorded as such in store.Reply", f.Name, f.Type)
		}
	}
	for i := range sr.NumField() {
		if _, ok := br.FieldByName(sr.Field(i).Name); !ok {
			t.Errorf("store.Reply.%s has no backend.Reply field", sr.Field(i).Name)
		}
	}
	r := backend.Reply{Raw: `{"x": 1}`, Values: map[string]float64{"x": 1}, Invalid: "why", Provider: "p", Model: "m",
		InputTokens: 3, OutputTokens: 4, Calls: 4, FailedCalls: 1, UnusableCalls: 1, NoUsageCalls: 1, CostUSD: 0.5, Latency: time.Second, Cached: true,
		Repairs: []backend.Attempt{{Raw: "maybe", Invalid: "no number", Repair: "Answer with a number"}}}
	if got := replyOf(record(r)); !reflect.DeepEqual(got, r) {
		t.Errorf("round trip: %+v, want %+v", got, r)
	}
}
