package store

// Exports of a run's tidy results for R and pandas users. The CSVs in RUN_DIR/results are the
// canonical results (written by the engine at the end of a run); ExportParquet writes one
// Parquet file next to each, with the same columns in the same order, typed:
//
//   - integers (INT64): replicate, agent_id, round, trial, x, y, transfer, punish, calls,
//     failed_calls, unusable_calls, no_usage_calls, input_tokens, output_tokens, and the columns of other files whose every
//     value is an integer;
//   - floats (DOUBLE): value, points, cost_usd, latency_ms, the emotion ratings (valence_*,
//     arousal_*), and columns whose every value is a number;
//   - booleans (BOOLEAN): valid, cached, affected and treated (1/0 in the CSVs), and other
//     columns named valid_*, is_* or has_* holding only 0/1;
//   - strings (BYTE_ARRAY UTF8): everything else (run_id, backend, model, model_version, condition, policy,
//     scenario, field, value_label, invalid_reason, ...).
//
// Every numeric and boolean column is OPTIONAL: an empty CSV cell (the value of an invalid
// decision) is null, which R's arrow::read_parquet and pandas.read_parquet read as NA/NaN.
// Strings are REQUIRED; an empty cell is the empty string, as in the CSV. Files are written
// whole and renamed into place, compressed with Snappy.

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/prosim/prosim/internal/writing"
)

// ColumnType is the Parquet type of an exported column.
type ColumnType int

// Column types.
const (
	String ColumnType = iota
	Int64
	Float64
	Bool
)

func (t ColumnType) String() string {
	return [...]string{"string", "int64", "double", "boolean"}[t]
}

// ExportTypes are the declared types of the results CSVs' columns; columns not listed are
// typed from their values (see ExportParquet).
var ExportTypes = map[string]ColumnType{
	"run_id": String, "backend": String, "model": String, "model_version": String, "condition": String, "policy": String,
	"scenario": String, "field": String, "value_label": String, "invalid_reason": String,
	"replicate": Int64, "agent_id": Int64, "round": Int64, "trial": Int64,
	"x": Int64, "y": Int64, "transfer": Int64, "punish": Int64,
	"calls": Int64, "failed_calls": Int64, "unusable_calls": Int64, "no_usage_calls": Int64, "input_tokens": Int64, "output_tokens": Int64,
	"value": Float64, "points": Float64, "cost_usd": Float64, "latency_ms": Float64,
	"valence_before": Float64, "arousal_before": Float64, "valence_after": Float64, "arousal_after": Float64,
	"valid": Bool, "cached": Bool, "affected": Bool, "treated": Bool,
}

// ExportParquet writes RUN_DIR/results/NAME.parquet for every RUN_DIR/results/NAME.csv and
// returns the paths written.
func ExportParquet(runDir string) ([]string, error) {
	csvs, err := ResultCSVs(runDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range csvs {
		p := strings.TrimSuffix(c, ".csv") + ".parquet"
		if err := CSVToParquet(c, p); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ResultCSVs lists RUN_DIR/results/*.csv, sorted; an error when there are none (the run is
// not complete: the engine writes them at its end).
func ResultCSVs(runDir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(runDir, "results", "*.csv"))
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s has no results/*.csv: is it a complete run directory? (finish a stopped run with prosim resume %s)", runDir, runDir)
	}
	sort.Strings(m)
	return m, nil
}

// CSVToParquet converts one results CSV (header row first) to a Parquet file at out.
func CSVToParquet(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(recs) == 0 {
		return fmt.Errorf("%s: empty file, no header", in)
	}
	header, rows := recs[0], recs[1:]
	types := make([]ColumnType, len(header))
	for i, h := range header {
		types[i] = columnType(h, rows, i)
	}
	fields := make([]reflect.StructField, len(header))
	for i, h := range header {
		sf := reflect.StructField{Name: fmt.Sprintf("F%d", i), Tag: reflect.StructTag(fmt.Sprintf(`parquet:%q`, h+",optional"))}
		switch types[i] {
		case Int64:
			sf.Type = reflect.TypeFor[*int64]()
		case Float64:
			sf.Type = reflect.TypeFor[*float64]()
		case Bool:
			sf.Type = reflect.TypeFor[*bool]()
		default:
			sf.Type = reflect.TypeFor[string]()
			sf.Tag = reflect.StructTag(fmt.Sprintf(`parquet:%q`, h))
		}
		fields[i] = sf
	}
	rowType := reflect.StructOf(fields)
	schema := parquet.SchemaOf(reflect.New(rowType).Interface())

	tmp := out + ".tmp"
	defer writing.Begin(tmp)()
	of, err := os.Create(tmp)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		of.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", out, err)
	}
	w := parquet.NewWriter(of, schema, parquet.Compression(&parquet.Snappy))
	for ri, rec := range rows {
		if len(rec) != len(header) {
			return fail(fmt.Errorf("%s line %d: %d cells, header has %d", in, ri+2, len(rec), len(header)))
		}
		v := reflect.New(rowType)
		e := v.Elem()
		for i, cell := range rec {
			if types[i] == String {
				e.Field(i).SetString(cell)
				continue
			}
			if cell == "" {
				continue // null
			}
			switch types[i] {
			case Int64:
				n, err := strconv.ParseInt(cell, 10, 64)
				if err != nil {
					return fail(fmt.Errorf("%s line %d, column %s: %q is not an integer", in, ri+2, header[i], cell))
				}
				e.Field(i).Set(reflect.ValueOf(&n))
			case Float64:
				x, err := strconv.ParseFloat(cell, 64)
				if err != nil {
					return fail(fmt.Errorf("%s line %d, column %s: %q is not a number", in, ri+2, header[i], cell))
				}
				e.Field(i).Set(reflect.ValueOf(&x))
			case Bool:
				b, err := parseBool01(cell)
				if err != nil {
					return fail(fmt.Errorf("%s line %d, column %s: %w", in, ri+2, header[i], err))
				}
				e.Field(i).Set(reflect.ValueOf(&b))
			}
		}
		if err := w.Write(v.Interface()); err != nil {
			return fail(err)
		}
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	if err := of.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

func parseBool01(s string) (bool, error) {
	switch s {
	case "1", "true", "TRUE", "True":
		return true, nil
	case "0", "false", "FALSE", "False":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want 1 or 0)", s)
}

// columnType is the declared type of a known column, or one inferred from the values.
func columnType(name string, rows [][]string, i int) ColumnType {
	if t, ok := ExportTypes[name]; ok {
		return t
	}
	allInt, allNum, all01, any := true, true, true, false
	for _, r := range rows {
		if i >= len(r) || r[i] == "" {
			continue
		}
		any = true
		c := r[i]
		if _, err := strconv.ParseInt(c, 10, 64); err != nil {
			allInt = false
		}
		if _, err := strconv.ParseFloat(c, 64); err != nil {
			allNum = false
		}
		if c != "0" && c != "1" {
			all01 = false
		}
	}
	switch {
	case !any:
		return String
	case all01 && (strings.HasPrefix(name, "valid_") || strings.HasPrefix(name, "is_") || strings.HasPrefix(name, "has_")):
		return Bool
	case allInt:
		return Int64
	case allNum:
		return Float64
	}
	return String
}
