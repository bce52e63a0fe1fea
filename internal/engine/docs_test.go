package engine

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/results.md from the declared tables")

// docs/results.md documents every table a run writes, from the very declarations the CSV
// and Parquet writers use; this test keeps the two from drifting apart.
func TestResultsDocsMatchDeclaredTables(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Result tables\n\n" +
		"Generated from the tables' declarations (`go test ./internal/engine -run Docs -update-docs`): " +
		"the CSVs in RUN_DIR/results and the Parquet files of `prosim export` have exactly these columns " +
		"and types. In the CSVs a missing value is an empty cell; booleans are 1/0; floats are written " +
		"in full precision, the shortest decimal that reads back exactly (below 1e-4 and from 1e21 " +
		"with an exponent, e.g. 9.57e-101, as R and pandas read it), but in a column whose type gives " +
		"a number of decimals, rounded to them (in Parquet too; a summary's means and shares, beside the exact sums and counts). In Parquet every column is optional (null = missing) and typed as declared, " +
		"so a text column is text even when every value is empty.\n\n" +
		"## Every recorded study\n\n")
	b.WriteString(table.Markdown(DecisionsSchema, AgentsSchema))
	for _, name := range study.Names() {
		s := study.Schemas(name)
		if extra := study.AgentColumnsOf(name); len(extra) > 0 {
			s = append([]table.Schema{{Name: "agents", Doc: "Study `" + name + "` adds these columns to agents.csv, after the persona's.",
				Columns: extra}}, s...)
		}
		if len(s) > 0 {
			b.WriteString("\n## Study `" + name + "`\n\n")
			b.WriteString(table.Markdown(s...))
		}
	}
	const path = "../../docs/results.md"
	if *updateDocs {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != b.String() {
		t.Errorf("docs/results.md is out of date: run go test ./internal/engine -run Docs -update-docs")
	}
}
