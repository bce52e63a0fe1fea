package runlock

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Holder reports the process id recorded in dir's lock file and whether that process is
// alive. It takes no lock (a reader such as prosim serve must never make a run or resume fail
// to lock), so it is information only: a process id reused after the holder died reads as
// alive.
func Holder(dir string) (pid int, alive bool) {
	b, err := os.ReadFile(filepath.Join(dir, Name))
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, processAlive(pid)
}
