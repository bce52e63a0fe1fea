package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// A stop request (the file prosim serve writes) stops a run as an interrupt does: it returns
// as interrupted, keeps what it made, and resumes to completion; the request is used up.
func TestStopFileStopsTheRunResumably(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var n atomic.Int64
	var once sync.Once
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if n.Add(1) >= 10 {
				once.Do(func() {
					if err := RequestStop(dir); err != nil {
						t.Error(err)
					}
				})
				<-ctx.Done() // the run must notice the file by itself
				return backend.Reply{}, ctx.Err()
			}
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}}, nil
		}), nil
	}
	_, err := Run(context.Background(), load(t, study1, 1), Options{Out: dir, Backends: hook})
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "stop request") {
		t.Fatalf("a run asked to stop returned %v", err)
	}
	if StopRequested(dir) {
		t.Fatal("the stop request is still pending after the run stopped")
	}
	if st, _ := Status(dir); st != "running" {
		t.Fatalf("status %q after a stop, want running (resumable)", st)
	}
	ok := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}}, nil
		}), nil
	}
	// A request left from before is for a process that is gone: it does not stop a resume.
	if err := RequestStop(dir); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(filepath.Join(dir, StopFile), old, old); err != nil {
		t.Fatal(err)
	}
	res, err := Resume(context.Background(), dir, Options{Backends: ok})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 12*3*3*2 || res.Asked != 12*3*3*2-9 {
		t.Fatalf("resume: %d decisions, %d asked; want %d and %d", res.Decisions, res.Asked, 12*3*3*2, 12*3*3*2-9)
	}
}

// RequestOf gives a recorded decision's request exactly as its backend received it, also for
// a run that stopped half-way.
func TestRequestOfIsTheRequestSent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var mu sync.Mutex
	sent := map[string]backend.Request{} // by agent + prompt
	var n atomic.Int64
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if n.Add(1) > 40 {
				return backend.Reply{}, context.Canceled // stops the run half-way
			}
			mu.Lock()
			sent[req.System+"\x00"+req.Prompt] = req
			mu.Unlock()
			return backend.Reply{Raw: `{"willingness": 5}`, Values: map[string]float64{"willingness": 5}}, nil
		}), nil
	}
	if _, err := Run(context.Background(), load(t, study1, 1), Options{Out: dir, Backends: hook}); err == nil {
		t.Fatal("the run did not stop")
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	var keys []store.Key
	st.Decisions(func(d store.Decision) error { keys = append(keys, d.Key); return nil })
	st.Close()
	if len(keys) != 40 {
		t.Fatalf("%d decisions recorded, want 40", len(keys))
	}
	for _, k := range []store.Key{keys[0], keys[17], keys[39]} {
		req, err := RequestOf(dir, k)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := sent[req.System+"\x00"+req.Prompt]
		if !ok || got.AgentID != k.AgentID || req.AgentID != k.AgentID || !strings.Contains(req.System, study.RoleText) {
			t.Fatalf("%v: reconstructed request was not sent for this agent (found %v)", k, ok)
		}
	}
	if _, err := RequestOf(dir, store.Key{RunID: "none.r1", AgentID: 999, Scenario: "volunteering"}); err == nil {
		t.Fatal("RequestOf found an unrecorded decision")
	}
}
