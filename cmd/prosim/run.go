package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/usd"
	"github.com/prosim/prosim/internal/yamlx"
)

type runFlags struct {
	out      string
	seed     uint64
	backends []string
	cache    string
	noCache  bool
	quiet    bool
	maxCost  float64
	batch    bool
	cluster  clusterFlags
	profile  profileFlags
}

func runCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run FILE",
		Short: "Run an experiment file",
		Example: `  prosim run examples/study1.yaml
  prosim run examples/study1.yaml --seed 7 --out runs/try7
  prosim run examples/study1.yaml --backend openai:gpt-4o-mini
  prosim run examples/study1.yaml --backend openai:qwen2.5-7b-instruct@http://127.0.0.1:8000/v1
  prosim run examples/study1.yaml --workers 3
  prosim run examples/study1.yaml --nats nats://broker:4222`,
		Args:        cobra.ExactArgs(1),
		Annotations: doneOnSuccessAnnotation,
		RunE: func(cmd *cobra.Command, args []string) error {
			exp, problems := experiment.LoadChecking(args[0])
			if exp == nil {
				if len(f.backends) > 0 { // the file's backends are not used
					return problems
				}
				return engine.WithMissingKeys(args[0], problems)
			}
			if err := checkMaxCost(cmd, f.maxCost, func() (float64, error) { return exp.BudgetUSD(), nil }, "the file's budget"); err != nil {
				return err
			}
			if cmd.Flags().Changed("seed") {
				exp.Seed = &f.seed
			}
			if len(f.backends) > 0 {
				var err error
				if exp.Backends, err = parseBackendFlags(f.backends); err != nil {
					return usageError{err}
				}
			}
			opt := engine.Options{Out: f.out, CachePath: f.cache, NoCache: f.noCache, MaxCost: f.maxCost, Batch: f.batch, Notices: os.Stderr}
			if problems != nil {
				// Before a broker or workers start: the engine's checks report their
				// problems with the file's (it fails on these).
				if f.cluster.given(exp) {
					opt.SharedCache = noSharedCache
				}
				_, err := engine.Prepare(exp, opt)
				return err
			}
			if !f.quiet {
				opt.Progress = os.Stderr
			}
			if opt.Out == "" { // a --workers run's advice when its workers stall names its directory
				opt.Out = engine.DefaultDir(exp, time.Now())
			}
			if (opt.Batch || exp.Execution.Mode == "batch") && f.cluster.given(exp) {
				return usageError{engine.ErrBatchWithWorkers}
			}
			ctx, done, err := setupCluster(cmd.Context(), f.cluster, exp, opt.Out, false, &opt)
			if err != nil {
				return err
			}
			stop, err := f.profile.start()
			if err != nil {
				done(false)
				return err
			}
			start := time.Now()
			res, err := engine.Run(ctx, exp, opt)
			done(err == nil)
			if err == nil {
				err = finish(cmd, res, time.Since(start))
			} else {
				stoppedUsage(cmd, err)
			}
			if serr := stop(); err == nil {
				err = serr
			}
			return err
		},
	}
	c.Flags().StringVar(&f.out, "out", "", "run directory (default runs/<experiment>-<timestamp>)")
	c.Flags().Uint64Var(&f.seed, "seed", 0, "seed for every random draw (overrides the file's)")
	c.Flags().StringArrayVar(&f.backends, "backend", nil, "backend SPEC replacing the file's: builtin, openai:MODEL, anthropic:MODEL, gemini:MODEL, vllm:MODEL, ollama:MODEL, each with an optional @URL, its base_url (repeatable)")
	c.Flags().StringVar(&f.cache, "cache", "", "response cache file (default: the user cache directory); nats: the broker's shared cache (with --nats or --workers)")
	c.Flags().BoolVar(&f.noCache, "no-cache", false, "use no shared response cache: the run keeps its own (RUN_DIR/cache.log), so an agent's identical requests are one draw in it")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	c.Flags().Float64Var(&f.maxCost, "max-cost", 0, "hard cap on provider spend in USD (overrides the file's budget.usd)")
	c.Flags().BoolVar(&f.batch, "batch", false, "send each step of the study as one provider batch, at the batch price (execution: {mode: batch})")
	f.cluster.add(c)
	f.profile.add(c)
	return c
}

func resumeCmd() *cobra.Command {
	var quiet, noCache, retryInvalid bool
	var cache string
	var maxCost float64
	var cf clusterFlags
	var pf profileFlags
	c := &cobra.Command{
		Use:   "resume DIR",
		Short: "Continue a stopped run; decisions already recorded are not asked again",
		Long: `Continue a stopped run; decisions already recorded are not asked again. The run's own
options are reused: its config.yaml, and the --cache or --no-cache it was started with (a
--cache or --no-cache given here overrides that for this resume, and says so).`,
		Args:        cobra.ExactArgs(1),
		Annotations: doneOnSuccessAnnotation,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkMaxCost(cmd, maxCost, func() (float64, error) { return engine.RunCap(args[0]) }, "the run's cap"); err != nil {
				return err
			}
			opt := engine.Options{NoCache: noCache, CachePath: cache, Notices: os.Stderr, RetryInvalid: retryInvalid, MaxCost: maxCost,
				CacheFlag: cmd.Flags().Changed("cache") || cmd.Flags().Changed("no-cache")}
			if !quiet {
				opt.Progress = os.Stderr
			}
			exp := &experiment.Experiment{}
			if e, err := experiment.Load(filepath.Join(args[0], "config.yaml")); err == nil {
				exp = e // else Resume says what is wrong with the run directory
			}
			ctx, done, err := setupCluster(cmd.Context(), cf, exp, args[0], true, &opt)
			if err != nil {
				return err
			}
			stop, err := pf.start()
			if err != nil {
				done(false)
				return err
			}
			start := time.Now()
			res, err := engine.Resume(ctx, args[0], opt)
			done(err == nil)
			if err == nil {
				err = finish(cmd, res, time.Since(start))
			} else {
				stoppedUsage(cmd, err)
			}
			if serr := stop(); err == nil {
				err = serr
			}
			return err
		},
	}
	c.Flags().StringVar(&cache, "cache", "", "response cache file, or nats (default: the one the run was started with)")
	c.Flags().BoolVar(&noCache, "no-cache", false, "use no shared response cache, only the run's own RUN_DIR/cache.log (default: as the run was started)")
	c.Flags().BoolVar(&retryInvalid, "retry-invalid", false, "ask again the decisions recorded invalid after an error (on_error: record)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	c.Flags().Float64Var(&maxCost, "max-cost", 0, "hard cap on the run's provider spend in USD, all invocations together (default: the cap the run was given)")
	cf.add(c)
	pf.add(c)
	return c
}

// checkMaxCost refuses a --max-cost that is no cap (QA10 repro-5: -1 and 0 were taken
// without a word): a negative, infinite or NaN amount, and an explicit 0, which would
// otherwise mean no --max-cost at all. For 0 it says that omitting the flag keeps the other
// cap, kept ("the file's budget", "the run's cap"), with its amount from capOf.
func checkMaxCost(cmd *cobra.Command, v float64, capOf func() (float64, error), kept string) error {
	if !cmd.Flags().Changed("max-cost") || v > 0 && !math.IsInf(v, 1) {
		return nil
	}
	if v != 0 {
		return usageError{fmt.Errorf("--max-cost %v: want a positive amount of US dollars", v)}
	}
	c, err := capOf()
	if err != nil {
		return err
	}
	amount := "none"
	if c > 0 {
		amount = "$" + usd.Exact(c)
	}
	return usageError{fmt.Errorf("--max-cost 0: a cap of $0 admits no call (0 is not \"no cap\"); omitting the flag keeps %s (%s)", kept, amount)}
}

// finish prints the run summary after a run or resume.
func finish(cmd *cobra.Command, res *engine.Result, took time.Duration) error {
	out := cmd.OutOrStdout()
	if err := res.Summary(out); err != nil {
		return err
	}
	if res.InMemory {
		fmt.Fprintf(out, "\n%s made in memory and aggregated in %s (network.store: summary; %s).\n", plural.Count(res.Decisions, "decision"), res.Dir, took.Round(time.Millisecond))
	} else {
		fmt.Fprintf(out, "\n%s in %s (%d asked now, %s).\n", plural.Count(res.Decisions, "decision"), res.Dir, res.Asked, took.Round(time.Millisecond))
	}
	// Under --no-cache the replies served without a call are copies of the run's identical
	// requests, or a call's n samples (its own cache, RUN_DIR/cache.log), not a cache's of
	// earlier runs; the whole run's may include an earlier invocation's hits on a cache it was
	// given.
	hits, runHits := hitsName(res.OwnCache), "decisions from the cache"
	if res.OwnCache {
		runHits = "decisions without a call (identical requests and n samples shared within the run, or replies an earlier invocation took from a cache)"
	}
	for i, now := range res.Usage {
		if report.Behavioural(now.Label) {
			fmt.Fprintf(out, "backend %s: behavioural model (not an LLM), no provider calls.\n", now.Label)
			continue
		}
		if res.RunUsage == nil { // nothing recorded: this invocation asked everything
			fmt.Fprintf(out, "backend %s: %s\n", now.Label, usageLine(now, hits, true, res.Batch))
			continue
		}
		run := res.RunUsage[i]
		fmt.Fprintf(out, "backend %s, whole run (every invocation, from prosim.db): %s\n", run.Label, usageLine(run, runHits, true, res.Batch))
		if !sameUsage(now, run) {
			fmt.Fprintf(out, "  of which this invocation: %s\n", usageLine(now, hits, false, res.Batch))
		}
	}
	return nil
}

// hitsName names the replies an invocation served without a call: a cache's hits, or under
// --no-cache (own) copies of the run's identical requests and a call's n samples.
func hitsName(own bool) string {
	if own {
		return "shared without a call (this run's identical requests, a call's n samples)"
	}
	return "cache hits"
}

// stoppedUsage prints, for a run stopped at its spend cap, what this invocation used of each
// backend, as the summary of a finished run does (QA13: a capped run printed only its spend).
func stoppedUsage(cmd *cobra.Command, err error) {
	bs, ok := errors.AsType[*engine.BudgetStop](err)
	if !ok {
		return
	}
	hits := hitsName(bs.OwnCache)
	for _, u := range bs.Usage {
		if report.Behavioural(u.Label) {
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "backend %s, this invocation: %s\n", u.Label, usageLine(u, hits, true, bs.Batch))
	}
}

// sameUsage reports whether two usages are equal, costs to within float rounding: the store
// sums them in another order than the invocation's meter.
func sameUsage(a, b engine.BackendUsage) bool {
	costA, costB := a.CostUSD, b.CostUSD
	a.CostUSD, b.CostUSD = 0, 0
	if !slices.Equal(a.Unpriced, b.Unpriced) {
		return false
	}
	a.Unpriced, b.Unpriced = nil, nil
	return reflect.DeepEqual(a, b) && math.Abs(costA-costB) <= 1e-9*max(1, math.Abs(costA))
}

// usageLine says a backend's calls, tokens and cost; cached names what its CacheHits count,
// and why says what failed and unusable calls are (in batch mode, what its failed calls are:
// QA12 #7).
func usageLine(u engine.BackendUsage, cached string, why, batch bool) string {
	cost := "$" + usd.String(u.CostUSD)
	if !u.CostKnown {
		cost = strings.TrimSuffix(report.UnknownCost(u.Model, u.Unpriced), ")") + ": add prices: to the experiment)"
	}
	var parts []string
	if u.FailedCalls > 0 {
		s := fmt.Sprintf("%d failed", u.FailedCalls)
		switch {
		case why && batch:
			s += ": requests of a batch job that came back without a reply, an error for the request or none (the job expired, failed or was cancelled first); providers do not bill these, and they carry no tokens or cost"
		case why:
			s += ": HTTP error statuses such as 400, 429 or 5xx, or timeouts before the request was sent; providers do not usually bill these, and they carry no tokens or cost"
		}
		parts = append(parts, s)
	}
	if u.UnusableCalls > 0 {
		s := fmt.Sprintf("%d unusable (cut, malformed, or timed out after sending)", u.UnusableCalls)
		if why {
			s += ": replies cut or malformed after HTTP 200, or calls that timed out after their request was sent, which the provider may have billed; the cost counts each at its worst case unless it said its usage, and the tokens leave them out"
		}
		parts = append(parts, s)
	}
	if u.NoUsageCalls > 0 {
		s := fmt.Sprintf("%d without token usage, at their worst case", u.NoUsageCalls)
		if why {
			s += ": replies that said no token usage (the server left \"usage\" out), which the provider billed all the same; the cost counts each at its worst case, as the spend cap does, and the tokens leave them out"
		}
		parts = append(parts, s)
	}
	failed := ""
	if len(parts) > 0 {
		failed = " (" + strings.Join(parts, "; ") + ")"
	}
	return fmt.Sprintf("%d provider calls%s, %d %s, %d input + %d output tokens, cost %s",
		u.Calls, failed, u.CacheHits, cached, u.InputTokens, u.OutputTokens, cost)
}

func validateCmd() *cobra.Command {
	var show int
	c := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check an experiment file without running it",
		Long: `validate checks an experiment file without running it: every problem of the file and of
the files it names, and every request the run would make is built (the first 200,000), so that
every template is rendered with the values the run gives it. No backend is called.

--show-prompts N prints N of those requests exactly as the run builds them (system text, prompt,
response schema), sampled with the experiment's seed across the study's steps (rounds, a game's
stages), conditions and scenarios. Steps after the first are built as prosim estimate builds
them, with placeholder answers to the earlier ones: their observations (neighbours' ratings, a
partner's offer, earlier trials) are marked as placeholders.`,
		Example: `  prosim validate exp.yaml
  prosim validate exp.yaml --show-prompts 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if show < 0 || show > maxShowPrompts {
				return usageError{fmt.Errorf("--show-prompts %d: want a number of requests from 0 to %d", show, maxShowPrompts)}
			}
			// The file's problems and the engine's checks' are reported together (Prepare).
			exp, err := experiment.LoadChecking(args[0])
			if exp == nil {
				return engine.WithMissingKeys(args[0], err)
			}
			r, err := engine.Prepare(exp, engine.Options{})
			if err != nil {
				return err
			}
			defer r.Close()
			desc := r.Describe()
			// Build every request, so that no scenario or policy template fails at run time.
			pc, err := r.CheckPrompts(show)
			if err != nil {
				return yamlx.Prefix(args[0], err) // a scenario's template: located in its file already
			}
			checked := fmt.Sprintf("every prompt renders: %s built", plural.Count(pc.Built, "request"))
			if !pc.All {
				checked = fmt.Sprintf("the first %d requests built render; the rest are not built by validate", pc.Built)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s; %s)\n", args[0], desc, checked)
			if n := r.CurrencyNote(); n != "" {
				fmt.Fprintln(cmd.OutOrStdout(), "note: "+n)
			}
			return writeShown(cmd.OutOrStdout(), pc)
		},
	}
	c.Flags().IntVar(&show, "show-prompts", 0, "print `N` of the requests built, as the run sends them")
	return c
}
