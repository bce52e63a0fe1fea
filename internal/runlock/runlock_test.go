package runlock

import (
	"errors"
	"os"
	"runtime"
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
