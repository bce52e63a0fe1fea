package runlock

import (
	"errors"
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
