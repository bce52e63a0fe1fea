package runlock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// A second Acquire is refused, naming the directory and the holder; after Release it succeeds.
func TestAcquireIsExclusive(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir)
	if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "another prosim process") {
		t.Fatalf("a second Acquire gave %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l2.Release()
}

// Holder names the live holder while the lock is held, and none once it is released.
func TestHolder(t *testing.T) {
	dir := t.TempDir()
	if _, alive := Holder(dir); alive {
		t.Fatal("a directory never locked has a live holder")
	}
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pid, alive := Holder(dir); !alive || pid != os.Getpid() {
		t.Fatalf("Holder = %d, %v while this process holds the lock", pid, alive)
	}
	l.Release()
	if pid, alive := Holder(dir); alive && runtime.GOOS != "windows" {
		t.Fatalf("Holder = %d, alive after release", pid)
	}
}

// Where flock(2) is refused, the process-id lockfile keeps a second process out and is taken
// over once its process is gone (kill -9 leaves it behind).
func TestPIDFileStaleLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), Name+pidSuffix)
	l, err := acquirePIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acquirePIDFile(path); !errors.Is(err, ErrHeld) {
		t.Fatalf("a second lock while held: %v", err)
	}
	l.Release()
	// A lockfile left by a process that was killed: a child that has exited.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot start a process:", err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = acquirePIDFile(path)
	if err != nil {
		t.Fatalf("a stale lockfile (pid %d, exited) was not taken over: %v", cmd.Process.Pid, err)
	}
	if pid := holderPID(path[:len(path)-len(pidSuffix)]); pid != os.Getpid() {
		t.Errorf("holder %d, want this process", pid)
	}
	l.Release()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("lockfile left after Release: %v", err)
	}
}
