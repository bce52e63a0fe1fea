//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package runlock

import "os"

// processAlive: FindProcess finds only live processes on Windows.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
