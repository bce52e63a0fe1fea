// Package runlock keeps two prosim processes out of one run directory: `prosim run` and
// `prosim resume` hold an OS file lock on DIR/.lock for their whole duration. On Linux, macOS
// and the BSDs it is flock(2), which the OS releases when the process dies, so the lock of a
// killed process (kill -9, power loss) never blocks the next one. Elsewhere it is a lockfile
// created with O_EXCL that holds the owner's process id, taken over when that process is gone
// (best effort).
package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Name is the lock file's name in a run directory.
const Name = ".lock"

// ErrHeld is wrapped by the error of Acquire when another process holds the lock.
var ErrHeld = errors.New("run directory in use")

// Lock is a held run directory lock.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes dir's lock without waiting; dir must exist. It fails at once, naming the
// directory and the holder's process id when known, if another process (or another Acquire
// of this one) holds it.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, Name)
	l, err := acquire(path)
	if errors.Is(err, ErrHeld) {
		holder := "another prosim process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf("another prosim process (pid %d)", pid)
			}
		}
		return nil, fmt.Errorf("%w: %s is being used by %s, which holds its lock %s; wait for it to finish or stop it, then try again",
			ErrHeld, dir, holder, path)
	}
	if err != nil {
		return nil, fmt.Errorf("run directory lock %s: %w", path, err)
	}
	return l, nil
}

// writePID records the holder in the lock file (information only: the lock is the flock).
func writePID(f *os.File) {
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
}
