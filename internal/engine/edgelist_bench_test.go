//go:build unix

package engine

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// BenchmarkEdgeListStartup: loading an experiment with a population file and a large edge
// list (100,000 agents, 1,000,000 edges) and preparing its run, the start-up before the first
// decision. The edge list is parsed once (Load hands what it read to the run).
//
//	go test ./internal/engine -run '^$' -bench EdgeListStartup -benchtime 3x
func BenchmarkEdgeListStartup(b *testing.B) {
	const agents, edges = 100_000, 1_000_000
	dir := b.TempDir()
	pf, err := os.Create(filepath.Join(dir, "people.csv"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(pf)
	w.WriteString("id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n")
	for i := range agents {
		fmt.Fprintf(w, "%d,female,%d,married,%d,EUR,college,nurse,3,3.5,3,3,3.5,3,2.5,3,3\n", i+1, 20+i%60, 20000+10*(i%1000))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	pf.Close()
	ef, err := os.Create(filepath.Join(dir, "edges.csv"))
	if err != nil {
		b.Fatal(err)
	}
	w = bufio.NewWriter(ef)
	w.WriteString("source,target\n")
	// A ring of 10 neighbours each side: every edge distinct, every agent named.
	for e := range edges {
		u := e / 10
		fmt.Fprintf(w, "%d,%d\n", u+1, (u+1+e%10)%agents+1)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	ef.Close()
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(edgeListExp), 0o644); err != nil {
		b.Fatal(err)
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	n := 0
	for b.Loop() {
		n++
		exp, err := experiment.Load(filepath.Join(dir, "s.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		r, err := Prepare(exp, Options{NoCache: true})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	// CPU time (user + system) is steadier than wall time on a shared machine.
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := func(r syscall.Rusage) float64 {
		return float64(r.Utime.Sec+r.Stime.Sec) + float64(r.Utime.Usec+r.Stime.Usec)/1e6
	}
	b.ReportMetric((cpu(ru1)-cpu(ru0))/float64(n), "cpu-s/op")
}
