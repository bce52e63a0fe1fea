// Command prosim simulates prosocial behaviour of LLM agents and of an embedded behavioural
// model under policies and on social networks. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
)

// version is set at release time with -ldflags; "dev" otherwise.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "prosim:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		if _, ok := errors.AsType[*engine.BudgetStop](err); ok {
			os.Exit(exitBudget)
		}
		os.Exit(1)
	}
}

// exitBudget is the exit status of a run stopped at its spend cap (resumable with a higher one).
const exitBudget = 3

type usageError struct{ error }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "prosim",
		Short: "Simulate prosocial behaviour of LLM agents under policies and on social networks",
		Long: `prosim runs experiments on prosocial behaviour: personas (individual simulation) respond to
scenarios and economic games (scenario simulation), on social networks (interaction simulation),
under policies (intervention simulation). Agents decide through an LLM backend or through the
embedded behavioural model, a behavioural-economics baseline that is not an LLM.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(runCmd(), resumeCmd(), validateCmd(), scenariosCmd(), personasCmd())
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	return root
}

// extraCommands are registered by other files of this package.
var extraCommands []func() *cobra.Command
