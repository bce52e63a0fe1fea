package store

import (
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchStore is a new store with one run, none.r1; it closes with the benchmark.
func benchStore(b *testing.B) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "prosim.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.PutRuns([]Run{{ID: "none.r1", Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1}}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAddDecisions is the cost of recording a decision of the behavioural model
// (queued with Add, committed in batches) and of reading it back in the results pass.
func BenchmarkAddDecisions(b *testing.B) {
	s := benchStore(b)
	params := map[string]float64{}
	b.ResetTimer()
	for i := range b.N {
		r := Reply{Raw: `{"willingness": 5}`, Values: map[string]float64{"willingness": float64(1 + i%7)}, Provider: "builtin",
			Model: "behavioral", ModelVersion: "behavioral-3", CostUSD: math.NaN()}
		if err := s.Add(Decision{Key: Key{RunID: "none.r1", AgentID: i / len(scenarios), Scenario: scenarios[i%len(scenarios)]}, Params: params, Reply: r}); err != nil {
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

// BenchmarkCommitWorkers is what a paid decision's commit costs a worker of the LLM path:
// 32 workers, each waiting 5 ms for its "reply" and then committing it (Commit returns once
// the row is durable). ns/op is the wall time per decision; the figure to read is
// wait-overhead, the fraction of each worker's time spent in Commit (0 when commits are free).
func BenchmarkCommitWorkers(b *testing.B) {
	const workers, reply = 32, 5 * time.Millisecond
	s, err := Open(filepath.Join(b.TempDir(), "prosim.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next, waited atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				time.Sleep(reply)
				start := time.Now()
				r := Reply{Raw: `{"willingness": 5}`, Values: map[string]float64{"willingness": 5}, Provider: "openai", Model: "m", Calls: 1, CostUSD: math.NaN()}
				if err := s.Commit(Decision{Key: Key{RunID: "none.r1", AgentID: i, Scenario: "helping"}, Reply: r}); err != nil {
					b.Error(err)
					return
				}
				waited.Add(int64(time.Since(start)))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	per := float64(waited.Load()) / float64(b.N)
	b.ReportMetric(per/float64(time.Microsecond), "commit-us/op")
	b.ReportMetric(per/(per+float64(reply)), "wait-overhead")
}

// BenchmarkCommitCPU is the CPU (user + system, getrusage) a paid decision's commit costs:
// 32 workers, each "receiving" a reply every 200 µs, starting its commit and then awaiting its
// previous one before it waits for the next (store.Start, as the engine's commitSlot does).
// rows/write is the mean group size.
func BenchmarkCommitCPU(b *testing.B) {
	const workers, reply = 32, 200 * time.Microsecond
	s, err := Open(filepath.Join(b.TempDir(), "prosim.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	for range workers {
		wg.Go(func() {
			var p Pending
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					break
				}
				time.Sleep(reply)
				r := Reply{Raw: `{"willingness": 5}`, Values: map[string]float64{"willingness": 5}, Provider: "openai",
					Model: "loopback-1", Calls: 1, InputTokens: 412, OutputTokens: 7, CostUSD: math.NaN(), Latency: time.Millisecond}
				q := s.Start(Decision{Key: Key{RunID: "none.r1", AgentID: i / len(scenarios), Scenario: scenarios[i%len(scenarios)]},
					Params: map[string]float64{}, Reply: r})
				if p.g != nil {
					if err := p.Wait(); err != nil {
						b.Error(err)
						return
					}
				}
				p = q
			}
			if p.g != nil {
				if err := p.Wait(); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
	b.ReportMetric(float64(b.N)/float64(s.writes.Load()), "rows/write")
}

// scenarios are the benchmarks' scenario ids, one decision of an agent each.
var scenarios = []string{"volunteering", "helping", "donating", "cooperation", "recycling", "sharing"}

// cpuTime is this process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecisionLookup reads recorded decisions back one by one by key, as a resumed run
// does for each task of a study that reads its replies (games, Study 3).
func BenchmarkDecisionLookup(b *testing.B) {
	s := benchStore(b)
	const n = 5000
	for i := range n {
		r := Reply{Raw: `{"give": 3}`, Values: map[string]float64{"give": 3}, Provider: "builtin", Model: "behavioral", CostUSD: math.NaN()}
		if err := s.Add(Decision{Key: Key{RunID: "none.r1", AgentID: i, Scenario: "dictator"}, Reply: r}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, ok, err := s.Decision(Key{RunID: "none.r1", AgentID: i % n, Scenario: "dictator"}); err != nil || !ok {
			b.Fatal(ok, err)
		}
		i++
	}
}

// BenchmarkStepReadBack reads a step's recorded decisions back as a resume does: 4,000 keys
// (2,000 agents, two stages of round 1) of a run of 20,000 (five stages, two rounds), one query
// each (Decision) or sought many to a query (DecisionsAt). ns/decision is per decision read
// back.
func BenchmarkStepReadBack(b *testing.B) {
	s := benchStore(b)
	const agents = 2000
	for a := range agents {
		for round := 1; round <= 2; round++ {
			for trial := 1; trial <= 5; trial++ {
				r := Reply{Raw: `{"give": 3}`, Values: map[string]float64{"give": 3}, Provider: "builtin", Model: "behavioral", CostUSD: math.NaN()}
				if err := s.Add(Decision{Key: Key{RunID: "none.r1", AgentID: a, Round: round, Trial: trial, Scenario: "dictator"}, Reply: r}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	var keys []Key
	for a := range agents {
		for trial := 1; trial <= 2; trial++ {
			keys = append(keys, Key{RunID: "none.r1", AgentID: a, Round: 1, Trial: trial, Scenario: "dictator"})
		}
	}
	count := func(b *testing.B, n int) {
		if n != len(keys) {
			b.Fatalf("%d decisions read back, want %d", n, len(keys))
		}
	}
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for _, k := range keys {
				if _, ok, err := s.Decision(k); err != nil || !ok {
					b.Fatal(ok, err)
				}
				n++
			}
			count(b, n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/decision")
	})
	b.Run("at", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := s.DecisionsAt(keys, func(Decision) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			count(b, n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/decision")
	})
}
