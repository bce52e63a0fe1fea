// Command estimate measures `prosim estimate` of an experiment as users run it (load, prepare,
// estimate, in one process) and prints its wall time and the process's peak RSS beside the
// targets for examples/study3-million.yaml: under 10 s and under 500 MiB.
//
//	go run ./bench/estimate [-cpuprofile FILE] [examples/study3-million.yaml]
//
// CPU time (user+system) is printed beside the wall time: on a loaded machine the wall time
// measures the other processes too. Peak RSS is the kernel's (getrusage ru_maxrss), so it counts everything the process held,
// not only Go's heap. The exit status is 1 when a target is missed.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	_ "github.com/prosim/prosim/internal/study/all"
)

func main() {
	prof := flag.String("cpuprofile", "", "write a CPU profile to this file")
	maxSec := flag.Float64("max-seconds", 10, "target wall time")
	maxMB := flag.Float64("max-mb", 500, "target peak RSS in MiB")
	flag.Parse()
	path := "examples/study3-million.yaml"
	if flag.NArg() > 0 {
		path = flag.Arg(0)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	exp, err := experiment.Load(path)
	if err != nil {
		fail(err)
	}
	r, err := engine.Prepare(exp, engine.Options{NoCache: true, Offline: true})
	if err != nil {
		fail(err)
	}
	prepared := time.Since(start)
	est, err := r.Estimate()
	r.Close()
	if err != nil {
		fail(err)
	}
	elapsed := time.Since(start)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	mb := float64(ru.Maxrss) / 1024 // kilobytes on Linux
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	for _, e := range est {
		fmt.Printf("%s: %d decisions, %d calls\n", e.Backend, e.Decisions, e.Calls)
	}
	fmt.Printf("estimate %s: %.2f s wall (set-up %.2f s), %.2f s CPU, peak RSS %.0f MiB (targets: %.0f s, %.0f MiB)\n",
		path, elapsed.Seconds(), prepared.Seconds(), cpu.Seconds(), mb, *maxSec, *maxMB)
	if elapsed.Seconds() > *maxSec || mb > *maxMB {
		fmt.Println("target missed")
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}
