package table

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prosim/prosim/internal/writing"
)

// Writer writes the rows of one table.
type Writer interface {
	// Write checks row against the schema and writes it. After an error the writer is
	// aborted: the unfinished file is removed and every later call returns the error.
	Write(row []any) error
	// Close finishes the file and renames it into place.
	Close() error
	// Abort removes the unfinished file. It does nothing after Close, so callers can
	// `defer w.Abort()` and Close on success.
	Abort()
}

// errClosed is returned by Write and Close after Close or Abort.
var errClosed = errors.New("writer already closed")

// staged is implemented by this package's writers: Close is finish then commit, so Multi
// can finish every file before renaming any.
type staged interface {
	Writer
	finish() error // flush and close the temporary file
	commit() error // rename it into place
}

// atomicFile is a file written to path.tmp and renamed to path by commit.
type atomicFile struct {
	path, tmp string
	f         *os.File
	buf       *bufio.Writer
	err       error // sticky: the first error, after which the file is gone
	finished  bool
	done      bool   // committed or aborted
	written   func() // ends the temporary's record (writing.Begin)
}

func createAtomic(path string) (*atomicFile, error) {
	tmp := path + ".tmp"
	written := writing.Begin(tmp)
	f, err := os.Create(tmp)
	if err != nil {
		written()
		return nil, err
	}
	return &atomicFile{path: path, tmp: tmp, f: f, buf: bufio.NewWriterSize(f, 1<<16), written: written}, nil
}

// fail records err, removes the temporary file and returns err.
func (a *atomicFile) fail(err error) error {
	if a.err == nil {
		a.err = err
	}
	a.abort()
	return a.err
}

// usable is the error that stops a write or a close: an earlier failure, or the end.
func (a *atomicFile) usable() error {
	if a.err != nil {
		return a.err
	}
	if a.done || a.finished {
		return fmt.Errorf("%s: %w", a.path, errClosed)
	}
	return nil
}

// finish flushes and closes the temporary file (flush is what the format writer did before).
func (a *atomicFile) finish(flush func() error) error {
	if err := a.usable(); err != nil {
		return err
	}
	if flush != nil {
		if err := flush(); err != nil {
			return a.fail(fmt.Errorf("%s: %w", a.path, err))
		}
	}
	if err := a.buf.Flush(); err != nil {
		return a.fail(fmt.Errorf("%s: %w", a.path, err))
	}
	if err := a.f.Close(); err != nil {
		a.f = nil
		return a.fail(fmt.Errorf("%s: %w", a.path, err))
	}
	a.f = nil
	a.finished = true
	return nil
}

func (a *atomicFile) commit() error {
	if a.err != nil {
		return a.err
	}
	if !a.finished || a.done {
		return fmt.Errorf("%s: %w", a.path, errClosed)
	}
	if err := os.Rename(a.tmp, a.path); err != nil {
		return a.fail(err)
	}
	a.done = true
	a.written()
	return nil
}

func (a *atomicFile) abort() {
	if a.done {
		return
	}
	a.done = true
	if a.f != nil {
		a.f.Close()
		a.f = nil
	}
	os.Remove(a.tmp)
	a.written()
}

// Format is a file format a table is written in.
type Format int

// Formats.
const (
	CSV Format = iota
	Parquet
)

// Ext is the format's file extension, with the dot.
func (f Format) Ext() string {
	if f == Parquet {
		return ".parquet"
	}
	return ".csv"
}

// Create writes dir/NAME.csv and dir/NAME.parquet (or only the formats given) from one
// stream of rows: a Multi writer of CreateCSV and CreateParquet.
func Create(dir string, s Schema, formats ...Format) (Writer, error) {
	if len(formats) == 0 {
		formats = []Format{CSV, Parquet}
	}
	var ws []Writer
	for _, f := range formats {
		path := filepath.Join(dir, s.Name+f.Ext())
		var w Writer
		var err error
		switch f {
		case CSV:
			w, err = CreateCSV(path, s)
		case Parquet:
			w, err = CreateParquet(path, s)
		default:
			err = fmt.Errorf("table %s: unknown format %d", s.Name, int(f))
		}
		if err != nil {
			for _, w := range ws {
				w.Abort()
			}
			return nil, err
		}
		ws = append(ws, w)
	}
	if len(ws) == 1 {
		return ws[0], nil
	}
	return Multi(ws...), nil
}

// Multi writes every row to each of ws. Its Close finishes all the files before renaming
// any into place, so an error while finishing one leaves none (for this package's writers;
// other Writers are closed in turn). An error from any writer aborts them all.
func Multi(ws ...Writer) Writer { return &multi{ws: ws} }

type multi struct {
	ws  []Writer
	err error
}

func (m *multi) Write(row []any) error {
	if m.err != nil {
		return m.err
	}
	for _, w := range m.ws {
		if err := w.Write(row); err != nil {
			m.err = err
			m.Abort()
			return err
		}
	}
	return nil
}

func (m *multi) Close() error {
	if m.err != nil {
		return m.err
	}
	for _, w := range m.ws {
		if s, ok := w.(staged); ok {
			if err := s.finish(); err != nil {
				m.err = err
				m.Abort()
				return err
			}
		}
	}
	for _, w := range m.ws {
		var err error
		if s, ok := w.(staged); ok {
			err = s.commit()
		} else {
			err = w.Close()
		}
		if err != nil {
			m.err = err
			m.Abort()
			return err
		}
	}
	m.err = fmt.Errorf("table: %w", errClosed)
	return nil
}

func (m *multi) Abort() {
	for _, w := range m.ws {
		w.Abort()
	}
}
