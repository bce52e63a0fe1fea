package engine

import (
	"fmt"

	"github.com/prosim/prosim/internal/manifest"
)

// CapStopOf says, from its manifest m, that the run in dir stopped at its spend cap and how to
// continue it; "" for any other run. It only formats: a caller holding the manifest reads it
// once.
func CapStopOf(m *manifest.Manifest, dir string) string {
	if m == nil || m.Status != "stopped" || m.Stop == nil || m.Stop.Reason != manifest.StopSpendCap {
		return ""
	}
	st := m.Stop
	return fmt.Sprintf("the run stopped: %s; continue it with a higher cap: prosim resume %s --max-cost %s",
		CapReached(st.CapUSD, st.SpentUSD, st.NextCallUSD), dir, SuggestCap(st.CapUSD, st.SpentUSD, st.NextCallUSD))
}
