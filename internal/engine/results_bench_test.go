package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/experiment"
)

// BenchmarkDecisionsTable is the results pass's main table alone: a recorded Study 1 run of
// 30,000 decisions on the behavioural model read back from its store and written to
// results/decisions.csv. cpu-ns/decision (user + system, getrusage) is what each decision
// adds to a run's end.
func BenchmarkDecisionsTable(b *testing.B) {
	const agents = 1000
	exp, err := experiment.Parse([]byte(fmt.Sprintf(`name: results
study: vignettes
seed: 7
replicates: 1
population: {source: sample, n: %d}
scenarios: [volunteering, helping, donating, cooperation, recycling, sharing]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
  - {name: social, policy: social}
  - {name: enforce, policy: enforce}
  - {name: economic, policy: economic}
backends:
  - provider: builtin
`, agents)), filepath.Join(b.TempDir(), "results.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir}); err != nil {
		b.Fatal(err)
	}
	a, err := Analyze(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if err := a.runner.writeTables(a.runner.decisionsTable(nil)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*agents*30), "cpu-ns/decision")
}

// cpuTime is this process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
