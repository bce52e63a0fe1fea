// Package writing records the temporary files being written (each renamed into place when
// whole), so that a Ctrl-C handler that exits in the middle of a stage removes them: an
// abandoned report or export leaves neither a half-written file nor its temporary.
package writing

import (
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
