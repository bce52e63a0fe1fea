// Package runlock keeps two prosim processes out of one run directory: `prosim run` and
// `prosim resume` hold an OS file lock on DIR/.lock for their whole duration. On Linux, macOS
// and the BSDs it is flock(2), which the OS releases when the process dies, so the lock of a
// killed process (kill -9, power loss) never blocks the next one. Elsewhere, and on file
// systems that refuse flock (some NFS and FUSE mounts), it is a lockfile (DIR/.lock.pid)
// created with O_EXCL that holds the owner's process id, taken over when that process is gone
// (best effort: a process id reused by a live process keeps it; remove the file by hand).
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

// pidSuffix names the process-id lockfile used where flock(2) is refused (Name + pidSuffix).
const pidSuffix = ".pid"

// IsLockFile reports whether a run directory entry is the lock's (not a result of the run).
func IsLockFile(name string) bool { return name == Name || name == Name+pidSuffix }

// holderPID is the process id recorded in the lock file at path or its process-id lockfile.
func holderPID(path string) int {
	for _, p := range []string{path + pidSuffix, path} {
		if b, err := os.ReadFile(p); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid
			}
		}
	}
	return 0
}

// ErrHeld is wrapped by the error of Acquire when another process holds the lock.
var ErrHeld = errors.New("run directory in use")

// Lock is a held run directory lock.
type Lock struct {
	path   string
	unlock func() error
}

// Release gives the lock up. A flock lock file stays (removing it would race with a process
// opening it); a process-id lockfile is removed.
func (l *Lock) Release() error {
	if l == nil || l.unlock == nil {
		return nil
	}
	err := l.unlock()
	l.unlock = nil
	return err
}

// Acquire takes dir's lock without waiting; dir must exist. It fails at once, naming the
// directory and the holder's process id when known, if another process (or another Acquire
// of this one) holds it.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, Name)
	l, err := acquire(path)
	if errors.Is(err, ErrHeld) {
		holder := "another prosim process"
		if pid := holderPID(path); pid > 0 {
			holder = fmt.Sprintf("another prosim process (pid %d)", pid)
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
