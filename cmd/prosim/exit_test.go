package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
)

// The exit statuses the README lists, decided in one place.
func TestExitStatus(t *testing.T) {
	plain := &cobra.Command{Use: "serve"}
	done := &cobra.Command{Use: "report", Annotations: doneOnSuccessAnnotation}
	worker := &cobra.Command{Use: "worker", Annotations: map[string]string{cleanOnTerm: "yes"}}
	failed := errors.New("no such file")
	capped := fmt.Errorf("run: %w", &engine.BudgetStop{Dir: "runs/a", CapUSD: 1, Spent: 1})
	for _, c := range []struct {
		name string
		sig  os.Signal
		cmd  *cobra.Command
		err  error
		want int
	}{
		{"done", nil, plain, nil, 0},
		{"interrupted, then returned", os.Interrupt, plain, nil, exitInterrupted},
		{"terminated, then returned", syscall.SIGTERM, plain, nil, exitInterrupted},
		{"interrupted, no command", os.Interrupt, nil, nil, exitInterrupted},
		{"interrupted after its work was done", os.Interrupt, done, nil, 0},
		{"error", nil, done, failed, 1},
		{"error after an interrupt", os.Interrupt, done, failed, exitInterrupted},
		{"stop request", nil, plain, fmt.Errorf("run: %w", engine.ErrInterrupted), exitInterrupted},
		{"usage", nil, plain, usageError{failed}, exitUsage},
		{"spend cap", nil, plain, capped, exitBudget},
		{"spend cap and an interrupt", os.Interrupt, plain, capped, exitInterrupted},
		// A worker stops cleanly on SIGTERM (orchestrators send it before a kill)...
		{"worker terminated, its calls finished", syscall.SIGTERM, worker, nil, 0},
		// ...but not when it abandoned calls (second signal, the grace's end), nor on Ctrl-C.
		{"worker terminated, calls abandoned", syscall.SIGTERM, worker, failed, exitInterrupted},
		{"worker interrupted", os.Interrupt, worker, nil, exitInterrupted},
	} {
		if got := exitStatus(c.sig, c.cmd, c.err); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}

// A bare prosim prints the help and exits 2, a wrong number of arguments as the README's exit
// table says; prosim --help exits 0. It exited 0 (QA14 F13).
func TestBareProsimIsUsageError(t *testing.T) {
	out, err := prosim(t)
	if !strings.Contains(out, "Available Commands:") || exitStatus(nil, nil, err) != exitUsage {
		t.Fatalf("prosim: %v (exit %d), want the help and exit %d\n%s", err, exitStatus(nil, nil, err), exitUsage, out)
	}
	if out, err := prosim(t, "--help"); err != nil || !strings.Contains(out, "Available Commands:") {
		t.Fatalf("prosim --help: %v\n%s", err, out)
	}
}
