package engine

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A worker sends its next call only once its last paid reply is committed: while another
// connection holds the run database's write lock (so that no commit can finish), no call
// beyond each worker's first reaches the server. A kill -9 then loses at most the calls in
// flight.
func TestPaidReplyCommittedBeforeNextCall(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	const conc = 4
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := llmExperiment(t, s.URL, 6, 1, conc)
	s.learn(exp)
	dir := filepath.Join(t.TempDir(), "run")

	const hold = 400 * time.Millisecond
	var (
		once     sync.Once
		locked   atomic.Bool
		released = make(chan struct{})
		during   atomic.Int64 // calls that arrived while the lock was held
		lockErr  error
	)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			// The first call: the run database exists and its set-up is written. Take the
			// write lock for a while, as a slow disk would hold a commit.
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile)+"?_pragma=busy_timeout(10000)")
			if err == nil {
				var conn *sql.Conn
				if conn, err = db.Conn(context.Background()); err == nil {
					if _, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err == nil {
						locked.Store(true)
						go func() {
							time.Sleep(hold)
							locked.Store(false)
							conn.ExecContext(context.Background(), "ROLLBACK")
							conn.Close()
							db.Close()
							close(released)
						}()
						return
					}
				}
			}
			lockErr = err
			close(released)
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
	if lockErr != nil {
		t.Fatal(lockErr)
	}
	if n := during.Load(); n > conc {
		t.Errorf("%d calls reached the server while no reply could be committed; at most %d (one per worker) may", n, conc)
	}
	if n := s.calls(); n != 6*3*2 {
		t.Errorf("%d calls, want %d", n, 6*3*2)
	}
}
