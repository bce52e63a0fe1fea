package store

import (
	"math"
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
	if err := w.PutAgents([]Agent{{ID: 7, Persona: []byte(`{}`), Text: "Ana"}}); err != nil {
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
