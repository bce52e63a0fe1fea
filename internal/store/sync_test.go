package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A committed decision's WAL frames are fsynced by the syncer soon after, without the commit
// waiting for it; the rare writes (a batch job, metadata) are fsynced before they return.
func TestWALSyncedAfterCommit(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.wal.syncs.Load()
	if err := s.PutBatch(Batch{Backend: "b", ID: "job-1", CustomIDs: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.wal.syncs.Load(); got != before+1 {
		t.Fatalf("PutBatch returned after %d fsyncs of the WAL, want 1", got-before)
	}
	before = s.wal.syncs.Load()
	if err := s.Commit(testDecision(1)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.wal.syncs.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the committed decision's WAL was not fsynced within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Many commits share an fsync: at most one every syncEvery.
func TestWALSyncsPaced(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.wal.syncs.Load()
	start := time.Now()
	for i := range 200 {
		if err := s.Commit(testDecision(i)); err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	s.Close()
	n := s.wal.syncs.Load() - before
	// One at the first write, one a syncEvery since, one at Close.
	if max := int64(elapsed/syncEvery) + 3; n > max {
		t.Errorf("%d fsyncs for 200 commits in %v, want at most %d (one every %v)", n, elapsed, max, syncEvery)
	}
	if n == 0 {
		t.Error("no fsync for 200 commits")
	}
}

// A failed fsync may have dropped frames the kernel held: every later write fails with it,
// naming the WAL, and the decisions stay queued rather than being called durable.
func TestFailedFsyncStopsWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prosim.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fsyncFile = func(*os.File) error { return errors.New("input/output error") }
	defer func() { fsyncFile = (*os.File).Sync }()
	if err := s.SetMeta("k", "v"); err == nil || !strings.Contains(err.Error(), "prosim.db-wal: fsync: input/output error") {
		t.Fatalf("SetMeta after a failed fsync: %v, want the fsync's error naming the WAL", err)
	}
	err = s.Commit(testDecision(7))
	if err == nil || !strings.Contains(err.Error(), "prosim.db-wal: fsync") {
		t.Fatalf("Commit after a failed fsync: %v, want the fsync's error", err)
	}
	s.mu.Lock()
	queued := len(s.pending)
	s.mu.Unlock()
	if queued != 1 {
		t.Errorf("%d decisions queued after the refused commit, want 1 (kept for a later write)", queued)
	}
}

func testDecision(agent int) Decision {
	return Decision{Key: Key{RunID: "none.r1", AgentID: agent, Scenario: "helping"},
		Reply: Reply{Raw: `{"rating": 5}`, Values: map[string]float64{"rating": 5}, Calls: 1, CostUSD: 0.001}}
}
