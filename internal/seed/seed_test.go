package seed

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// reference is Derive as it was first written, with hash/fnv: the values every run so far
// was made with.
func reference(parent uint64, parts ...any) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], parent)
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte{0x1f})
		switch v := p.(type) {
		case string:
			h.Write([]byte(v))
		case int:
			h.Write([]byte(strconv.Itoa(v)))
		}
	}
	return mix(h.Sum64())
}

func TestDeriveUnchanged(t *testing.T) {
	// The goldens pin the values further: a change here changes every run's draws.
	if got := Derive(20250521, "graph"); got != reference(20250521, "graph") {
		t.Fatalf("Derive(20250521, graph) = %d, reference %d", got, reference(20250521, "graph"))
	}
	r := rand.New(rand.NewPCG(7, 8))
	words := []string{"", "decision", "graph", "volunteering", "joint part", "é\x1f"}
	ints := []int{0, 1, -1, 9, 10, 99, 12345, -98765, math.MaxInt64, math.MinInt64}
	for range 2000 {
		parent := r.Uint64()
		var parts []any
		for range r.IntN(7) {
			if r.IntN(2) == 0 {
				parts = append(parts, words[r.IntN(len(words))])
			} else if r.IntN(2) == 0 {
				parts = append(parts, ints[r.IntN(len(ints))])
			} else {
				parts = append(parts, int(r.Int64())-int(r.Int64()))
			}
		}
		if got, want := Derive(parent, parts...), reference(parent, parts...); got != want {
			t.Fatalf("Derive(%d, %v) = %d, reference %d", parent, parts, got, want)
		}
	}
}

func TestDecisionPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		s := r.Uint64()
		rep, agent, round, trial := r.IntN(20), r.IntN(2_000_000)-5, r.IntN(100), r.IntN(3)
		want := reference(s, "decision", rep, agent, round, trial, "volunteering")
		if got := Decision(s, rep, agent, round, trial, "volunteering"); got != want {
			t.Fatalf("Decision = %d, reference %d", got, want)
		}
		if got := Replicate(s, rep).Agent(agent).Decision(round, trial, "volunteering"); got != want {
			t.Fatalf("Replicate.Agent.Decision = %d, reference %d", got, want)
		}
	}
}

func TestDecisionAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Decision(3, 1, 123456, 7, 0, "volunteering") }); n != 0 {
		t.Errorf("Decision allocates %v times", n)
	}
}

func BenchmarkDecision(b *testing.B) {
	i := 0
	for b.Loop() {
		Decision(20250521, 1, i&0xfffff, 7, 0, "volunteering")
		i++
	}
}

func BenchmarkDecisionReference(b *testing.B) {
	i := 0
	for b.Loop() {
		reference(20250521, "decision", 1, i&0xfffff, 7, 0, "volunteering")
		i++
	}
}
