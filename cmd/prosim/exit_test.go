package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
)

// The exit statuses the README lists, decided in one place.
func TestExitStatus(t *testing.T) {
	plain := &cobra.Command{Use: "serve"}
	done := &cobra.Command{Use: "report", Annotations: doneOnSuccessAnnotation}
	failed := errors.New("no such file")
	capped := fmt.Errorf("run: %w", &engine.BudgetStop{Dir: "runs/a", CapUSD: 1, Spent: 1})
	for _, c := range []struct {
		name        string
		interrupted bool
		cmd         *cobra.Command
		err         error
		want        int
	}{
		{"done", false, plain, nil, 0},
		{"interrupted, then returned", true, plain, nil, exitInterrupted},
		{"interrupted, no command", true, nil, nil, exitInterrupted},
		{"interrupted after its work was done", true, done, nil, 0},
		{"error", false, done, failed, 1},
		{"error after an interrupt", true, done, failed, exitInterrupted},
		{"stop request", false, plain, fmt.Errorf("run: %w", engine.ErrInterrupted), exitInterrupted},
		{"usage", false, plain, usageError{failed}, exitUsage},
		{"spend cap", false, plain, capped, exitBudget},
		{"spend cap and an interrupt", true, plain, capped, exitInterrupted},
	} {
		if got := exitStatus(c.interrupted, c.cmd, c.err); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}
