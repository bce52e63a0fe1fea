// Command prosim simulates prosocial behaviour of LLM agents and of an embedded behavioural
// model under policies and on social networks. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"golang.org/x/term"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/reading"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/termtable"
	"github.com/prosim/prosim/internal/writing"
)

// version is set at release time with -ldflags ("-X main.version=v1.0.0"); otherwise the
// version is the build's module version and VCS stamp (manifest.Current).
var version = ""

// exitInterrupted is the exit status after Ctrl-C (128 + SIGINT), as shells report it.
const exitInterrupted = 130

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go onInterrupt(cancel)
	if cols, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && cols > 0 {
		termtable.SetWidth(cols) // tables split by columns to fit; files and pipes get them whole
	}
	root := newRoot()
	cmd, err := root.ExecuteContextC(ctx)
	if abandoning.Load() {
		select {} // onInterrupt exits once the stores are closed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "prosim:", err)
	}
	if code := exitStatus(stopSignal(ctx), cmd, err); code != 0 {
		os.Exit(code)
	}
}

// stopSignal is the signal that cancelled ctx (os.Interrupt or SIGTERM), or nil.
func stopSignal(ctx context.Context) os.Signal {
	if ctx.Err() == nil {
		return nil
	}
	if s, ok := gotSignal.Load().(os.Signal); ok {
		return s
	}
	return os.Interrupt
}

// gotSignal holds the first stop signal onInterrupt received.
var gotSignal atomic.Value

// exitStatus is the process's exit status once cmd returned err, sig being the stop signal
// that came (Ctrl-C's os.Interrupt, or SIGTERM), if one did: the one place that decides it,
// but for onInterrupt's exits while a command is still going (exitInterrupted).
func exitStatus(sig os.Signal, cmd *cobra.Command, err error) int {
	interrupted := sig != nil
	switch {
	case err == nil:
		if interrupted && (cmd == nil || cmd.Annotations[doneOnSuccess] == "") &&
			(sig != syscall.SIGTERM || cmd == nil || cmd.Annotations[cleanOnTerm] == "") {
			return exitInterrupted
		}
		return 0
	case interrupted, errors.Is(err, engine.ErrInterrupted): // Ctrl-C, or a stop request (prosim serve's Stop)
		return exitInterrupted
	case errors.As(err, new(usageError)):
		return exitUsage
	}
	if _, ok := errors.AsType[*engine.BudgetStop](err); ok {
		return exitBudget
	}
	return 1
}

// doneOnSuccess annotates a command whose success means all its work is done, even when a
// Ctrl-C came too late to stop it (its last stage ended within abandonAfter): it exits 0
// after saying so, not 130. Others (serve, worker, broker: they run until interrupted) exit 130.
const doneOnSuccess = "prosim.done-on-success"

// cleanOnTerm annotates a command for which SIGTERM is the ordinary way to stop (prosim worker:
// orchestrators send it before a kill): having finished what it had in hand, it exits 0.
const cleanOnTerm = "prosim.clean-on-sigterm"

// doneOnSuccessAnnotation marks a command doneOnSuccess.
var doneOnSuccessAnnotation = map[string]string{doneOnSuccess: "yes"}

// onInterrupt cancels the command's context at the first Ctrl-C (or SIGTERM): deciding stops
// and what is decided is saved. Set-up stages (sampling a population, reading a population
// file, building a graph) and the analysis (a run's, report's, export's) do not poll the
// context; they write nothing a later command relies on, so if one is still running
// abandonAfter later the process exits there, removing the temporaries of files not yet whole;
// so does reading an input file (a named pipe or a device may never end). A second Ctrl-C
// exits at once, closing the run databases first (within closeWait).
func onInterrupt(cancel context.CancelFunc) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if signalReady != nil {
		signalReady()
	}
	sig := <-sigs
	gotSignal.Store(sig)
	cancel()
	h := stopHandling.Load()
	if !quietInterrupt.Load() {
		if h != nil {
			fmt.Fprintln(os.Stderr, "prosim: "+h.notice(sig))
		} else {
			fmt.Fprintln(os.Stderr, "prosim: "+stopNotice(sig))
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	deadline := time.Now().Add(abandonAfter)
	for {
		select {
		case <-sigs:
			if h != nil && h.second != nil {
				h.second() // the command ends what it has in hand now, and returns
				h = nil    // a third signal exits at once
				continue
			}
			// At once, but with the run databases closed (at most closeWait), so that SQLite's
			// -wal and -shm files do not stay in the folder.
			abandonExit()
		case now := <-tick.C:
			if f := reading.Now(); f != "" && now.After(deadline) {
				// A read that does not end (a named pipe, a device): it writes nothing.
				fmt.Fprintf(os.Stderr, "prosim: interrupted while reading %s\n", f)
				os.Exit(exitInterrupted)
			}
			if st := engine.CurrentStage(); st != nil && st.Abandon && now.After(deadline) {
				msg := "prosim: interrupted while " + st.Name
				if st.Note != "" {
					msg += "; " + st.Note
				}
				fmt.Fprintln(os.Stderr, msg)
				abandonExit()
			}
		}
	}
}

// stopNotice is what a command says when sig stops it.
func stopNotice(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "terminated (SIGTERM); stopping (a second signal quits at once)"
	}
	return "interrupted; stopping (press Ctrl-C again to quit at once)"
}

// signalName names sig for a user: SIGTERM, or SIGINT (Ctrl-C).
func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT (Ctrl-C)"
}

// stopHandler is a command's own handling of the stop signals (prosim worker's grace).
type stopHandler struct {
	notice func(sig os.Signal) string // the notice at the first signal
	second func()                     // at the second signal, instead of exiting at once
}

// stopHandling, when set by the running command, replaces onInterrupt's notice and what a
// second signal does.
var stopHandling atomic.Pointer[stopHandler]

// signalReady, if set, is called once onInterrupt handles Ctrl-C and SIGTERM. Only the tests
// set it (TestMain, for a child that announces it, so that a test signals it only then: a
// signal before is the default's, and kills the process); prosim itself leaves it nil.
var signalReady func()

// abandonExit exits in the middle of the command: a file being written is not in place, so its
// temporary is removed, and the run databases are closed, so SQLite removes their -wal and
// -shm files.
func abandonExit() {
	abandoning.Store(true)
	writing.Abandon()
	store.CloseOpen(closeWait)
	os.Exit(exitInterrupted)
}

// abandoning is set when onInterrupt exits in the middle of a stage: the command, whose
// store it closes, then fails on it, and must neither say so nor exit first.
var abandoning atomic.Bool

// closeWait bounds how long an abandoning exit waits for the run databases to close (a read
// in progress is interrupted; an idle database closes in milliseconds).
const closeWait = 150 * time.Millisecond

// quietInterrupt silences the interrupt's notice (worker -q: a local worker of a --workers run
// is stopped with SIGTERM when the run ends, and shares the run's stderr).
var quietInterrupt atomic.Bool

// abandonAfter is how long a set-up stage, the analysis or a read may go on after Ctrl-C
// before the process exits there: time for one about to end to stop the run as usual, short
// enough that, with the 100 ms ticks and a loaded machine's delays, the exit comes within a
// second (it was a second: QA measured 1.2-1.4 s while reading a 1.9 M-persona file).
const abandonAfter = 300 * time.Millisecond

// exitBudget is the exit status of a run stopped at its spend cap (resumable with a higher one).
const exitBudget = 3

// exitUsage is the exit status of a command given wrong arguments or flags (usageError).
const exitUsage = 2

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
	// A wrong number of arguments, or a command that does not exist, is a usage error (exit 2)
	// like a bad flag.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q (prosim --help lists them)", args[0])}
		}
		return nil
	}
	// A bare prosim is a wrong number of arguments too (exit 2, as the README's table says, and
	// as go says it): the help goes to stderr, so that a script's output is not help text.
	root.RunE = func(c *cobra.Command, _ []string) error {
		c.SetOut(c.ErrOrStderr())
		if err := c.Help(); err != nil {
			return err
		}
		return usageError{errors.New("no command given (prosim --help lists them)")}
	}
	var usageArgs func(c *cobra.Command)
	usageArgs = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if check := sub.Args; check != nil {
				sub.Args = func(cmd *cobra.Command, args []string) error {
					if err := check(cmd, args); err != nil {
						return usageError{fmt.Errorf("%w (usage: %s)", err, cmd.UseLine())}
					}
					return nil
				}
			}
			usageArgs(sub)
		}
	}
	usageArgs(root)
	return root
}

// extraCommands are registered by other files of this package.
var extraCommands []func() *cobra.Command
