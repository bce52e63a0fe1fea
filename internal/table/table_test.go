package table

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

var decisions = Schema{
	Name: "decisions",
	Doc:  "One row per decision field.",
	Columns: []Column{
		{Name: "run_id", Type: String, Doc: "the run"},
		{Name: "replicate", Type: Int, Doc: "replicate, from 1"},
		{Name: "value", Type: Float, Doc: "the answer; empty when invalid"},
		{Name: "value_label", Type: String, Doc: "the option's label | for choices"},
		{Name: "valid", Type: Bool, Doc: "1 when the reply was valid"},
		{Name: "invalid_reason", Type: String, Doc: "why not"},
		{Name: "share", Type: Float, Doc: "a share", Decimals: 4},
	},
}

// The reference formatting of the engine's hand-written CSVs (internal/engine: formatNum,
// b01, strconv.Itoa, encoding/csv), to check the table package writes the same bytes; floats
// below 1e-4 or from 1e21 with an exponent (FormatFloat).
func legacyCSV(t *testing.T, header []string, rows [][]any) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
			case string:
				rec[i] = x
			case int:
				rec[i] = strconv.Itoa(x)
			case int64:
				rec[i] = strconv.FormatInt(x, 10)
			case int32:
				rec[i] = strconv.Itoa(int(x))
			case float64:
				if !math.IsNaN(x) {
					if header[i] == "share" {
						rec[i] = strconv.FormatFloat(x, 'f', 4, 64)
					} else if a := math.Abs(x); a != 0 && a < 1e-4 || a >= 1e21 {
						rec[i] = strconv.FormatFloat(x, 'e', -1, 64)
					} else {
						rec[i] = strconv.FormatFloat(x, 'f', -1, 64)
					}
				}
			case bool:
				rec[i] = "0"
				if x {
					rec[i] = "1"
				}
			}
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var point1 = 0.1 // a variable: 0.1 + 0.2 computed at run time is 0.30000000000000004

var sampleRows = [][]any{
	{"none.r1", 1, 5.0, "", true, "", 0.5},
	{"none.r1", 2, 20 - 8 + 1.6*7, "agree, strongly", false, `said "no"`, 1.0 / 3},
	{"moral.r1", int64(3), math.NaN(), nil, true, " leading space", nil},
	{"x\ny", int32(4), 1e21, "ünïcødé", false, "a,b", 0.00004},
	{"", 0, math.Copysign(0, -1), "", true, "", math.Inf(1)},
	{"z", -7, point1 + 0.2, "", false, "", 12.5},
}

func TestCSVMatchesTheEngineFormatting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.csv")
	w, err := CreateCSV(path, decisions)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sampleRows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := legacyCSV(t, decisions.Header(), sampleRows)
	if !bytes.Equal(got, want) {
		t.Fatalf("CSV differs from the engine's formatting:\n got %q\nwant %q", got, want)
	}
	recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(sampleRows) || strings.Join(recs[0], ",") != "run_id,replicate,value,value_label,valid,invalid_reason,share" {
		t.Fatalf("records %q", recs)
	}
	if r := recs[2]; r[2] != "23.2" {
		t.Errorf("value %q", r[2])
	}
	if r := recs[6]; r[2] != "0.30000000000000004" || r[6] != "12.5000" {
		t.Errorf("row 6: %q", r)
	}
	if r := recs[3]; r[2] != "" || r[3] != "" || r[6] != "" || r[5] != " leading space" {
		t.Errorf("missing values: %q", r)
	}
	if r := recs[4]; r[0] != "x\ny" || r[2] != "1e+21" || r[6] != "0.0000" {
		t.Errorf("row 4: %q", r)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

// A tiny p-value reads as 9.57e-101, not as 100 digits; every float reads back as itself.
func TestFormatFloat(t *testing.T) {
	for v, want := range map[float64]string{
		9.574949101020052e-101: "9.574949101020052e-101", 0.0001: "0.0001", 0.000099: "9.9e-05",
		0.30000000000000004: "0.30000000000000004", 0: "0", -2.5e-7: "-2.5e-07", 123456789: "123456789",
		1e21: "1e+21", math.Inf(-1): "-Inf",
	} {
		got := FormatFloat(v)
		back, err := strconv.ParseFloat(got, 64)
		if got != want || err != nil || back != v {
			t.Errorf("FormatFloat(%v) = %q (reads %v, %v), want %q", v, got, back, err, want)
		}
	}
}

// An empty table is its header line.
func TestCSVEmptyTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.csv")
	w, err := CreateCSV(path, decisions)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "run_id,replicate,value,value_label,valid,invalid_reason,share\n" {
		t.Errorf("%q", got)
	}
}

type pqCol struct {
	name     string
	kind     parquet.Kind
	optional bool
	str      bool // annotated STRING
}

func readParquet(t *testing.T, path string) ([]pqCol, []parquet.Row, int) {
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
	var cols []pqCol
	for _, fl := range pf.Schema().Fields() {
		lt := fl.Type().LogicalType()
		cols = append(cols, pqCol{name: fl.Name(), kind: fl.Type().Kind(), optional: fl.Optional(),
			str: lt != nil && lt.UTF8 != nil})
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	var rows []parquet.Row
	buf := make([]parquet.Row, 100)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			rows = append(rows, row.Clone())
		}
		if err != nil {
			break
		}
	}
	return cols, rows, len(pf.RowGroups())
}

func TestParquetTypesAndNulls(t *testing.T) {
	dir := t.TempDir()
	// value_label and invalid_reason are empty in every row, as in a run with no choices and
	// no invalid replies: they must still be strings.
	s := decisions
	rows := [][]any{
		{"none.r1", 1, 5.0, "", true, "", 0.5},
		{"none.r1", 2, math.NaN(), nil, false, "", 1.0 / 3},
		{nil, nil, nil, nil, nil, nil, nil},
	}
	w, err := Create(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "decisions.csv")); err != nil {
		t.Error(err)
	}
	cols, got, _ := readParquet(t, filepath.Join(dir, "decisions.parquet"))
	want := []pqCol{
		{"run_id", parquet.ByteArray, true, true},
		{"replicate", parquet.Int64, true, false},
		{"value", parquet.Double, true, false},
		{"value_label", parquet.ByteArray, true, true},
		{"valid", parquet.Boolean, true, false},
		{"invalid_reason", parquet.ByteArray, true, true},
		{"share", parquet.Double, true, false},
	}
	if len(cols) != len(want) {
		t.Fatalf("columns %+v", cols)
	}
	for i := range want {
		if cols[i] != want[i] {
			t.Errorf("column %d: %+v, want %+v", i, cols[i], want[i])
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d rows", len(got))
	}
	r0, r1, r2 := got[0], got[1], got[2]
	if string(r0[0].ByteArray()) != "none.r1" || r0[1].Int64() != 1 || r0[2].Double() != 5 || r0[3].IsNull() ||
		string(r0[3].ByteArray()) != "" || !r0[4].Boolean() || r0[5].IsNull() || r0[6].Double() != 0.5 {
		t.Errorf("row 1: %v", r0)
	}
	if !r1[2].IsNull() || !r1[3].IsNull() || r1[4].Boolean() || r1[6].Double() != 0.3333 {
		t.Errorf("row 2 (NaN and nil are null; share as the CSV shows it): %v", r1)
	}
	for i, v := range r2 {
		if !v.IsNull() {
			t.Errorf("row 3, column %d: %v, want null", i, v)
		}
	}
}

func TestTypeMismatchNamesTableColumnRow(t *testing.T) {
	for _, bad := range []struct {
		row  []any
		want string
	}{
		{[]any{"a", 1.0, 2.0, "", true, "", 0.1}, "table decisions, row 2, column replicate: float64 value 1, want int"},
		{[]any{"a", 1, 2.0, "", 1, "", 0.1}, "column valid"},
		{[]any{"a", 1, float32(2), "", true, "", 0.1}, "column value"},
		{[]any{"a", 1, 2.0, 3, true, "", 0.1}, "column value_label"},
		{[]any{"a", 1}, "table decisions, row 2: 2 values, the table has 7 columns"},
	} {
		for _, f := range []Format{CSV, Parquet} {
			dir := t.TempDir()
			w, err := Create(dir, decisions, f)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(sampleRows[0]); err != nil {
				t.Fatal(err)
			}
			err = w.Write(bad.row)
			var ve *ValueError
			if err == nil || !strings.Contains(err.Error(), bad.want) || !errors.As(err, &ve) || ve.Row != 2 {
				t.Errorf("%s %v: got %v, want an error containing %q", f.Ext(), bad.row, err, bad.want)
			}
			// The writer is dead: no file, now or after Close.
			if err2 := w.Close(); err2 == nil {
				t.Errorf("%s: Close after a failed Write succeeded", f.Ext())
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("%s: files left after a failed write: %v", f.Ext(), ents)
			}
		}
	}
}

// A failing write through Create (both formats) leaves neither file.
func TestMultiAtomic(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, decisions)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleRows[0]); err != nil {
		t.Fatal(err)
	}
	// Not closed: nothing final yet, only temporaries.
	for _, n := range []string{"decisions.csv", "decisions.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s exists before Close", n)
		}
	}
	if err := w.Write([]any{"a"}); err == nil {
		t.Fatal("want an error")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left: %v", ents)
	}
	if err := w.Write(sampleRows[0]); err == nil {
		t.Error("Write after a failure succeeded")
	}
}

// Abort (what a caller defers) removes the unfinished files and does nothing after Close.
func TestAbort(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, decisions)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(sampleRows[0])
	w.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left after Abort: %v", ents)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after Abort succeeded")
	}

	w, err = Create(dir, decisions)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(sampleRows[0])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 || ents[0].Name() != "decisions.csv" || ents[1].Name() != "decisions.parquet" {
		t.Errorf("after Close then Abort: %v", ents)
	}
}

func TestSchemaCheck(t *testing.T) {
	for _, s := range []Schema{
		{Columns: []Column{{Name: "a"}}},
		{Name: "t"},
		{Name: "t", Columns: []Column{{Name: "a"}, {Name: "a"}}},
		{Name: "t", Columns: []Column{{Name: "a,b"}}},
		{Name: "t", Columns: []Column{{Name: "a", Type: 9}}},
		{Name: "t", Columns: []Column{{Name: "a", Type: Int, Decimals: 2}}},
	} {
		if err := s.Check(); err == nil {
			t.Errorf("%+v: no error", s)
		}
		if _, err := CreateCSV(filepath.Join(t.TempDir(), "x.csv"), s); err == nil {
			t.Errorf("%+v: CreateCSV accepted it", s)
		}
	}
}

// Many rows: several row groups of RowGroupRows, every row read back in order.
func TestParquetRowGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 150k rows")
	}
	s := Schema{Name: "big", Columns: []Column{{Name: "i", Type: Int}, {Name: "s", Type: String}, {Name: "x", Type: Float}, {Name: "b", Type: Bool}}}
	dir := t.TempDir()
	w, err := Create(dir, s, Parquet)
	if err != nil {
		t.Fatal(err)
	}
	const n = 150_000
	for i := range n {
		var x any = float64(i) / 2
		if i%7 == 0 {
			x = nil
		}
		if err := w.Write([]any{i, "s" + strconv.Itoa(i), x, i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, rows, groups := readParquet(t, filepath.Join(dir, "big.parquet"))
	if len(rows) != n || groups != (n+RowGroupRows-1)/RowGroupRows {
		t.Fatalf("%d rows in %d row groups", len(rows), groups)
	}
	for i, r := range rows {
		if r[0].Int64() != int64(i) || string(r[1].ByteArray()) != "s"+strconv.Itoa(i) || r[2].IsNull() != (i%7 == 0) ||
			(i%7 != 0 && r[2].Double() != float64(i)/2) || r[3].Boolean() != (i%2 == 0) {
			t.Fatalf("row %d: %v", i, r)
		}
	}
}

func TestMarkdown(t *testing.T) {
	got := Markdown(decisions, Schema{Name: "edges", Columns: []Column{{Name: "source", Type: Int, Doc: "agent id"}}})
	for _, want := range []string{
		"### decisions\n\nOne row per decision field.\n\n| column | type | meaning |\n|---|---|---|\n| `run_id` | string | the run |\n",
		"| `value_label` | string | the option's label \\| for choices |\n",
		"| `valid` | bool | 1 when the reply was valid |\n",
		"\n### edges\n\n| column | type | meaning |\n|---|---|---|\n| `source` | int | agent id |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, got)
		}
	}
}

func TestReadAsMissing(t *testing.T) {
	for _, s := range []string{"NA", "None", "null", "nan", "NaN", "NULL", ""} {
		if !ReadAsMissing(s) {
			t.Errorf("%q: R or pandas read it as missing", s)
		}
	}
	for _, s := range []string{"none", "na", "Na", "nan_x", "control"} {
		if ReadAsMissing(s) {
			t.Errorf("%q is read as text", s)
		}
	}
}

// IDProblem refuses a malformed id before one read as missing, and accepts a well-formed one.
func TestIDProblem(t *testing.T) {
	for id, want := range map[string]string{
		"blood_drive-2": "",
		"":              `"" must be lower case letters, digits, '-' or '_', starting with a letter`,
		"NA":            `"NA" must be lower case letters, digits, '-' or '_', starting with a letter`,
		"2nd":           `"2nd" must be lower case letters, digits, '-' or '_', starting with a letter`,
		"null":          `"null": ` + MissingReason,
		"nan":           `"nan": ` + MissingReason,
	} {
		if got := IDProblem(id); got != want {
			t.Errorf("IDProblem(%q) = %q, want %q", id, got, want)
		}
	}
}

// The docs' table says a rounded column's decimals in its type, from the declaration: the
// shares of rounds_summary.csv were rounded to 4 decimals while the docs said full precision
// (QA14 F11).
func TestMarkdownSaysDecimals(t *testing.T) {
	md := Markdown(Schema{Name: "t", Columns: []Column{{Name: "share", Type: Float, Decimals: 4, Doc: "a share"}, {Name: "sum", Type: Float, Doc: "exact"}}})
	for _, want := range []string{"| `share` | float (4 decimals) | a share |", "| `sum` | float | exact |"} {
		if !strings.Contains(md, want) {
			t.Errorf("lacks %q:\n%s", want, md)
		}
	}
}
