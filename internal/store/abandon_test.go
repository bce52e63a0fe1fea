package store

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CloseOpen, for a process exiting in the middle of a command, closes every open database,
// one idle and one in the middle of a read, so SQLite removes their -wal and -shm files (an
// interrupted report left them in the run folder: QA6 repro-3).
func TestCloseOpenRemovesSideFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"idle.db", "reading.db"} {
		p := filepath.Join(dir, name)
		s, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutRuns([]Run{{ID: "a", Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1}}); err != nil {
			t.Fatal(err)
		}
		for a := 1; a <= 50; a++ {
			s.Add(Decision{Key: Key{RunID: "a", AgentID: a, Scenario: "helping"}, Reply: Reply{Raw: "x", Values: map[string]float64{"w": 1}, CostUSD: math.NaN()}})
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if _, err := OpenExisting(paths[0]); err != nil {
		t.Fatal(err)
	}
	reading, err := OpenExisting(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	first, release, ended := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		n := 0
		ended <- reading.Decisions(func(Decision) error {
			if n++; n == 1 {
				close(first)
				<-release
			}
			return nil
		})
	}()
	<-first
	for _, p := range paths {
		if _, err := os.Stat(p + "-shm"); err != nil {
			t.Fatalf("an open database has no -shm file: %v", err)
		}
	}
	CloseOpen(50 * time.Millisecond) // the read holds its connection: CloseOpen stops waiting
	close(release)
	if err := <-ended; err == nil {
		t.Error("the read went on after CloseOpen")
	}
	for _, p := range paths {
		for _, side := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(p + side); err == nil {
				t.Errorf("%s%s is left after CloseOpen", filepath.Base(p), side)
			}
		}
	}
}
