package store

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
)

const decisionsCSV = `run_id,backend,model,condition,policy,replicate,agent_id,round,trial,scenario,field,value,value_label,valid,invalid_reason,cached
r1,builtin,behavioral-v1,none,none,1,3,0,0,helping,willingness,5,,1,,0
r1,builtin,behavioral-v1,none,none,1,4,0,0,helping,willingness,,,0,field willingness: 9 is outside 1..7,1
`

// A file the engine may add later (Study 3 rounds): types are inferred from the values.
const roundsCSV = `run_id,round,agent_id,group,willingness,share,is_affected
r1,1,0,victim,4,0.5,0
r1,2,0,victim,3,,1
`

func TestExportParquetKeepsColumnsAndTypesThem(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "results"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "results", "decisions.csv"), []byte(decisionsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results", "rounds.csv"), []byte(roundsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	paths, err := ExportParquet(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "decisions.parquet" || filepath.Base(paths[1]) != "rounds.parquet" {
		t.Fatalf("wrote %v", paths)
	}

	type col struct {
		name     string
		kind     parquet.Kind
		optional bool
	}
	check := func(path string, want []col, rows int) []parquet.Row {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		var got []col
		for _, fl := range pf.Schema().Fields() {
			got = append(got, col{fl.Name(), fl.Type().Kind(), fl.Optional()})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s schema\n got %v\nwant %v", path, got, want)
		}
		if pf.NumRows() != int64(rows) {
			t.Errorf("%s: %d rows, want %d", path, pf.NumRows(), rows)
		}
		r := parquet.NewReader(pf)
		out := make([]parquet.Row, rows)
		n, _ := r.ReadRows(out)
		return out[:n]
	}
	s, i, d, b := parquet.ByteArray, parquet.Int64, parquet.Double, parquet.Boolean
	rows := check(paths[0], []col{{"run_id", s, false}, {"backend", s, false}, {"model", s, false}, {"condition", s, false}, {"policy", s, false},
		{"replicate", i, true}, {"agent_id", i, true}, {"round", i, true}, {"trial", i, true}, {"scenario", s, false}, {"field", s, false},
		{"value", d, true}, {"value_label", s, false}, {"valid", b, true}, {"invalid_reason", s, false}, {"cached", b, true}}, 2)
	if len(rows) != 2 {
		t.Fatalf("read %d rows", len(rows))
	}
	// Leaf columns in order: agent_id is column 6, value 11, valid 13, invalid_reason 14.
	if v := rows[0][6]; v.Int64() != 3 {
		t.Errorf("agent_id = %v", v)
	}
	if v := rows[0][11]; v.IsNull() || v.Double() != 5 {
		t.Errorf("value = %v, want 5", v)
	}
	if v := rows[1][11]; !v.IsNull() {
		t.Errorf("an invalid decision's value is %v, want null", v)
	}
	if !rows[0][13].Boolean() || rows[1][13].Boolean() || !rows[1][15].Boolean() {
		t.Errorf("valid/cached = %v %v %v", rows[0][13], rows[1][13], rows[1][15])
	}
	if got := string(rows[1][14].ByteArray()); got != "field willingness: 9 is outside 1..7" {
		t.Errorf("invalid_reason = %q", got)
	}
	rows = check(paths[1], []col{{"run_id", s, false}, {"round", i, true}, {"agent_id", i, true}, {"group", s, false},
		{"willingness", i, true}, {"share", d, true}, {"is_affected", b, true}}, 2)
	if len(rows) == 2 && (!rows[1][5].IsNull() || rows[0][5].Double() != 0.5) {
		t.Errorf("share = %v, %v", rows[0][5], rows[1][5])
	}
}

func TestExportNeedsResults(t *testing.T) {
	if _, err := ExportParquet(t.TempDir()); err == nil {
		t.Fatal("exporting a directory without results/*.csv succeeded")
	}
}

func TestExportRejectsATypedColumnThatDoesNotParse(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "results"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "results", "decisions.csv"), []byte("agent_id,valid\nseven,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ExportParquet(dir); err == nil {
		t.Fatal("a non-integer agent_id was exported")
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "decisions.parquet")); err == nil {
		t.Error("a failed export left a parquet file")
	}
}

// The spending columns of decisions.csv keep their declared types whatever the values: a
// builtin run's cost and latency, 0 in every row, are still doubles.
func TestExportTypesSpendingColumns(t *testing.T) {
	rows := [][]string{{"0", "0", "0", "0", "0", "0"}, {"2", "1", "50", "5", "", "12.5"}}
	for i, c := range []struct {
		name string
		want ColumnType
	}{{"calls", Int64}, {"failed_calls", Int64}, {"input_tokens", Int64}, {"output_tokens", Int64}, {"cost_usd", Float64}, {"latency_ms", Float64}} {
		if got := columnType(c.name, rows[:1], i); got != c.want {
			t.Errorf("%s typed %v, want %v", c.name, got, c.want)
		}
		if got := columnType(c.name, rows, i); got != c.want {
			t.Errorf("%s typed %v with values, want %v", c.name, got, c.want)
		}
	}
}
