package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
)

func scenariosCmd() *cobra.Command {
	var files, policyFiles []string
	c := &cobra.Command{
		Use:   "scenarios",
		Short: "List the scenario and policy library (built-in plus any files given)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lib, err := scenario.Builtin()
			if err != nil {
				return err
			}
			for _, f := range files {
				if err := lib.LoadFile(f); err != nil {
					return err
				}
			}
			pol, err := policy.Builtin()
			if err != nil {
				return err
			}
			for _, f := range policyFiles {
				if err := pol.LoadFile(f); err != nil {
					return err
				}
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "SCENARIO\tKIND\tRESPONSE\tCOST\tSOURCE\t")
			for _, sc := range lib.List() {
				var fields []string
				for _, f := range sc.Response.Fields {
					fields = append(fields, fieldWord(f))
				}
				kind := sc.Kind
				if sc.Game != "" {
					kind += ":" + sc.Game
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", sc.ID, kind, strings.Join(fields, " "), sc.Cost, sc.Source)
			}
			fmt.Fprintln(w, "\t\t\t\t\t")
			fmt.Fprintln(w, "POLICY\tCHANNEL\tAMOUNT\tTITLE\tSOURCE\t")
			for _, f := range pol.List() {
				amount := "-"
				if f.Amount != 0 {
					amount = fmt.Sprint(f.Amount)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", f.ID, f.Channel, amount, f.Title, f.Source)
			}
			return w.Flush()
		},
	}
	c.Flags().StringArrayVar(&files, "file", nil, "also load this scenario YAML file (repeatable)")
	c.Flags().StringArrayVar(&policyFiles, "policy-file", nil, "also load this policy YAML file (repeatable)")
	return c
}

func fieldWord(f scenario.Field) string {
	switch f.Kind {
	case scenario.Choice:
		return fmt.Sprintf("%s{%s}", f.Name, strings.Join(f.Options, "|"))
	default:
		return fmt.Sprintf("%s[%g..%g]", f.Name, f.Min, f.Max)
	}
}

func personasCmd() *cobra.Command {
	var n, show int
	var seed uint64
	var scores, averages bool
	var csvOut, runDir string
	c := &cobra.Command{
		Use:   "personas [FILE|prosim104]",
		Short: "Print rendered personas: sampled (--n, --seed), the original study's (prosim104), from a persona file, or a run's (--run)",
		Long: `personas prints rendered personas, and with --csv writes them all as a population file.

--run RUN_DIR gives the population of a run folder: sampled again from its config.yaml
(population.n and population.seed, so also for a network.store: summary run, which keeps
nothing per agent), or read from its inputs/ (population.file). For a recorded run, the CSV
has the rows of results/agents.csv, which names the id column agent_id (the key of
decisions.csv) and may add a study's own columns (Study 3: degree).`,
		Example: `  prosim personas --n 500 --seed 1 --show 3
  prosim personas prosim104 --show 2 --scores
  prosim personas people.csv
  prosim personas --n 1000 --seed 1 --csv people.csv
  prosim personas --run runs/study1-20250101-120000 --csv study1-agents.csv`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ps []persona.Persona
			var err error
			if runDir != "" && (len(args) > 0 || cmd.Flags().Changed("n") || cmd.Flags().Changed("seed")) {
				return usageError{fmt.Errorf("--run takes the population of the run folder: give no FILE, --n or --seed with it")}
			}
			switch {
			case runDir != "":
				exp, lerr := experiment.Load(filepath.Join(runDir, "config.yaml"))
				if lerr != nil {
					return fmt.Errorf("%s is not a prosim run directory: %w", runDir, lerr)
				}
				ps, err = engine.Population(exp)
			case len(args) == 1 && args[0] == "prosim104":
				ps, err = persona.Builtin("prosim104")
			case len(args) == 1:
				ps, err = persona.Load(args[0])
			default:
				// The same bound as an experiment's population.n, checked before allocating.
				if n < 1 || n > 10_000_000 {
					return usageError{fmt.Errorf("--n %d: want a number of agents from 1 to 10000000", n)}
				}
				ps, err = persona.Sample(n, seed, persona.SampleOptions{})
			}
			if err != nil {
				return err
			}
			if csvOut != "" {
				f, err := os.Create(csvOut)
				if err != nil {
					return err
				}
				if err := persona.WriteCSV(f, ps); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d personas to %s\n", len(ps), csvOut)
			}
			out := cmd.OutOrStdout()
			for i, p := range ps {
				if i == show {
					fmt.Fprintf(out, "... and %d more\n", len(ps)-show)
					break
				}
				fmt.Fprintf(out, "--- agent %d\n%s\n\n", p.ID, persona.Render(p, persona.RenderOptions{ShowScores: scores, ShowAverage: averages}))
			}
			return nil
		},
	}
	c.Flags().IntVar(&n, "n", 104, "agents to sample")
	c.Flags().Uint64Var(&seed, "seed", 1, "sampling seed")
	c.Flags().IntVar(&show, "show", 5, "how many personas to print")
	c.Flags().BoolVar(&scores, "scores", false, "include trait scores")
	c.Flags().BoolVar(&averages, "averages", false, "include population averages")
	c.Flags().StringVar(&csvOut, "csv", "", "also write all personas to this CSV file")
	c.Flags().StringVar(&runDir, "run", "", "the population of this run directory (from its config.yaml)")
	return c
}
