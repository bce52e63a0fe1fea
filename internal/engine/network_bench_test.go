package engine

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/experiment"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

// BenchmarkNetworkMillion runs examples/study3-million.yaml (Study 3, network.store: summary,
// the behavioural model, 30 rounds of an inequity condition and its control) through Run,
// as `prosim run` does, at PROSIM_BENCH_N agents (default 100,000; the file's own is
// 1,000,000) with an inequity group of N/1000 agents. It reports decisions per second and
// the peak RSS of the test process beside Go's bytes and allocations per run.
//
//	go test -run XXX -bench NetworkMillion -benchtime 1x ./internal/engine
//	PROSIM_BENCH_N=1000000 go test -run XXX -bench NetworkMillion -benchtime 1x -timeout 30m ./internal/engine
func BenchmarkNetworkMillion(b *testing.B) {
	n := 100_000
	if s := os.Getenv("PROSIM_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			b.Fatalf("PROSIM_BENCH_N=%q: want an integer >= 1000", s)
		}
	}
	exp, err := experiment.Load(filepath.Join("..", "..", "examples", "study3-million.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	exp.Population.N = n
	netstudy.ConfigOf(exp).Graph.N = n
	for i := range exp.Conditions {
		if q := netstudy.InequityOf(&exp.Conditions[i]); q != nil {
			q.K = n / 1000
		}
	}
	b.ReportAllocs()
	var decisions int
	start := time.Now()
	for i := range b.N {
		res, err := Run(context.Background(), exp, Options{Out: filepath.Join(b.TempDir(), strconv.Itoa(i)), NoCache: true})
		if err != nil {
			b.Fatal(err)
		}
		decisions += res.Decisions
	}
	elapsed := time.Since(start)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)*1024, "peak-RSS-bytes")
	}
	b.ReportMetric(float64(decisions)/elapsed.Seconds(), "decisions/s")
	b.Logf("N=%d: %d decisions in %.1f s, GOMAXPROCS=%d, concurrency %d", n, decisions, elapsed.Seconds(), runtime.GOMAXPROCS(0), exp.Concurrency)
}
