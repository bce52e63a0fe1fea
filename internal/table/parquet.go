package table

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// RowGroupRows is the number of rows per Parquet row group: the writer holds at most one
// row group in memory, so a table of millions of rows is streamed.
const RowGroupRows = 64 * 1024

// batchRows is how many rows are handed to parquet-go at once.
const batchRows = 1024

// CreateParquet starts a Parquet file at path (written as path.tmp until Close), Snappy
// compressed, with one OPTIONAL column per schema column, in the schema's order:
//
//   - String: BYTE_ARRAY annotated STRING (UTF8), even when every value is empty or missing;
//   - Int: INT64;
//   - Float: DOUBLE (infinities kept; with Column.Decimals, the value as the CSV shows it);
//   - Bool: BOOLEAN.
//
// Missing values (nil, NaN) are nulls, which R's arrow::read_parquet and pandas read as NA;
// an empty string is the empty string, as in the CSV.
func CreateParquet(path string, s Schema) (Writer, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	schema := parquetSchema(s)
	a, err := createAtomic(path)
	if err != nil {
		return nil, err
	}
	pw := parquet.NewWriter(a.buf, schema, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(RowGroupRows))
	n := len(s.Columns)
	w := &parquetWriter{atomicFile: a, s: s, pw: pw, flat: make([]parquet.Value, batchRows*n), batch: make([]parquet.Row, 0, batchRows)}
	return w, nil
}

// parquetSchema is the Parquet schema of s. parquet.Group would sort the columns by name;
// a struct type keeps them in the schema's order.
func parquetSchema(s Schema) *parquet.Schema {
	fields := make([]reflect.StructField, len(s.Columns))
	for i, c := range s.Columns {
		var t reflect.Type
		switch c.Type {
		case String:
			t = reflect.TypeFor[*string]()
		case Int:
			t = reflect.TypeFor[*int64]()
		case Float:
			t = reflect.TypeFor[*float64]()
		case Bool:
			t = reflect.TypeFor[*bool]()
		}
		fields[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: t,
			Tag: reflect.StructTag(fmt.Sprintf(`parquet:%q`, c.Name+",optional"))}
	}
	return parquet.NewSchema(s.Name, parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface()))
}

type parquetWriter struct {
	*atomicFile
	s     Schema
	pw    *parquet.Writer
	cells []cell
	// batch holds up to batchRows rows, their values in flat.
	flat  []parquet.Value
	batch []parquet.Row
	rows  int
	// inGroup counts the rows since the last row group was flushed.
	inGroup int
}

func (w *parquetWriter) Write(row []any) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.rows++
	var err error
	if w.cells, err = w.s.check(row, w.rows, w.cells); err != nil {
		return w.fail(err)
	}
	n := len(w.s.Columns)
	k := len(w.batch)
	vals := w.flat[k*n : (k+1)*n : (k+1)*n]
	for i, c := range w.cells {
		def := 1 // definition level: 1 is present, 0 null
		if c.null {
			def = 0
		}
		vals[i] = parquetValue(w.s.Columns[i], c).Level(0, def, i)
	}
	w.batch = append(w.batch, vals)
	if len(w.batch) == batchRows {
		return w.flush()
	}
	return nil
}

func parquetValue(col Column, c cell) parquet.Value {
	if c.null {
		return parquet.NullValue()
	}
	switch col.Type {
	case String:
		return parquet.ByteArrayValue([]byte(c.s))
	case Int:
		return parquet.Int64Value(c.i)
	case Float:
		f := c.f
		if col.Decimals > 0 {
			f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'f', col.Decimals, 64), 64)
		}
		return parquet.DoubleValue(f)
	case Bool:
		return parquet.BooleanValue(c.b)
	}
	return parquet.NullValue()
}

// flush hands the batch to parquet-go, and ends the row group when it is full.
func (w *parquetWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	if _, err := w.pw.WriteRows(w.batch); err != nil {
		return w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	w.inGroup += len(w.batch)
	clear(w.flat) // drop references to the strings written
	w.batch = w.batch[:0]
	if w.inGroup >= RowGroupRows {
		w.inGroup = 0
		if err := w.pw.Flush(); err != nil {
			return w.fail(fmt.Errorf("%s: %w", w.path, err))
		}
	}
	return nil
}

func (w *parquetWriter) finish() error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	return w.atomicFile.finish(w.pw.Close)
}

func (w *parquetWriter) Close() error {
	if err := w.finish(); err != nil {
		return err
	}
	return w.commit()
}

func (w *parquetWriter) Abort() { w.abort() }
