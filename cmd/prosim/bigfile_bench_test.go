package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/experiment"
)

// bigExperiment writes a valid experiment file whose inequity lists n agents in one inline
// list (2n YAML tokens: under yamlx.MaxTokens up to about 490,000), for a population of n
// agents, and returns its path.
func bigExperiment(tb testing.TB, n int) string {
	tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `name: big
study: network
seed: 1
population: {source: sample, n: %d}
network:
  graph: {type: erdos_renyi, m: 1}
  rounds: 3
  scenario: volunteering
  activation: {fraction: 0.3}
  store: summary
conditions:
  - {name: control, policy: economic}
  - name: listed
    policy: economic
    inequity: {preset: reward, target: list, agents: [`, n)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, i)
	}
	b.WriteString("]}\nbackend: {provider: builtin}\n")
	f := filepath.Join(tb.TempDir(), "big.yaml")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return f
}

// peakHeap samples the live heap every millisecond while f runs and returns its peak in MB:
// what a file costs to read is its peak, which -benchmem's total of allocations does not say.
// The collection it starts from is not timed.
func peakHeap(b *testing.B, f func()) float64 {
	b.StopTimer()
	runtime.GC()
	b.StartTimer()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	<-stopped
	metrics.Read(s)
	return float64(max(peak.Load(), s[0].Value.Uint64())) / (1 << 20)
}

// BenchmarkExperimentFile: CPU and peak heap of reading an experiment file, for
// examples/study1.yaml and for a file of 450,000 listed agents (900,000 tokens, under the
// limit): "load" is what run does before the study is built (experiment.LoadChecking, and
// the locator engine.Prepare takes for its errors), "validate" the whole command.
//
//	go test ./cmd/prosim -run '^$' -bench ExperimentFile -benchtime 3x
func BenchmarkExperimentFile(b *testing.B) {
	files := []struct{ name, path string }{
		{"study1", "../../examples/study1.yaml"},
		{"agents450k", bigExperiment(b, 450_000)},
	}
	for _, f := range files {
		b.Run(f.name+"/load", func(b *testing.B) {
			var peak float64
			for b.Loop() {
				peak = max(peak, peakHeap(b, func() {
					exp, err := experiment.LoadChecking(f.path)
					if err != nil {
						b.Fatal(err)
					}
					if experiment.Locator(exp) == nil {
						b.Fatal("no locator")
					}
				}))
			}
			b.ReportMetric(peak, "peak-heap-MB")
		})
		b.Run(f.name+"/validate", func(b *testing.B) {
			var peak float64
			for b.Loop() {
				peak = max(peak, peakHeap(b, func() {
					if _, err := prosim(b, "validate", f.path); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(peak, "peak-heap-MB")
		})
	}
}
