package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// profileFlags are --cpuprofile and --memprofile of run and resume: pprof files of the
// whole invocation (set-up, decisions, results), read with `go tool pprof`.
type profileFlags struct{ cpu, mem string }

func (p *profileFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the run to FILE (read it with go tool pprof)")
	c.Flags().StringVar(&p.mem, "memprofile", "", "write a heap profile to FILE when the run ends: memory in use then, and every allocation made (go tool pprof -sample_index=alloc_space)")
}

// start begins the CPU profile; stop ends it and writes the heap profile. Both files are
// created before the run starts, so a bad path fails at once, not after hours of decisions.
func (p *profileFlags) start() (stop func() error, err error) {
	var cpu, mem *os.File
	if p.mem != "" {
		if mem, err = os.Create(p.mem); err != nil {
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
	}
	if p.cpu != "" {
		if cpu, err = os.Create(p.cpu); err != nil {
			closeIf(mem)
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			closeIf(mem)
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				errs = append(errs, fmt.Errorf("--cpuprofile: %w", err))
			}
		}
		if mem != nil {
			runtime.GC() // the in-use figures are of the last collection
			err := pprof.Lookup("heap").WriteTo(mem, 0)
			if cerr := mem.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("--memprofile: %w", err))
			}
		}
		return errors.Join(errs...)
	}, nil
}

func closeIf(f *os.File) {
	if f != nil {
		f.Close()
	}
}
