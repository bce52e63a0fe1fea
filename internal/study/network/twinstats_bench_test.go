//go:build unix

package network

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/network"
)

// largeTwin is the permutation test's input at the scale of examples/study3-million.yaml:
// one replicate on a Barabasi-Albert graph (m=3), 1000 victims drawn at random, 30 rounds
// from round 2, 6000 nonzero integer differences a round among 50,000 agents, and 50 invalid
// decisions a round (runs of that file: 157,274 differences among 43,928 agents at 200,000
// agents, 179,401 among 57,824 at 1,000,000).
func largeTwin(b *testing.B, n int) (*netStudy, []*twinAgg, [][]int32) {
	b.Helper()
	g, err := network.BarabasiAlbert(n, 3, 1)
	if err != nil {
		b.Fatal(err)
	}
	const rounds = 30
	r := rand.New(rand.NewPCG(3, 4))
	victims := r.Perm(n)[:1000]
	dist := network.Distances(g, victims)
	pool := r.Perm(n)[:50_000]
	a := newTwinAgg(n, rounds, 2)
	a.g = g
	for t := 2; t <= rounds; t++ {
		for range 6000 {
			u := pool[r.IntN(len(pool))]
			a.diffs[t-1] = append(a.diffs[t-1], agentDiff{int32(u), float32(r.IntN(7) - 3)})
		}
		for range 50 {
			a.invalid[t-1] = append(a.invalid[t-1], int32(r.IntN(n)))
		}
	}
	return &netStudy{g: g, seed: 1}, []*twinAgg{a}, [][]int32{dist}
}

// Run with: go test -run=^$ -bench=ContagionStats -benchtime=1x -cpu=2 ./internal/study/network
// (the placements' BFS and focal sums: 999 placements at 200,000 agents, 200 at 1,000,000).
func BenchmarkContagionStats200k(b *testing.B) { benchContagion(b, 200_000) }
func BenchmarkContagionStats1M(b *testing.B)   { benchContagion(b, 1_000_000) }

func benchContagion(b *testing.B, n int) {
	s, aggs, dists := largeTwin(b, n)
	var perms int
	c0 := cpuTime()
	for b.Loop() {
		_, perms = s.contagionStats(aggs, dists, noShare, 30, 2, 5)
	}
	// CPU time is the steadier figure on a shared machine.
	b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(perms), "placements")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
