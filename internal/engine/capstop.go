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
	spent := 0.0 // a manifest of a build before spent_usd was always written
	if st.SpentUSD != nil {
		spent = *st.SpentUSD
	}
	return fmt.Sprintf("the run stopped: %s; %s", CapReached(st.CapUSD, spent, st.NextCallUSD), higherCap(dir, st.CapUSD, spent, st.NextCallUSD))
}
