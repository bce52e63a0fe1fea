// Package table declares result tables once — column names, types and one-line docs — and
// writes them to CSV and Parquet from the same declaration, so the two files always agree
// and a column's type never depends on the values it happens to hold (a string column that
// is empty in every row is still a string column in R and pandas).
//
// A row is a []any with one value per column, in the schema's order:
//
//   - String columns take a string;
//   - Int columns take an int, int8, int16, int32 or int64 (also uint8, uint16, uint32);
//   - Float columns take a float64; NaN is missing;
//   - Bool columns take a bool;
//   - nil is missing in any column.
//
// Any other value is an error naming the table, the column and the row. Writers format
// values neutrally (see CreateCSV); cleaning values (rounding away float noise, turning a
// 0 into missing, keeping reasons on one line) is the caller's job, done before Write.
//
// Files are written to PATH.tmp and renamed into place by Close, so a reader never sees half
// a file and a run that fails (or never calls Close) leaves no file looking complete.
package table

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Type is a column's type.
type Type int

// Column types.
const (
	String Type = iota // CSV text; Parquet BYTE_ARRAY (UTF8)
	Int                // CSV decimal integer; Parquet INT64
	Float              // CSV shortest decimal (or Column.Decimals places); Parquet DOUBLE
	Bool               // CSV 1/0; Parquet BOOLEAN
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Int:
		return "int"
	case Float:
		return "float"
	case Bool:
		return "bool"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Column is one column of a table.
type Column struct {
	Name string
	Type Type
	// Doc is one line describing the column, for the documentation (see Markdown).
	Doc string
	// Decimals, for a Float column, fixes the number of digits after the decimal point
	// (strconv's 'f' format with that precision, e.g. 0.5000 for 4). 0 means the shortest
	// text that reads back as the same float64 (0.5). The Parquet file holds the value as
	// written to the CSV, so both files agree.
	Decimals int
}

// Schema declares a table.
type Schema struct {
	// Name is the file stem: "decisions" is written to decisions.csv and decisions.parquet.
	Name string
	// Doc is a short paragraph describing the table (one row per what?).
	Doc     string
	Columns []Column
}

// Header is the column names in order, the CSV's first line.
func (s Schema) Header() []string {
	h := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		h[i] = c.Name
	}
	return h
}

var columnNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Check reports a schema that cannot be written: no name, no columns, a column name that is
// empty, repeated or not an identifier (letters, digits, '_'), an unknown type or a
// negative number of decimals.
func (s Schema) Check() error {
	if s.Name == "" {
		return fmt.Errorf("table: schema without a name")
	}
	if len(s.Columns) == 0 {
		return fmt.Errorf("table %s: no columns", s.Name)
	}
	seen := map[string]bool{}
	for i, c := range s.Columns {
		if !columnNameRE.MatchString(c.Name) {
			return fmt.Errorf("table %s: column %d: name %q is not an identifier (letters, digits and _)", s.Name, i+1, c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("table %s: column %s is declared twice", s.Name, c.Name)
		}
		seen[c.Name] = true
		if c.Type < String || c.Type > Bool {
			return fmt.Errorf("table %s: column %s: unknown type %d", s.Name, c.Name, int(c.Type))
		}
		if c.Decimals < 0 || (c.Decimals > 0 && c.Type != Float) {
			return fmt.Errorf("table %s: column %s: decimals %d (only >= 0, and only for float columns)", s.Name, c.Name, c.Decimals)
		}
	}
	return nil
}

// ValueError is a row value that does not fit its column.
type ValueError struct {
	Table  string
	Column string // empty when the row has the wrong number of values
	Row    int    // 1-based, not counting the header
	Value  any
	Want   Type
	Len    int // the row's length, when it has the wrong number of values
	NumCol int
}

func (e *ValueError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("table %s, row %d: %d values, the table has %d columns", e.Table, e.Row, e.Len, e.NumCol)
	}
	return fmt.Sprintf("table %s, row %d, column %s: %T value %v, want %s (or nil for missing)", e.Table, e.Row, e.Column, e.Value, e.Value, e.Want)
}

// cell is one checked value.
type cell struct {
	null bool
	s    string
	i    int64
	f    float64
	b    bool
}

// check converts row into cells (reusing out), or returns a *ValueError. rowNum is 1-based.
func (s *Schema) check(row []any, rowNum int, out []cell) ([]cell, error) {
	if len(row) != len(s.Columns) {
		return out, &ValueError{Table: s.Name, Row: rowNum, Len: len(row), NumCol: len(s.Columns)}
	}
	out = out[:0]
	for i, v := range row {
		c, ok := toCell(s.Columns[i].Type, v)
		if !ok {
			return out, &ValueError{Table: s.Name, Column: s.Columns[i].Name, Row: rowNum, Value: v, Want: s.Columns[i].Type}
		}
		out = append(out, c)
	}
	return out, nil
}

func toCell(t Type, v any) (cell, bool) {
	if v == nil {
		return cell{null: true}, true
	}
	switch t {
	case String:
		if x, ok := v.(string); ok {
			return cell{s: x}, true
		}
	case Int:
		switch x := v.(type) {
		case int:
			return cell{i: int64(x)}, true
		case int64:
			return cell{i: x}, true
		case int32:
			return cell{i: int64(x)}, true
		case int16:
			return cell{i: int64(x)}, true
		case int8:
			return cell{i: int64(x)}, true
		case uint32:
			return cell{i: int64(x)}, true
		case uint16:
			return cell{i: int64(x)}, true
		case uint8:
			return cell{i: int64(x)}, true
		}
	case Float:
		if x, ok := v.(float64); ok {
			if math.IsNaN(x) {
				return cell{null: true}, true
			}
			return cell{f: x}, true
		}
	case Bool:
		if x, ok := v.(bool); ok {
			return cell{b: x}, true
		}
	}
	return cell{}, false
}

// Markdown documents tables for docs/results.md: per table a heading with its name, its
// doc, then a table of column | type | meaning.
func Markdown(schemas ...Schema) string {
	var b strings.Builder
	for i, s := range schemas {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n", s.Name)
		if d := strings.TrimSpace(s.Doc); d != "" {
			b.WriteString(d + "\n\n")
		}
		b.WriteString("| column | type | meaning |\n|---|---|---|\n")
		for _, c := range s.Columns {
			typ := c.Type.String()
			if c.Decimals > 0 { // said by every rounded column, from its declaration (QA14 F11)
				typ += fmt.Sprintf(" (%d decimals)", c.Decimals)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Name, typ, mdCell(c.Doc))
		}
	}
	return b.String()
}

func mdCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// Table is a declared table with its rows, produced on demand (a table may be too large to
// hold in memory): Rows calls emit once per row, in order. A table may fill the same slice
// again for its next row, so emit must copy what it keeps (the writers do).
type Table struct {
	Schema
	Rows func(emit func(row []any) error) error
}

// Write writes t's rows to w and closes it; on any error the unfinished file is removed.
func Write(w Writer, t *Table) error {
	if err := t.Rows(w.Write); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// OneLine folds white space (newlines included) to single spaces: quoted newlines are legal
// CSV but trip naive readers, so free text such as an invalid reason is kept on one line.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
