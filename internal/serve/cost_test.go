package serve

import (
	"math"
	"testing"

	"github.com/prosim/prosim/internal/store"
)

// A decision's cost is printed as every message prints spend (usd.String): "$0.0003", not
// "$0.000300" (QA10 repro-6).
func TestCostOfPrintsSpendAsEverywhere(t *testing.T) {
	for _, c := range []struct {
		r    store.Reply
		want string
	}{
		{store.Reply{CostUSD: 0.0003, Calls: 1}, "$0.0003"},
		{store.Reply{CostUSD: 0.0000106, Calls: 1}, "$0.000011"},
		{store.Reply{CostUSD: math.NaN(), Calls: 1}, "unknown"},
		{store.Reply{CostUSD: 0, Calls: 0}, "-"},
	} {
		if got := costOf(c.r); got != c.want {
			t.Errorf("costOf(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}
