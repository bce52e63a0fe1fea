package runlock

import "path/filepath"

// Holder reports the process id recorded in dir's lock file and whether that process is
// alive. It takes no lock (a reader such as prosim serve must never make a run or resume fail
// to lock), so it is information only: a process id reused after the holder died reads as
// alive.
func Holder(dir string) (pid int, alive bool) {
	pid = holderPID(filepath.Join(dir, Name))
	if pid <= 0 {
		return 0, false
	}
	return pid, processAlive(pid)
}
