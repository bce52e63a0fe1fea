package store

import (
	"math"
	"path/filepath"
	"testing"
)

// BenchmarkAddDecisions is the cost of recording a decision of the behavioural model
// (queued with Add, committed in batches) and of reading it back in the results pass.
func BenchmarkAddDecisions(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "prosim.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.PutRuns([]Run{{ID: "none.r1", Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1}}); err != nil {
		b.Fatal(err)
	}
	scs := []string{"volunteering", "helping", "donating", "cooperation", "recycling", "sharing"}
	params := map[string]float64{}
	b.ResetTimer()
	for i := range b.N {
		r := Reply{Raw: `{"willingness": 5}`, Values: map[string]float64{"willingness": float64(1 + i%7)}, Provider: "builtin",
			Model: "behavioral", ModelVersion: "behavioral-3", CostUSD: math.NaN()}
		if err := s.Add(Decision{Key: Key{RunID: "none.r1", AgentID: i / len(scs), Scenario: scs[i%len(scs)]}, Params: params, Reply: r}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	n := 0
	b.StartTimer()
	if err := s.Decisions(func(Decision) error { n++; return nil }); err != nil || n != b.N {
		b.Fatal(n, err)
	}
}
