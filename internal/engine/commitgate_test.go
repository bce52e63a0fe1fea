package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/store"
)

// Tests of the paid replies' commits (decideTask, commitSlot): a reply's commit starts when
// it arrives and its worker sends its next call meanwhile, one commit outstanding per worker.

// holdWriteLock takes the run database's write lock from another connection, as a slow disk
// would hold a commit, and releases it after hold; released is closed then. It returns false
// (with the error reported) when the lock could not be taken.
func holdWriteLock(t *testing.T, path string, hold time.Duration, released chan<- struct{}) bool {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Error(err)
		close(released)
		return false
	}
	conn, err := db.Conn(context.Background())
	if err == nil {
		_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	}
	if err != nil {
		t.Error(err)
		db.Close()
		close(released)
		return false
	}
	go func() {
		time.Sleep(hold)
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
		close(released)
	}()
	return true
}

// countDecisions counts the decisions committed to a run database, read from another
// connection.
func countDecisions(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM decisions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A received paid reply becomes durable while its worker's next call is still unanswered:
// the server holds each call until every earlier reply is committed (read from another
// connection), which it could wait for in vain if a commit waited on the next reply.
func TestPaidReplyDurableBeforeNextReply(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := llmExperiment(t, s.URL, 3, 1, 1) // one worker: call n follows reply n-1
	s.learn(exp)
	dir := filepath.Join(t.TempDir(), "run")
	var calls, late atomic.Int64
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if n > 1 {
			deadline := time.Now().Add(20 * time.Second)
			for countDecisions(t, filepath.Join(dir, dbFile)) < n-1 {
				if time.Now().After(deadline) {
					late.Add(1)
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		s.handle(w, r)
	}))
	defer gate.Close()
	exp.Backends[0].BaseURL = gate.URL + "/v1"
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	if n := late.Load(); n > 0 {
		t.Errorf("%d calls waited 20 s in vain for the replies before them to be committed", n)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 3*3*2 {
		t.Errorf("%d decisions recorded, want %d", n, 3*3*2)
	}
}

// A worker sends its next call while its last paid reply commits, but keeps one commit
// outstanding: while another connection holds the write lock (so that no commit can end),
// more calls than workers reach the server, and at most two per worker (the reply being
// committed and the call after it). A kill -9 then loses at most 2 x concurrency calls.
func TestNextCallSentWhileReplyCommits(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	const conc = 4
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := llmExperiment(t, s.URL, 6, 1, conc)
	s.learn(exp)
	dir := filepath.Join(t.TempDir(), "run")

	const hold = 2 * time.Second
	var (
		once     sync.Once
		locked   atomic.Bool
		released = make(chan struct{})
		during   atomic.Int64 // calls that arrived while the lock was held
	)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			// The first call: the run database exists and its set-up is written.
			if holdWriteLock(t, filepath.Join(dir, dbFile), hold, released) {
				locked.Store(true)
				go func() { <-released; locked.Store(false) }()
			}
		})
		if locked.Load() {
			during.Add(1)
		}
		s.handle(w, r)
	}))
	defer gate.Close()
	exp.Backends[0].BaseURL = gate.URL + "/v1"
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	<-released
	if n := during.Load(); n > 2*conc {
		t.Errorf("%d calls reached the server while no reply could be committed; at most %d (two per worker) may", n, 2*conc)
	} else if n <= conc {
		t.Errorf("%d calls reached the server while no reply could be committed: the workers waited for their commits (want more than %d)", n, conc)
	}
	if n := s.calls(); n != 6*3*2 {
		t.Errorf("%d calls, want %d", n, 6*3*2)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 6*3*2 {
		t.Errorf("%d decisions recorded, want %d", n, 6*3*2)
	}
}

// A run's end and a cancel wait for the commits outstanding: a run whose last replies are
// still committing when its last call is answered records and reports them all; a cancelled
// run abandons its call in flight but commits the reply it received before.
func TestOutstandingCommitsAwaited(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	const hold = 500 * time.Millisecond
	t.Run("end", func(t *testing.T) {
		s := newLLMServer(t)
		s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
			return 200, nil, normal
		}
		const total = 4 * 3 * 2
		exp := llmExperiment(t, s.URL, 4, 1, 2)
		s.learn(exp)
		dir := filepath.Join(t.TempDir(), "run")
		var calls atomic.Int64
		released := make(chan struct{})
		gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == total {
				holdWriteLock(t, filepath.Join(dir, dbFile), hold, released)
			}
			s.handle(w, r)
		}))
		defer gate.Close()
		exp.Backends[0].BaseURL = gate.URL + "/v1"
		if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
			t.Fatal(err)
		}
		<-released
		if n := countDecisions(t, filepath.Join(dir, dbFile)); n != total {
			t.Errorf("%d decisions recorded, want %d", n, total)
		}
		if recs, _ := llmReadCSV(t, dir); len(recs)-1 != total {
			t.Errorf("decisions.csv has %d rows, want %d", len(recs)-1, total)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		s := newLLMServer(t)
		s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
			return 200, nil, normal
		}
		const k = 5 // replies received before the cancel
		exp := llmExperiment(t, s.URL, 4, 1, 1)
		s.learn(exp)
		dir := filepath.Join(t.TempDir(), "run")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var calls atomic.Int64
		released := make(chan struct{})
		gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch calls.Add(1) {
			case k: // its reply cannot be committed until after the cancel
				holdWriteLock(t, filepath.Join(dir, dbFile), hold, released)
			case k + 1: // in flight when the run is stopped
				io.Copy(io.Discard, r.Body) // so the server notices the client leave
				cancel()
				<-r.Context().Done()
				return
			}
			s.handle(w, r)
		}))
		defer gate.Close()
		exp.Backends[0].BaseURL = gate.URL + "/v1"
		_, err := Run(ctx, exp, Options{Out: dir, NoCache: true})
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("a cancelled run returned %v", err)
		}
		<-released
		if n := countDecisions(t, filepath.Join(dir, dbFile)); n != k {
			t.Errorf("%d decisions recorded, want the %d replies received", n, k)
		}
	})
}

// A commit that fails fails the run, whether it is a reply's among others or the last one's
// (awaited after the worker took its last task).
func TestFailingCommitFailsRun(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	const total = 4 * 3 * 2
	for _, at := range []int64{1, total} {
		t.Run(fmt.Sprintf("call%d", at), func(t *testing.T) {
			s := newLLMServer(t)
			s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
				return 200, nil, normal
			}
			exp := llmExperiment(t, s.URL, 4, 1, 2)
			s.learn(exp)
			dir := filepath.Join(t.TempDir(), "run")
			var calls atomic.Int64
			gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == at {
					// From this reply on, every write of a decision fails.
					db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile)+"?_pragma=busy_timeout(10000)")
					if err == nil {
						_, err = db.Exec(`CREATE TRIGGER broken BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'the disk is on fire'); END`)
						db.Close()
					}
					if err != nil {
						t.Error(err)
					}
				}
				s.handle(w, r)
			}))
			defer gate.Close()
			exp.Backends[0].BaseURL = gate.URL + "/v1"
			_, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
			if err == nil || !strings.Contains(err.Error(), "the disk is on fire") {
				t.Fatalf("a run whose commit failed returned %v", err)
			}
			if at == 1 {
				// The workers stop: each sends at most the call after its failed commit's
				// reply and the one after the commit it awaited.
				if n := calls.Load(); n > 3*2 {
					t.Errorf("%d calls after the first commit failed; at most %d", n, 3*2)
				}
			}
		})
	}
}

// A worker's reply joins the group commit gathering while its previous reply's group is
// written (commitSlot.start starts the new commit before awaiting the old): one write for it
// and the other workers' replies that arrived meanwhile, not one more after the old ends.
func TestReplyJoinsGroupGatheringDuringWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), dbFile)
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	decision := func(agent int) []store.Decision {
		return []store.Decision{{Key: store.Key{RunID: "r1", AgentID: agent, Scenario: "helping"},
			Reply: store.Reply{Raw: "{}", Values: map[string]float64{"x": 1}, CostUSD: math.NaN()}}}
	}
	released := make(chan struct{})
	if !holdWriteLock(t, path, time.Second, released) {
		return
	}
	var a, b commitSlot
	// a1's write takes it and waits for the lock; b1 opens the next group; a2 arrives while
	// a1 is being written.
	if err := a.start(st, decision(1)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := b.start(st, decision(2)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.start(st, decision(3)) }()
	time.Sleep(100 * time.Millisecond)
	<-released
	if err := errors.Join(<-done, a.wait(), b.wait()); err != nil {
		t.Fatal(err)
	}
	if n := countDecisions(t, path); n != 3 {
		t.Fatalf("%d decisions committed, want 3", n)
	}
	if w := st.Writes(); w != 2 {
		t.Errorf("%d writes for a1, then b1 and a2 (gathered while a1 was written); want 2", w)
	}
}
