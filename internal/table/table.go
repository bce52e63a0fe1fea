// Package table declares typed result tables once and writes them as CSV (and Parquet).
// (Minimal version; replaced by the full package.)
package table

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strconv"
)

// Type is a column's type.
type Type int

// Column types.
const (
	String Type = iota
	Int
	Float
	Bool
)

// Column is one declared column.
type Column struct {
	Name string
	Type Type
	Doc  string
}

// Schema declares a table.
type Schema struct {
	Name    string
	Doc     string
	Columns []Column
}

// Writer writes rows of one table.
type Writer interface {
	Write(row []any) error
	Close() error
}

type csvWriter struct {
	s   Schema
	f   *os.File
	w   *csv.Writer
	tmp string
	out string
	rec []string
	n   int
}

// CreateCSV writes a table to path (via a temporary file renamed into place on Close).
func CreateCSV(path string, s Schema) (Writer, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	w := &csvWriter{s: s, f: f, w: csv.NewWriter(f), tmp: tmp, out: path}
	head := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		head[i] = c.Name
	}
	if err := w.w.Write(head); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	return w, nil
}

func (w *csvWriter) Write(row []any) error {
	w.n++
	if len(row) != len(w.s.Columns) {
		return fmt.Errorf("table %s, row %d: %d values for %d columns", w.s.Name, w.n, len(row), len(w.s.Columns))
	}
	w.rec = w.rec[:0]
	for i, v := range row {
		s, err := Format(w.s.Columns[i].Type, v)
		if err != nil {
			return fmt.Errorf("table %s, row %d, column %s: %w", w.s.Name, w.n, w.s.Columns[i].Name, err)
		}
		w.rec = append(w.rec, s)
	}
	return w.w.Write(w.rec)
}

func (w *csvWriter) Close() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		w.f.Close()
		os.Remove(w.tmp)
		return err
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.tmp)
		return err
	}
	return os.Rename(w.tmp, w.out)
}

// Format renders a value of type t as a CSV cell: empty for a missing value.
func Format(t Type, v any) (string, error) {
	if v == nil {
		return "", nil
	}
	switch t {
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Int:
		switch x := v.(type) {
		case int:
			return strconv.Itoa(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
	case Float:
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) {
				return "", nil
			}
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case int:
			return strconv.Itoa(x), nil
		}
	case Bool:
		if b, ok := v.(bool); ok {
			if b {
				return "1", nil
			}
			return "0", nil
		}
	}
	return "", fmt.Errorf("value %v (%T) does not fit the column type", v, v)
}

// Table is a declared table with its rows, produced on demand (a table may be too large to
// hold): Rows calls emit once per row, in order.
type Table struct {
	Schema
	Rows func(emit func(row []any) error) error
}

// Write writes t's rows to w and closes it.
func Write(w Writer, t *Table) error {
	if err := t.Rows(w.Write); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
