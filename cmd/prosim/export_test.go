package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

// A small Study 3 run (builtin backend) makes every kind of results file but tpp_trials.csv.
const exportStudy = `name: export-test
study: network
seed: 11
replicates: 2
population: {source: sample, n: 24}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.1}
  rounds: 3
  scenario: volunteering
  activation: {fraction: 0.5}
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 3, from: 2}
backend:
  provider: builtin
`

func exportRun(t *testing.T) string {
	t.Helper()
	exp, err := experiment.Parse([]byte(exportStudy), "export-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := engine.Run(t.Context(), exp, engine.Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mustProsim runs the command line in-process and fails the test on an error.
func mustProsim(t *testing.T, args ...string) string {
	t.Helper()
	out, err := prosim(t, args...)
	if err != nil {
		t.Fatalf("prosim %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestExportParquetReadsBackTyped(t *testing.T) {
	run := exportRun(t)
	out := filepath.Join(t.TempDir(), "pq")
	msg := mustProsim(t, "export", run, "--format", "parquet", "--out", out)
	if !strings.Contains(msg, "arrow::read_parquet(") || !strings.Contains(msg, "pd.read_parquet(") {
		t.Errorf("no loading hint in:\n%s", msg)
	}
	s, i, d, b := parquet.ByteArray, parquet.Int64, parquet.Double, parquet.Boolean
	want := map[string]map[string]parquet.Kind{
		"rounds": {"run_id": s, "condition": s, "replicate": i, "agent_id": i, "round": i, "willingness": i, "unfairness": i,
			"exposure_distance": i, "affected": b, "treated": b, "valid": b, "invalid_reason": s},
		"decisions":         {"run_id": s, "backend": s, "replicate": i, "agent_id": i, "round": i, "field": s, "value": d, "valid": b, "cached": b},
		"network_edges":     {"source": i, "target": i},
		"agents":            {"agent_id": i, "gender": s, "age": i, "income_quintile": i, "annual_income": d, "empathic_concern": d, "degree": i},
		"network_mediation": {"backend": s, "condition": s, "from_round": i, "n": i, "a": d, "indirect": d, "boot_low": d, "mc_high": d, "boot_reps": i},
	}
	for name, cols := range want {
		recs := readCSVFile(t, filepath.Join(run, "results", name+".csv"))
		path := filepath.Join(out, name+".parquet")
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		if got := pf.NumRows(); got != int64(len(recs)-1) || got == 0 {
			t.Errorf("%s: %d rows, the CSV %d", name, got, len(recs)-1)
		}
		fields := pf.Schema().Fields()
		if len(fields) != len(recs[0]) {
			t.Errorf("%s: %d columns, the CSV %d", name, len(fields), len(recs[0]))
		}
		kinds := map[string]parquet.Kind{}
		for j, fl := range fields {
			if fl.Name() != recs[0][j] {
				t.Errorf("%s column %d is %s, the CSV's %s", name, j, fl.Name(), recs[0][j])
			}
			kinds[fl.Name()] = fl.Type().Kind()
		}
		for c, k := range cols {
			if kinds[c] != k {
				t.Errorf("%s.%s is %v, want %v", name, c, kinds[c], k)
			}
		}
		// Every cell reads back as the CSV's: empty cells as nulls.
		rows := make([]parquet.Row, pf.NumRows())
		n, _ := parquet.NewReader(pf).ReadRows(rows)
		for r, row := range rows[:n] {
			for j, v := range row {
				cell := recs[r+1][j]
				var got string
				switch {
				case v.IsNull():
				case v.Kind() == parquet.Boolean:
					got = map[bool]string{true: "1", false: "0"}[v.Boolean()]
				case v.Kind() == parquet.Int64:
					got = strconv.FormatInt(v.Int64(), 10)
				case v.Kind() == parquet.Double:
					got = strconv.FormatFloat(v.Double(), 'f', -1, 64)
				default:
					got = string(v.ByteArray())
				}
				if got != cell {
					t.Fatalf("%s row %d column %s: parquet %q, CSV %q", name, r+1, recs[0][j], got, cell)
				}
			}
		}
		f.Close()
	}
}

func TestExportCSVListsOrCopies(t *testing.T) {
	run := exportRun(t)
	msg := mustProsim(t, "export", run)
	for _, w := range []string{"rounds.csv", "decisions.csv", "network_edges.csv", "network_mediation.csv", "readr::read_csv(", "pd.read_csv("} {
		if !strings.Contains(msg, w) {
			t.Errorf("listing lacks %q:\n%s", w, msg)
		}
	}
	rounds := readCSVFile(t, filepath.Join(run, "results", "rounds.csv"))
	if !regexp.MustCompile(`rounds\.csv +` + strconv.Itoa(len(rounds)-1) + ` `).MatchString(msg) {
		t.Errorf("listing does not give rounds.csv's %d rows:\n%s", len(rounds)-1, msg)
	}
	out := filepath.Join(t.TempDir(), "csv")
	mustProsim(t, "export", run, "--format", "csv", "--out", out)
	for _, name := range []string{"rounds.csv", "decisions.csv", "network_edges.csv", "network_mediation.csv"} {
		a, _ := os.ReadFile(filepath.Join(run, "results", name))
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s not copied as is (%v)", name, err)
		}
	}
	if _, err := prosim(t, "export", run, "--format", "xlsx"); err == nil {
		t.Error("--format xlsx accepted")
	}
	noResults := t.TempDir() // a run folder without its results/
	for _, name := range []string{"config.yaml", "prosim.db"} {
		data, err := os.ReadFile(filepath.Join(run, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(noResults, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := prosim(t, "export", noResults); err == nil || !strings.Contains(err.Error(), "has no results/*.csv") {
		t.Errorf("a run directory without results: %v", err)
	}
}

// verify, export, report and resume of a folder that does not exist, of one that is not a run
// and of a file say so plainly (QA: verify blamed a missing manifest.json, export missing
// results, both on a folder that did not exist).
func TestRunCommandsOnANonRun(t *testing.T) {
	dir := t.TempDir()
	notRun := filepath.Join(dir, "photos")
	if err := os.Mkdir(notRun, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "nope"): " does not exist: no such run directory",
		notRun:                     " is not a prosim run directory: it has no config.yaml",
		file:                       " is a file, not a run directory",
	} {
		for _, cmd := range []string{"verify", "export", "report", "resume"} {
			_, err := prosim(t, cmd, path)
			if err == nil || err.Error() != path+want && !strings.HasPrefix(err.Error(), path+want+",") {
				t.Errorf("prosim %s %s: %v, want %q", cmd, path, err, path+want)
			}
		}
	}
}
