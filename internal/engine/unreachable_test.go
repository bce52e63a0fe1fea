package engine

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
)

// A model server that is not running refuses every call: the run stops after the first
// decision's retries, naming the server, with nothing recorded; once the server runs,
// resume completes it.
func TestUnreachableServerStopsTheRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	exp := llmExperiment(t, "http://"+addr, 4, 1, 2)
	exp.Backends[0].MaxAttempts = 2
	t.Setenv(llmKeyEnv, llmKey)
	dir := filepath.Join(t.TempDir(), "run")
	_, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	want := "connection refused by http://" + addr + ": is the server running?"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "prosim resume "+dir) {
		t.Fatalf("err %v\nwant the run stopped, resumable, saying %q", err, want)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 0 {
		t.Fatalf("%d decisions recorded, want none", n)
	}

	s := &llmServer{t: t, seen: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	if s.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	s.Start()
	t.Cleanup(s.Close)
	s.learn(exp)
	s.answer = func(d llmDecision, first bool, choice int, content string) (int, map[string]string, string) {
		return http.StatusOK, nil, content
	}
	res, err := Resume(context.Background(), dir, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 4*3*2 {
		t.Fatalf("%d decisions after resume, want %d", res.Decisions, 4*3*2)
	}
}

// Once a call has reached the server, a later refusal is one failed decision, recorded
// invalid as any other: a healthy run is not stopped by a server that restarts.
func TestRefusalAfterAnAnswerIsRecorded(t *testing.T) {
	refused := &backend.StatusError{Provider: "openai", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	var n atomic.Int64
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
			if n.Add(1) == 1 {
				return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}, Calls: 1}, nil
			}
			return backend.Reply{}, refused
		}), nil
	}
	exp := load(t, study1, 1)
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Backends: hook})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 12*3*3*2 {
		t.Fatalf("%d decisions, want every one recorded", res.Decisions)
	}
	// The same refusals with no call ever answered stop the run at the first.
	n.Store(1)
	_, err = Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "run2"), NoCache: true, Backends: hook})
	if err == nil || !strings.Contains(err.Error(), "no call has reached its server") {
		t.Fatalf("err %v, want the run stopped", err)
	}
}

// A worker's backend that cannot be built (no API key on that machine) fails every decision
// alike: the run stops at the first, as for a rejected key, instead of recording each invalid.
func TestConfigErrorStopsTheRun(t *testing.T) {
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
			return backend.Reply{}, &backend.ConfigError{Err: os.ErrNotExist}
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), load(t, study1, 2), Options{Out: dir, NoCache: true, Backends: hook})
	if err == nil || !strings.Contains(err.Error(), os.ErrNotExist.Error()) {
		t.Fatalf("err %v, want the run stopped", err)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 0 {
		t.Fatalf("%d decisions recorded, want none", n)
	}
}
