package serve

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/prosim/prosim/internal/engine"
)

// stop asks the process running the run to stop (engine.RequestStop): it ends the decisions
// in flight, commits them, and exits resumable. It answers at once; the live page shows
// "stopping", then "stopped".
func (s *Server) stop(w http.ResponseWriter, r *http.Request, id, dir string) {
	snap := s.snapshot(id, dir, false)
	if snap.Status != "running" {
		http.Error(w, fmt.Sprintf("run %s is %s, not running", id, snap.Status), http.StatusConflict)
		return
	}
	if err := engine.RequestStop(dir); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.logf("stop requested for %s (%s)", id, dir)
	w.WriteHeader(http.StatusAccepted)
}

// resume continues a stopped run in this process, as `prosim resume DIR` would (the run's
// recorded options, API keys from this process's environment). It answers once the resume has
// started; its outcome is logged and shown on the live page.
func (s *Server) resume(w http.ResponseWriter, r *http.Request, id, dir string) {
	if snap := s.snapshot(id, dir, false); snap.Status != "stopped" {
		http.Error(w, fmt.Sprintf("run %s is %s: only a stopped run is resumed", id, snap.Status), http.StatusConflict)
		return
	}
	s.mu.Lock()
	busy := s.resumes[dir]
	if !busy {
		s.resumes[dir] = true
		delete(s.lastErr, dir)
		delete(s.history, dir) // the rate restarts with the run: the pause does not count
	}
	s.mu.Unlock()
	if busy { // two clicks at once: the lock would refuse the second resume anyway
		http.Error(w, fmt.Sprintf("run %s is already being resumed", id), http.StatusConflict)
		return
	}
	started := make(chan struct{})
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer func() {
			s.mu.Lock()
			delete(s.resumes, dir)
			s.mu.Unlock()
		}()
		close(started)
		s.logf("resuming %s (%s)", id, dir)
		res, err := engine.Resume(s.ctx, dir, engine.Options{Notices: s.opt.Log})
		if err != nil {
			s.logf("resume of %s: %v", id, err)
			s.mu.Lock()
			s.lastErr[dir] = "resume: " + shownError(err.Error(), dir)
			if _, ok := errors.AsType[*engine.BudgetStop](err); ok {
				s.lastErr[dir] += capHint
			}
			s.mu.Unlock()
			return
		}
		s.logf("resume of %s complete: %d decisions, %d asked", id, res.Decisions, res.Asked)
	}()
	<-started
	w.WriteHeader(http.StatusAccepted)
}

// Wait returns when every resume started by this server has ended: they stop, resumable, when
// the server's context is cancelled, and a caller waits so that none is cut off mid-write.
func (s *Server) Wait() { s.running.Wait() }

// capHint follows a stop at the spend cap on the page: its Resume keeps the cap.
const capHint = " (Resume here keeps the cap: raise it with --max-cost from the command line, in the folder that holds the run)"

// shownError is a message about the run in dir as a page shows it: the run named by its
// folder's name, as report pages name runs (engine.FolderNames), never by the path of the
// server's machine (QA9: "prosim resume /tmp/.../run-budget2 --max-cost 0.1" on the page).
func shownError(msg, dir string) string {
	return strings.ReplaceAll(msg, dir, engine.FolderNames([]string{dir})[0])
}
