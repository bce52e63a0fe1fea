package table

import (
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
)

// CreateCSV starts path (written as path.tmp until Close) with the header line. Values are
// written as the engine's results CSVs always were, through encoding/csv (RFC 4180 quoting,
// LF line ends):
//
//   - strings as they are (a string is never missing in a CSV: nil and "" are both empty);
//   - ints in decimal (strconv.FormatInt);
//   - floats as FormatFloat writes them, or with Column.Decimals digits; infinities as
//     +Inf / -Inf;
//   - bools as 1 and 0;
//   - missing values (nil, NaN) as empty cells.
func CreateCSV(path string, s Schema) (Writer, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	a, err := createAtomic(path)
	if err != nil {
		return nil, err
	}
	w := &csvWriter{atomicFile: a, s: s, cw: csv.NewWriter(a.buf), rec: make([]string, len(s.Columns))}
	if err := w.cw.Write(s.Header()); err != nil {
		return nil, w.fail(err)
	}
	return w, nil
}

type csvWriter struct {
	*atomicFile
	s     Schema
	cw    *csv.Writer
	rec   []string
	cells []cell
	rows  int
}

func (w *csvWriter) Write(row []any) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.rows++
	var err error
	if w.cells, err = w.s.check(row, w.rows, w.cells); err != nil {
		return w.fail(err)
	}
	for i, c := range w.cells {
		w.rec[i] = formatCell(w.s.Columns[i], c)
	}
	if err := w.cw.Write(w.rec); err != nil {
		return w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	return nil
}

// FormatFloat is a Float cell of every CSV (without Column.Decimals): the shortest decimal
// that reads back as the same float64, plain (0.1, 23.2, 0.0001) unless it would need more
// than 4 zeros after the point or 22 digits before it: then with an exponent, as R and pandas
// read it (9.574949101020052e-101 rather than 100 digits; 1e+21).
func FormatFloat(v float64) string {
	if a := math.Abs(v); a != 0 && a < 1e-4 || a >= 1e21 {
		return strconv.FormatFloat(v, 'e', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func formatCell(c Column, x cell) string {
	if x.null {
		return ""
	}
	switch c.Type {
	case String:
		return x.s
	case Int:
		return strconv.FormatInt(x.i, 10)
	case Float:
		if c.Decimals > 0 {
			return strconv.FormatFloat(x.f, 'f', c.Decimals, 64)
		}
		return FormatFloat(x.f)
	case Bool:
		if x.b {
			return "1"
		}
		return "0"
	}
	return ""
}

func (w *csvWriter) finish() error {
	return w.atomicFile.finish(func() error {
		w.cw.Flush()
		return w.cw.Error()
	})
}

func (w *csvWriter) Close() error {
	if err := w.finish(); err != nil {
		return err
	}
	return w.commit()
}

func (w *csvWriter) Abort() { w.abort() }
