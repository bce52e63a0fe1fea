package network

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// Run the scale benchmarks with: go test -run=^$ -bench=1M -benchtime=1x -cpu=2 ./internal/network

// peakHeap samples the live-and-unswept heap (HeapAlloc) every few milliseconds until stopped and reports the peak
// above the heap in use when it started (after a GC), in MB.
type peakHeap struct {
	base, peak uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

func startPeak() *peakHeap {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p := &peakHeap{base: ms.HeapAlloc, peak: ms.HeapAlloc, stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		// runtime/metrics, unlike ReadMemStats, does not stop the world, so sampling does
		// not slow the code being measured.
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(sample)
			p.peak = max(p.peak, sample[0].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakHeap) report(b *testing.B) {
	close(p.stop)
	p.done.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.peak = max(p.peak, ms.HeapAlloc)
	b.ReportMetric(float64(p.peak-p.base)/1e6, "peak-heap-MB")
}

func graphBytes(g *Graph) int { return 8*len(g.offsets) + 4*len(g.adj) + 4*len(g.eid) }

var ba1M = sync.OnceValue(func() *Graph {
	g, err := BarabasiAlbert(1_000_000, 3, 1)
	if err != nil {
		panic(err)
	}
	return g
})

func BenchmarkBarabasiAlbert1M(b *testing.B) {
	p := startPeak()
	var g *Graph
	b.ReportAllocs()
	for b.Loop() {
		g, _ = BarabasiAlbert(1_000_000, 3, 1)
	}
	p.report(b)
	b.ReportMetric(float64(graphBytes(g))/1e6, "graph-MB")
	b.ReportMetric(float64(graphBytes(g))/float64(g.N()), "graph-B/node")
}

func BenchmarkWattsStrogatz1M(b *testing.B) {
	p := startPeak()
	b.ReportAllocs()
	for b.Loop() {
		WattsStrogatz(1_000_000, 6, 0.2, 1)
	}
	p.report(b)
}

func BenchmarkErdosRenyiGnp1M(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ErdosRenyiGnp(1_000_000, 6e-6, 1)
	}
}

func BenchmarkActivateEdges1M(b *testing.B) {
	g := ba1M()
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		ActivateEdges(g, 0.3, 1, round)
		round++
	}
}

func BenchmarkActivateProb1M(b *testing.B) {
	g := ba1M()
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		ActivateProb(g, 0.3, 1, round)
		round++
	}
}

func BenchmarkStatsSampled1M(b *testing.B) {
	g := ba1M()
	p := startPeak()
	var s Summary
	for b.Loop() {
		s = Stats(g, 1)
	}
	p.report(b)
	b.ReportMetric(s.MeanPathLength, "mean-path")
	b.ReportMetric(s.Clustering, "clustering")
}

// BenchmarkSimulation1M30Rounds is the network side of the scale target: build a BA graph
// (n=1e6, m=3), then 30 synchronous rounds in which 30% of edges are active and every agent
// reads its active neighbours' previous state (a toy update standing in for the
// behavioural model), spread over GOMAXPROCS workers. Target: < 60 s and < 2 GiB with -cpu=2.
func BenchmarkSimulation1M30Rounds(b *testing.B) {
	p := startPeak()
	for b.Loop() {
		g, _ := BarabasiAlbert(1_000_000, 3, 1)
		n := g.N()
		cur, next := make([]float32, n), make([]float32, n)
		for i := range cur {
			cur[i] = float32(i%7) / 7
		}
		workers := runtime.GOMAXPROCS(0)
		for round := range 30 {
			a := ActivateEdges(g, 0.3, 1, round)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					lo, hi := w*n/workers, (w+1)*n/workers
					for u := lo; u < hi; u++ {
						sum, k := float32(0), 0
						for v := range a.ActiveNeighbours(u) {
							sum += cur[v]
							k++
						}
						next[u] = cur[u]
						if k > 0 {
							next[u] = 0.8*cur[u] + 0.2*sum/float32(k)
						}
					}
				}()
			}
			wg.Wait()
			cur, next = next, cur
		}
	}
	p.report(b)
}

// BenchmarkDistances1M is the exposure distances of a Study 3 world of a million agents: a
// BA graph's distances from 1,000 sources (bfsDist).
func BenchmarkDistances1M(b *testing.B) {
	g := ba1M()
	src := make([]int, 1000)
	for i := range src {
		src[i] = i * 997
	}
	var d []int32
	for b.Loop() {
		d = DistancesInto(d, g, src)
	}
}
