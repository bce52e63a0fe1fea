package runlock

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"
)

// acquirePIDFile is the lock where flock(2) is not available (other systems, and file systems
// that refuse it, such as some NFS and FUSE mounts): a lockfile created with O_EXCL holding the
// owner's process id. A lockfile whose process is gone (killed, crashed) is stale: it is
// removed and the lock taken. Best effort: a process id reused by a live process after the
// owner died reads as alive, and the lockfile must then be removed by hand.
func acquirePIDFile(path string) (*Lock, error) {
	for try := 0; try < 3; try++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			writePID(f)
			return &Lock{path: path, unlock: func() error {
				err := f.Close()
				os.Remove(path)
				return err
			}}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if !stalePIDFile(path) {
			return nil, ErrHeld
		}
		os.Remove(path)
	}
	return nil, ErrHeld
}

// stalePIDFile reports whether the lockfile at path names no live process. An empty file is
// stale once it is older than a few seconds (its creator writes its id at once; a flock lock
// file left empty on release is also empty).
func stalePIDFile(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		fi, err := os.Stat(path)
		return err == nil && time.Since(fi.ModTime()) > 5*time.Second
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return false // not ours to judge: refuse, naming the file
	}
	return pid != os.Getpid() && !processAlive(pid)
}
