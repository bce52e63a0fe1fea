package store

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// A read-only store reads what a writer commits while the writer keeps the database open, and
// cannot write.
func TestOpenReadOnlyWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prosim.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.PutRuns([]Run{{ID: "none.r1", Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := w.PutAgents(context.Background(), []Agent{{ID: 7, Persona: []byte(`{}`), Text: "Ana"}}); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range 3 {
		if err := w.Commit(Decision{Key: Key{RunID: "none.r1", AgentID: 7, Scenario: "s", Trial: i}, Reply: Reply{Raw: "4", CostUSD: math.NaN()}}); err != nil {
			t.Fatal(err)
		}
		if n, err := r.CountDecisions(); err != nil || n != i+1 {
			t.Fatalf("reader sees %d decisions (%v), want %d", n, err, i+1)
		}
	}
	if a, ok, err := r.Agent(7); err != nil || !ok || a.Text != "Ana" {
		t.Fatalf("Agent(7) = %+v, %v, %v", a, ok, err)
	}
	if _, ok, err := r.Agent(8); err != nil || ok {
		t.Fatalf("Agent(8) found=%v err=%v", ok, err)
	}
	if err := r.SetMeta("x", "y"); err == nil {
		t.Fatal("a read-only store wrote")
	}
}

// A read-only store leaves -wal and -shm beside the database it closes; Tidy removes them,
// but not while another connection has the database open.
func TestTidyRemovesWhatReadOnlyLeft(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prosim.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutRuns([]Run{{ID: "none.r1", Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1}}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	read := func() {
		r, err := OpenReadOnly(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.CountDecisions(); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	read()
	if !exists(path+"-wal") || !exists(path+"-shm") {
		t.Fatal("a read-only store left no -wal/-shm: this test no longer tests Tidy")
	}
	other, err := OpenReadOnly(path) // another reader keeps them
	if err != nil {
		t.Fatal(err)
	}
	if err := Tidy(path); err != nil {
		t.Fatal(err)
	}
	if !exists(path + "-shm") {
		t.Fatal("Tidy removed -shm while another connection had the database open")
	}
	other.Close()
	if err := Tidy(path); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if exists(f) {
			t.Errorf("%s left after Tidy", filepath.Base(f))
		}
	}
	if r, err := OpenExisting(path); err != nil {
		t.Fatal(err)
	} else if runs, err := r.Runs(); err != nil || len(runs) != 1 {
		t.Fatalf("after Tidy: runs %v, %v", runs, err)
	} else {
		r.Close()
	}
	gone := filepath.Join(t.TempDir(), "prosim.db")
	if err := Tidy(gone); err != nil || exists(gone) {
		t.Fatalf("Tidy of a missing database: %v, created %v", err, exists(gone))
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
