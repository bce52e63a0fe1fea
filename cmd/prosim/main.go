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

	"github.com/prosim/prosim/internal/manifest"
)

// version is set at release time with -ldflags ("-X main.version=v1.0.0"); otherwise the
// version is the build's module version and VCS stamp (manifest.Current).
var version = ""

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
		os.Exit(1)
	}
}

type usageError struct{ error }

func newRoot() *cobra.Command {
	manifest.SetRelease(version)
	root := &cobra.Command{
		Use:   "prosim",
		Short: "Simulate prosocial behaviour of LLM agents under policies and on social networks",
		Long: `prosim runs experiments on prosocial behaviour: personas (individual simulation) respond to
scenarios and economic games (scenario simulation), on social networks (interaction simulation),
under policies (intervention simulation). Agents decide through an LLM backend or through the
embedded behavioural model, a behavioural-economics baseline that is not an LLM.`,
		Version:       manifest.Current().String(),
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
