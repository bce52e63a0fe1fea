//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package runlock

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

func acquire(path string) (*Lock, error) {
	for try := 0; try < 2; try++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			writePID(f)
			return &Lock{f: f, path: path}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		// Stale when its owner is gone (best effort: FindProcess finds live processes only on
		// Windows; elsewhere a left lockfile must be removed by hand).
		b, _ := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if perr != nil || pid == os.Getpid() {
			return nil, ErrHeld
		}
		if p, ferr := os.FindProcess(pid); ferr == nil {
			p.Release()
			return nil, ErrHeld
		}
		os.Remove(path)
	}
	return nil, ErrHeld
}

// Release gives the lock up and removes the lockfile.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	os.Remove(l.path)
	return err
}
