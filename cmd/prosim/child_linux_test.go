//go:build linux

package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A --workers run's local workers end with it even when it is killed with SIGKILL (QA: two
// orphaned workers lived on for minutes, their broker gone with the coordinator).
func TestLocalWorkersEndWithAKilledCoordinator(t *testing.T) {
	src := "name: orphans\nstudy: vignettes\nseed: 1\npopulation: {source: sample, n: 20000}\nscenarios: [volunteering, donating]\nconditions: [{name: none, policy: none}]\n"
	f := filepath.Join(t.TempDir(), "o.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c := cliCmd(t, "run", f, "--out", filepath.Join(t.TempDir(), "run"), "--workers", "2")
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "local workers") {
	}
	var workers []int
	for deadline := time.Now().Add(20 * time.Second); len(workers) < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		workers = childrenOf(c.Process.Pid)
	}
	if len(workers) < 2 {
		c.Process.Kill()
		t.Fatalf("found %d worker processes of the run, want 2", len(workers))
	}
	t.Cleanup(func() { // orphans of a failed test
		for _, p := range workers {
			if pr, err := os.FindProcess(p); err == nil && running(p) {
				pr.Kill()
			}
		}
	})
	c.Process.Kill()
	c.Wait()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		alive := 0
		for _, p := range workers {
			if running(p) {
				alive++
			}
		}
		if alive == 0 {
			return
		}
	}
	t.Errorf("the workers %v outlived their killed coordinator by 20 s", workers)
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(p); ok && ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// parentOf is a process's parent id, from /proc/PID/stat (after the name in parentheses: the
// state, then the parent).
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z'
}
