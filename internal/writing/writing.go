// Package writing records the temporary files being written (each renamed into place when
// whole), so that a Ctrl-C handler that exits in the middle of a stage removes them: an
// abandoned report or export leaves neither a half-written file nor its temporary.
package writing

import (
	"os"
	"sync"
)

var (
	mu    sync.Mutex
	files = map[int]string{}
	next  int
)

// Begin records that the temporary file tmp is being written, until the returned function is
// called (after its rename, or its removal). Call it before creating tmp.
func Begin(tmp string) (end func()) {
	mu.Lock()
	defer mu.Unlock()
	id := next
	next++
	files[id] = tmp
	return func() {
		mu.Lock()
		delete(files, id)
		mu.Unlock()
	}
}

// Abandon removes every temporary file being written, for a process about to exit: it keeps
// the lock, so that no write begins after it.
func Abandon() {
	mu.Lock()
	for _, f := range files {
		os.Remove(f)
	}
}
