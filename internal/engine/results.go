package engine

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
)

// DecisionColumns is the header of results/decisions.csv: tidy long format, one row per
// decision field.
var DecisionColumns = []string{"run_id", "backend", "model", "condition", "policy", "replicate", "agent_id",
	"round", "trial", "scenario", "field", "value", "value_label", "valid", "invalid_reason", "cached"}

// writeResults writes results/*.csv from the store. Files are written whole and renamed into
// place, so a reader never sees half a file.
func (r *Runner) writeResults() error {
	dir := filepath.Join(r.dir, "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	schemas := func(id string) (scenario.Schema, bool) {
		sc, ok := r.scen.Get(id)
		return sc.Response, ok
	}
	if err := writeCSV(filepath.Join(dir, "decisions.csv"), func(w *csv.Writer) error {
		return WriteDecisions(r.st, schemas, w)
	}); err != nil {
		return err
	}
	return nil
}

func writeCSV(path string, fill func(*csv.Writer) error) error {
	return writeFile(path, func(f io.Writer) error {
		w := csv.NewWriter(f)
		if err := fill(w); err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	})
}

// writeFile writes path through a temporary file renamed into place, so a crash never leaves
// a half-written result looking complete.
func writeFile(path string, fill func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// WriteDecisions writes every decision in the store as tidy rows. Invalid decisions get one
// row per schema field with an empty value, so counts per field stay comparable.
func WriteDecisions(st *store.Store, schemaOf func(string) (scenario.Schema, bool), w *csv.Writer) error {
	runs, err := st.Runs()
	if err != nil {
		return err
	}
	byID := map[string]store.Run{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	if err := w.Write(DecisionColumns); err != nil {
		return err
	}
	return st.Decisions(func(d store.Decision) error {
		run := byID[d.RunID]
		schema, ok := schemaOf(d.Scenario)
		if !ok {
			return fmt.Errorf("decision of unknown scenario %q", d.Scenario)
		}
		valid := "1"
		if !d.Reply.Valid() {
			valid = "0"
		}
		for _, f := range schema.Fields {
			val, label := "", ""
			if d.Reply.Valid() {
				v := d.Reply.Values[f.Name]
				val = formatNum(v)
				if f.Kind == scenario.Choice && int(v) >= 0 && int(v) < len(f.Options) {
					label = f.Options[int(v)]
				}
			}
			rec := []string{d.RunID, run.Backend, d.Reply.Model, run.Condition, run.Policy, strconv.Itoa(run.Replicate),
				strconv.Itoa(d.AgentID), strconv.Itoa(d.Round), strconv.Itoa(d.Trial), d.Scenario, f.Name, val, label,
				valid, oneLine(d.Reply.Invalid), b01(d.Reply.Cached)}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// oneLine keeps a CSV cell on one line: quoted newlines are legal CSV but trip naive readers.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
