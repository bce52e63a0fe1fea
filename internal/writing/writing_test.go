package writing

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// File leaves either the whole file or nothing: a failed fill removes its temporary.
func TestFileRemovesItsTemporaryOnFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := File(path, func(w io.Writer) error { w.Write([]byte("half")); return errors.New("boom") }); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary left: %v", err)
	}
	if err := File(path, func(w io.Writer) error { _, err := w.Write([]byte("whole")); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "whole" {
		t.Fatalf("got %q", b)
	}
}

// Abandon removes the temporaries still being written, not those whose write has ended. It
// comes last: no write begins after Abandon.
func TestAbandonRemovesOnlyUnfinishedTemporaries(t *testing.T) {
	dir := t.TempDir()
	open, done := filepath.Join(dir, "a.csv.tmp"), filepath.Join(dir, "b.csv.tmp")
	Begin(open)
	end := Begin(done)
	for _, f := range []string{open, done} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	end()
	Abandon()
	if _, err := os.Stat(open); !os.IsNotExist(err) {
		t.Errorf("%s is still there after Abandon", open)
	}
	if _, err := os.Stat(done); err != nil {
		t.Errorf("Abandon removed a file whose write had ended: %v", err)
	}
}
