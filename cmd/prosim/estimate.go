package main

import (
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/backend/providers/wire"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/termtable"
	"github.com/prosim/prosim/internal/usd"
)

func init() { extraCommands = append(extraCommands, estimateCmd) }

func estimateCmd() *cobra.Command {
	var (
		backends []string
		cache    string
		noCache  bool
		maxCost  float64
	)
	c := &cobra.Command{
		Use:   "estimate FILE",
		Short: "Print the calls, tokens and cost a run would take, without running it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The file's problems and the engine's checks' are reported together (Prepare).
			exp, err := experiment.LoadChecking(args[0])
			if exp == nil {
				return err
			}
			if err := checkMaxCost(cmd, maxCost, func() (float64, error) { return exp.BudgetUSD(), nil }, "the file's budget"); err != nil {
				return err
			}
			if len(backends) > 0 {
				var err error
				if exp.Backends, err = parseBackendFlags(backends); err != nil {
					return usageError{err}
				}
			}
			// No provider is contacted: estimating needs the requests, not the clients. The
			// reply cache is only read, for the replies it holds and what earlier runs found of
			// servers' n.
			r, err := engine.Prepare(exp, engine.Options{CachePath: cache, NoCache: noCache, Offline: true, MaxCost: maxCost})
			if err != nil {
				return err
			}
			defer r.Close()
			// Estimating needs no key, so a missing one is no error here; but run and resume
			// refuse a backend whose api_key_env names an unset or empty variable: say so now
			// (but for a broker's workers, whose keys are theirs).
			for i, b := range exp.Backends {
				if exp.Execution.NATS != "" {
					break
				}
				if key, _ := wire.KeyFromEnv(os.LookupEnv, b.APIKeyEnv); b.Provider != "builtin" && b.APIKeyEnv != "" && key == "" { // the clients' rule
					fmt.Fprintf(cmd.ErrOrStderr(), "prosim: warning: %v\n", r.BackendErrorf(i, "api_key_env", "%s is not set (backend %s): run and resume will refuse it", b.APIKeyEnv, b.LabelOrDefault()))
				}
			}
			est, err := r.Estimate()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintln(out, r.Describe())
			rows := [][]string{{"backend", "decisions", "calls", "input tokens", "output tokens", "cost (USD)", "batch cost (USD)"}}
			for _, e := range est {
				cost, batch := usd.String(e.CostUSD), usd.String(e.BatchCostUSD)
				if math.IsNaN(e.CostUSD) {
					cost, batch = "unknown price (add prices: to the experiment)", ""
				}
				rows = append(rows, []string{e.Backend, fmt.Sprint(e.Decisions), fmt.Sprint(e.Calls), fmt.Sprint(e.InputTokens), fmt.Sprint(e.OutputTokens), cost, batch})
			}
			if err := termtable.Write(out, 1, rows); err != nil {
				return err
			}
			for _, e := range est {
				if e.Note != "" {
					fmt.Fprintf(out, "%s: %s\n", e.Backend, e.Note)
				}
			}
			if slices.ContainsFunc(est, func(e engine.Estimate) bool { return e.Tokenizer != "" }) {
				fmt.Fprintln(out, "Tokens are counted with the model's tokenizer where a note above says so, else approximate: about 4 characters a token (a small local model's may differ several-fold); re-asks of invalid replies and retries add calls.")
			} else {
				fmt.Fprintln(out, "Tokens are approximate: about 4 characters a token, with no model's tokenizer (a small local model's may differ several-fold); re-asks of invalid replies and retries add calls.")
			}
			fmt.Fprintln(out, "The batch cost is at the providers' batch price (half): execution: {mode: batch} or prosim run --batch.")
			if note := engine.BudgetNote(r.SpendCap(), est); note != "" {
				fmt.Fprintln(out, note)
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&backends, "backend", nil, "backend SPEC replacing the file's (repeatable)")
	c.Flags().StringVar(&cache, "cache", "", "the response cache the run will use (default: the experiment's, else the user cache directory's), read for the replies it holds (no call) and whether servers honour n")
	c.Flags().BoolVar(&noCache, "no-cache", false, "read no response cache: no reply is held, and servers are assumed to honour n")
	c.Flags().Float64Var(&maxCost, "max-cost", 0, "the spend cap in USD to compare the estimate with, as prosim run --max-cost (overrides the file's budget.usd)")
	return c
}
