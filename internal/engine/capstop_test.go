package engine

import (
	"testing"

	"github.com/prosim/prosim/internal/manifest"
)

// CapStopOf formats the note only for a run its manifest says stopped at its spend cap.
func TestCapStopOf(t *testing.T) {
	spent := 0.0019
	capped := &manifest.Stop{Reason: manifest.StopSpendCap, CapUSD: 0.002, SpentUSD: &spent, NextCallUSD: 0.0005}
	for _, c := range []struct {
		name string
		m    *manifest.Manifest
		want string
	}{
		{"no manifest", nil, ""},
		{"complete", &manifest.Manifest{Status: "complete"}, ""},
		{"stopped without a reason", &manifest.Manifest{Status: "stopped"}, ""},
		{"interrupted", &manifest.Manifest{Status: "stopped", Stop: &manifest.Stop{Reason: manifest.StopInterrupted}}, ""},
		{"running with a stale stop", &manifest.Manifest{Status: "running", Stop: capped}, ""},
		{"spend cap", &manifest.Manifest{Status: "stopped", Stop: capped},
			"the run stopped: spend cap of $0.002 reached ($0.0019 spent; the next call could cost up to $0.0005, more than the $0.0001 the cap leaves); continue it with a higher cap: prosim resume runs/a --max-cost 0.004"},
	} {
		if got := CapStopOf(c.m, "runs/a"); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
