package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/termtable"
)

func scenariosCmd() *cobra.Command {
	var files, policyFiles []string
	var pol string
	var seed uint64
	c := &cobra.Command{
		Use:   "scenarios [ID]",
		Short: "List the scenario and policy library, or show one vignette's full prompt (built-in plus any files given)",
		Long: `scenarios lists the scenario and policy library (built-in plus any --file and --policy-file).

With a scenario ID it prints that scenario in full: its response fields, and for a vignette the
exact system text and prompt a run sends, for one sampled persona (--seed) under one policy
(--policy, default none). Games are asked by their studies (games, tpp), which add the pairing
and the payoffs; their prompts are not shown here. prosim validate EXP --show-prompts N shows the
requests of an experiment: its own population, games, Study 3 rounds.`,
		Example: `  prosim scenarios
  prosim scenarios volunteering --policy moral
  prosim scenarios blood_drive --file my_scenarios.yaml --policy-file my_policies.yaml --policy blood_leave`,
		Args: cobra.MaximumNArgs(1),
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
			pl, err := policy.Builtin()
			if err != nil {
				return err
			}
			for _, f := range policyFiles {
				if err := pl.LoadFile(f, policy.Scenarios{IDs: lib.IDs()}); err != nil {
					return err
				}
			}
			if len(args) == 1 {
				if _, ok := pl.Get(pol); !ok {
					return usageError{fmt.Errorf("--policy %s: %s", pol, pl.Unknown(pol, "prosim scenarios lists them; add yours with --policy-file"))}
				}
				return showScenario(cmd, lib, args[0], pol, seed, files, policyFiles)
			}
			out := cmd.OutOrStdout()
			// Long cells are cut only on a terminal, to keep a row on a line; a file or a pipe
			// gets them whole, a table other tools can read.
			cut := func(s string, n int) string {
				if termtable.WidthOf(out) == 0 {
					return s
				}
				return cut(s, n)
			}
			rows := [][]string{{"SCENARIO", "KIND", "RESPONSE FIELDS", "TITLE"}}
			for _, sc := range lib.List() {
				var fields []string
				for _, f := range sc.Response.Fields {
					fields = append(fields, f.Name)
				}
				kind := sc.Kind
				if sc.Game != "" {
					kind += ":" + sc.Game
				}
				rows = append(rows, []string{sc.ID, kind, cut(strings.Join(fields, ","), 28), cut(orDash(sc.Title)+fromFile(sc.Source), 30)})
			}
			if err := termtable.Write(out, 1, rows); err != nil { // split by columns on a narrow terminal
				return err
			}
			fmt.Fprintln(out)
			rows = [][]string{{"POLICY", "CHANNEL", "AMOUNT", "TITLE"}}
			for _, f := range pl.List() {
				amount := "-"
				if f.Amount != 0 {
					amount = fmt.Sprint(f.Amount)
				}
				rows = append(rows, []string{f.ID, f.Channel, amount, cut(orDash(f.Title)+fromFile(f.Source), 40)})
			}
			if err := termtable.Write(out, 1, rows); err != nil {
				return err
			}
			fmt.Fprintln(out, "\nprosim scenarios ID [--policy POLICY] shows one scenario in full, with its prompt.")
			return nil
		},
	}
	c.Flags().StringArrayVar(&files, "file", nil, "also load this scenario YAML file (repeatable)")
	c.Flags().StringArrayVar(&policyFiles, "policy-file", nil, "also load this policy YAML file (repeatable)")
	c.Flags().StringVar(&pol, "policy", "none", "with ID: the policy frame shown in the prompt")
	c.Flags().Uint64Var(&seed, "seed", 1, "with ID: the seed of the sampled persona shown")
	return c
}

// fromFile marks a library entry read from a user's file.
func fromFile(source string) string {
	if source == "" || source == "builtin" {
		return ""
	}
	return " (" + filepath.Base(source) + ")"
}

// orDash marks an omitted title (it is optional, see docs/scenarios.md) as the AMOUNT column
// marks no amount.
func orDash(title string) string {
	if title == "" {
		return "-"
	}
	return title
}

// cut shortens s to n characters, marking the cut: a list row stays within 100 columns on a
// terminal.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// showScenario prints one scenario in full and, for a vignette, the system text and prompt of
// a one-agent Study 1 run of it under policy pol: the very request the engine builds.
func showScenario(cmd *cobra.Command, lib *scenario.Library, id, pol string, seed uint64, files, policyFiles []string) error {
	sc, ok := lib.Get(id)
	if !ok {
		return usageError{fmt.Errorf("%s", lib.Unknown(id, "prosim scenarios lists them"))}
	}
	out := cmd.OutOrStdout()
	kind := sc.Kind
	if sc.Game != "" {
		kind += ", game " + sc.Game
	}
	title := sc.ID
	if sc.Title != "" {
		title += ": " + sc.Title
	}
	fmt.Fprintf(out, "%s (%s; %s)\n", termtable.Plain(title), kind, termtable.Plain(sc.Source))
	if sc.Cost != "" {
		fmt.Fprintf(out, "cost: %s\n", termtable.Plain(costText(sc, seed)))
	}
	fmt.Fprintln(out, "response fields:")
	for _, f := range sc.Response.Fields {
		fmt.Fprintf(out, "  %s", fieldWord(f))
		if f.Description != "" {
			fmt.Fprintf(out, ": %s", termtable.Plain(f.Description))
		}
		fmt.Fprintln(out)
	}
	if sc.Kind != "vignette" {
		fmt.Fprintf(out, "\nA game is asked by study games (or tpp), which adds the pairing and the payoffs to its prompt; prompts are shown here for vignettes only (an experiment's, games too: prosim validate EXP --show-prompts N).\n")
		return nil
	}
	abs := func(fs []string) []string {
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i], _ = filepath.Abs(f)
		}
		return out
	}
	src := map[string]any{
		"name": "preview", "study": "vignettes", "seed": 1,
		"population":     map[string]any{"source": "sample", "n": 1, "seed": seed},
		"scenario_files": abs(files), "policy_files": abs(policyFiles),
		"scenarios":  []string{id},
		"conditions": []map[string]string{{"name": pol, "policy": pol}},
		// Any LLM backend: the prompt is the same for every backend, and an LLM one, never
		// called (Offline), does not refuse a scenario the behavioural model cannot rate.
		"backend": map[string]string{"provider": "ollama", "model": "preview"},
		"cache":   "off",
	}
	data, err := yaml.Marshal(src)
	if err != nil {
		return err
	}
	exp, err := experiment.Parse(data, "scenarios --policy "+pol)
	if err != nil {
		return err
	}
	r, err := engine.Prepare(exp, engine.Options{NoCache: true, Offline: true})
	if err != nil {
		return err
	}
	defer r.Close()
	system, prompt, err := r.FirstRequest()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe request of a Study 1 run under policy %s, for the persona sampled with seed %d (--seed):\n", pol, seed)
	fmt.Fprintf(out, "\n--- system ---\n%s\n\n--- prompt ---\n%s\n", termtable.PlainLines(system), termtable.PlainLines(prompt))
	return nil
}

// costText is the scenario's cost rendered as its text is, with its own parameters and the
// currency of the persona shown (--seed). A game's cost may refer to terms its game sets per
// decision: it is then shown as written.
func costText(sc scenario.Scenario, seed uint64) string {
	currency := ""
	if ps, err := persona.Sample(1, seed, persona.SampleOptions{}); err == nil {
		currency = ps[0].Currency
	}
	text, err := sc.RenderCost(nil, currency)
	if err != nil {
		return sc.Cost + " (as written: the game sets its terms per decision)"
	}
	return text
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
			if show < 0 {
				return usageError{fmt.Errorf("--show %d: want how many personas to print, 0 or more (0: only their count)", show)}
			}
			if runDir != "" && (len(args) > 0 || cmd.Flags().Changed("n") || cmd.Flags().Changed("seed")) {
				return usageError{fmt.Errorf("--run takes the population of the run folder: give no FILE, --n or --seed with it")}
			}
			switch {
			case runDir != "":
				exp, lerr := engine.RunConfig(runDir)
				if lerr != nil {
					return lerr
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
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s to %s\n", plural.Count(len(ps), "persona"), csvOut)
			}
			out := cmd.OutOrStdout()
			if show == 0 {
				fmt.Fprintln(out, plural.Count(len(ps), "persona"))
				return nil
			}
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
	c.Flags().IntVar(&show, "show", 5, "how many personas to print (0: only their count)")
	c.Flags().BoolVar(&scores, "scores", false, "include trait scores")
	c.Flags().BoolVar(&averages, "averages", false, "include population averages")
	c.Flags().StringVar(&csvOut, "csv", "", "also write all personas to this CSV file")
	c.Flags().StringVar(&runDir, "run", "", "the population of this run directory (from its config.yaml)")
	return c
}
