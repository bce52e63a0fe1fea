//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package runlock

func acquire(path string) (*Lock, error) { return acquirePIDFile(path) }
