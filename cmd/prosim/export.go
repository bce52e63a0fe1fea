package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/writing"
)

func init() { extraCommands = append(extraCommands, exportCmd) }

func exportCmd() *cobra.Command {
	var format, out string
	c := &cobra.Command{
		Use:   "export RUN_DIR",
		Short: "Export a run's tidy results as CSV or Parquet for R and pandas",
		Long: `export gives a completed run's results as tidy tables, one row per observation, the
same columns in both formats:

  decisions.csv   every decision field (Studies 1-3): run_id, backend, model, condition,
                  policy, replicate, agent_id, round, trial, scenario, field, value, ...
  agents.csv      every agent (recorded runs): agent_id and every persona field and trait,
                  Study 3 adds degree; join it to the other tables on agent_id
  tpp_trials.csv  Study 2: one row per third-party punishment trial
  rounds.csv      Study 3: one row per agent, round and run, with exposure_distance,
                  affected and treated
  network_edges.csv, network_mediation.csv, network_contagion.csv
                  Study 3: the graph (agent ids), the mediation estimates, and the
                  contagion curve with its placebo by round
  rounds_summary.csv
                  Study 3 with network.store: summary: per-round aggregates by exposure
                  group (instead of rounds.csv and decisions.csv)
  games.csv, pg_punishments.csv
                  economic games: one row per agent per game per round (partner, choice,
                  payoff); public-goods punishment points, one row per punisher and target
  games_stats.csv, pg_rounds.csv, ultimatum_rejections.csv
                  economic games: the summary's statistics (with their estimand and the
                  human figure), public goods contributions by round, ultimatum rejections
                  by offer band, per backend x condition

With factors: in the experiment, decisions.csv, tpp_trials.csv, rounds.csv and games.csv end
with one column per factor crossed, holding the row's level, in this order:
` + experiment.FactorNames() + `.

--format csv: the CSVs in RUN_DIR/results are the export (the engine writes them at the end
of a run). They are UTF-8, comma-separated, with a header row; a missing value (the
willingness of an invalid decision, say) is an empty cell, which readr::read_csv and
pandas.read_csv read as NA/NaN (base R's read.csv does too for numeric columns; an empty
text cell stays ""). Booleans (valid, cached, affected, treated) are 1/0. Without --out the
command lists the files, with their rows and columns; with --out it copies them there.

--format parquet: writes NAME.parquet beside each NAME.csv (or into --out), with the same
columns, typed: ids, rounds, trials and whole-number ratings as INT64 (decisions.csv's value
and the estimates as DOUBLE), valid, cached, affected and treated as BOOLEAN, text as UTF-8
strings; a missing value is null (NA in R, NaN or <NA> in pandas). Snappy-compressed. Read
with arrow::read_parquet (R) or pandas.read_parquet (needs pyarrow).`,
		Example: `  prosim export runs/study3-network-20250101-120000
  prosim export runs/study3-network-20250101-120000 --format parquet
  prosim export runs/a --format csv --out /tmp/a-results`,
		Args:        cobra.ExactArgs(1),
		Annotations: doneOnSuccessAnnotation,
		RunE: func(cmd *cobra.Command, args []string) error {
			format = strings.ToLower(format)
			if format != "csv" && format != "parquet" {
				return usageError{fmt.Errorf("--format %q: want csv or parquet", format)}
			}
			return export(cmd.OutOrStdout(), args[0], format, out)
		},
	}
	c.Flags().StringVar(&format, "format", "csv", "csv or parquet")
	c.Flags().StringVarP(&out, "out", "o", "", "directory to write the files to (default RUN_DIR/results)")
	return c
}

// export writes (or, for csv without out, lists) a run's results and says how to load them.
func export(w io.Writer, runDir, format, out string) error {
	if err := engine.CheckRunDir(runDir); err != nil { // not a run, or results/ without the run they came from
		return err
	}
	csvs, err := store.ResultCSVs(runDir)
	if err != nil {
		return err
	}
	results := filepath.Join(runDir, "results")
	if out == "" {
		out = results
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	same := sameDir(out, results)
	// The replay and the writing are abandoned at Ctrl-C, as a run's analysis is: each file is
	// written whole then renamed, so none is ever in place half-written.
	end := engine.CommandStage(engine.Stage{Name: fmt.Sprintf("exporting %s as %s", runDir, strings.ToUpper(format)), Abandon: true})
	defer end()
	// Parquet files of the run's tables are written from the tables' declared types (the same
	// declaration the CSVs were written from), by replaying the run; a CSV no table declares
	// (left by an older prosim) is converted with its types inferred.
	declared := map[string]*table.Table{}
	if format == "parquet" {
		a, err := engine.Analyze(runDir)
		if err != nil {
			return err
		}
		defer a.Close()
		for _, t := range a.Tables() {
			declared[t.Name+".csv"] = t
		}
	}
	var files []string
	for _, in := range csvs {
		name := filepath.Base(in)
		switch {
		case format == "parquet":
			p := filepath.Join(out, strings.TrimSuffix(name, ".csv")+".parquet")
			if t, ok := declared[name]; ok {
				pw, err := table.CreateParquet(p, t.Schema)
				if err != nil {
					return err
				}
				if err := table.Write(pw, t); err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			} else if err := store.CSVToParquet(in, p); err != nil {
				return err
			}
			files = append(files, p)
		case same:
			files = append(files, in)
		default:
			p := filepath.Join(out, name)
			if err := copyFile(in, p); err != nil {
				return err
			}
			files = append(files, p)
		}
	}
	end() // every file is in place
	verb := "wrote"
	if format == "csv" && same {
		verb = "the results of " + runDir + " are"
	}
	fmt.Fprintf(w, "%s %d %s %s in %s:\n", verb, len(files), strings.ToUpper(format), plural.Noun(len(files), "file"), out)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  file\trows\tcolumns")
	for i, f := range files {
		rows, cols, err := csvShape(csvs[i])
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", filepath.Base(f), rows, cols)
	}
	tw.Flush()
	first := files[0]
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "rounds.") {
			first = f
		}
	}
	if format == "parquet" {
		fmt.Fprintf(w, "R:      d <- arrow::read_parquet(%q)\npandas: d = pd.read_parquet(%q)\n", first, first)
	} else {
		fmt.Fprintf(w, "R:      d <- readr::read_csv(%q)   # or read.csv()\npandas: d = pd.read_csv(%q)\n", first, first)
	}
	return nil
}

func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// csvShape counts a CSV's data rows and gives its header.
func csvShape(path string) (int, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	head = slices.Clone(head) // the reader reuses the record
	cols := strings.Join(head, ",")
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, "", fmt.Errorf("%s: %w", path, err)
		}
		n++
	}
	if len(cols) > 60 {
		cols = fmt.Sprintf("%d: %s, ...", len(head), strings.Join(head[:min(4, len(head))], ","))
	}
	return n, cols, nil
}

// copyFile copies in to out, written whole and renamed into place.
func copyFile(in, out string) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := out + ".tmp"
	defer writing.Begin(tmp)()
	dst, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}
