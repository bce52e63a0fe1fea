// Package writing records the temporary files being written (each renamed into place when
// whole), so that a Ctrl-C handler that exits in the middle of a stage removes them: an
// abandoned report or export leaves neither a half-written file nor its temporary.
package writing

import (
	"io"
	"os"

	"github.com/prosim/prosim/internal/inflight"
)

var files inflight.Files

// Begin records that the temporary file tmp is being written, until the returned function is
// called (after its rename, or its removal). Call it before creating tmp.
func Begin(tmp string) (end func()) { return files.Begin(tmp) }

// Abandon removes every temporary file being written, for a process about to exit: no write
// begins after it.
func Abandon() { files.Final(func(tmp string) { os.Remove(tmp) }) }

// File writes path through a temporary file renamed into place, so that neither a crash nor
// a Ctrl-C leaves a half-written file looking complete; the temporary is recorded (Begin)
// while it is written and removed when the write fails.
func File(path string, fill func(io.Writer) error) (err error) {
	tmp := path + ".tmp"
	defer Begin(tmp)()
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
