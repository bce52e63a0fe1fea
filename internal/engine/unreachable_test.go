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
	"time"

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

// Once a call has reached the server, a decision refused in every call is asked again, not
// recorded invalid: a server that restarts costs the run no decision. Refusals that go on
// (refusalLimit asks in a row, no answer between) stop the run, resumable, with only the
// answered decisions recorded.
func TestRefusalAfterAnAnswer(t *testing.T) {
	refused := &backend.StatusError{Provider: "openai", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	hook := func(refuse func(n int64) bool) func(experiment.Backend) (backend.Backend, error) {
		var n atomic.Int64
		return func(experiment.Backend) (backend.Backend, error) {
			return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
				if refuse(n.Add(1)) {
					return backend.Reply{}, refused
				}
				return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}, Calls: 1}, nil
			}), nil
		}
	}
	exp := load(t, study1, 1)
	if lim := (&Runner{exp: exp}).refusalLimit(); lim != 8 {
		t.Fatalf("refusal limit %d at concurrency 1, want 8", lim)
	}
	// A restart: calls 2 to 8 refused (7 in a row, one short of the limit).
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Backends: hook(func(n int64) bool { return n >= 2 && n <= 8 })})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 12*3*3*2 {
		t.Fatalf("%d decisions, want every one recorded", res.Decisions)
	}
	for _, r := range invalidReasons(t, dir) {
		if r != "" {
			t.Fatalf("a decision recorded invalid: %q", r)
		}
	}
	// A server gone after its first answer: the run stops at the limit, the refused decision
	// not recorded.
	dir = filepath.Join(t.TempDir(), "run2")
	_, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true, Backends: hook(func(n int64) bool { return n >= 2 })})
	if err == nil || !strings.Contains(err.Error(), "the server stopped answering") || !strings.Contains(err.Error(), "8 asks in a row refused in every call") ||
		!strings.Contains(err.Error(), "run `prosim resume "+dir+"` once it is back") {
		t.Fatalf("err %v, want the run stopped, the server gone", err)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 1 {
		t.Fatalf("%d decisions recorded, want the one answered", n)
	}
	// The same refusals with no call ever answered stop the run at the first.
	_, err = Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "run3"), NoCache: true, Backends: hook(func(int64) bool { return true })})
	if err == nil || !strings.Contains(err.Error(), "no call has reached its server") {
		t.Fatalf("err %v, want the run stopped", err)
	}
}

// A decision refused and asked again counts every call made for it: its row's calls are the
// refused asks' (an attempt sent, then its retries refused) and the answered one's, so the
// decisions' calls sum to the calls made (QA: the meter had 2 calls more than the rows).
func TestRefusedAsksCallsRecorded(t *testing.T) {
	refused := &backend.StatusError{Provider: "openai", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	var n atomic.Int64
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
			if k := n.Add(1); k >= 2 && k <= 4 {
				return backend.Reply{Calls: 1, FailedCalls: 1}, refused
			}
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}, Calls: 1}, nil
		}), nil
	}
	res, err := Run(context.Background(), load(t, study1, 1), Options{Out: filepath.Join(t.TempDir(), "run"), NoCache: true, Backends: hook})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RunUsage) != 1 || res.RunUsage[0].Calls != int(n.Load()) || res.RunUsage[0].FailedCalls != 3 {
		t.Fatalf("recorded usage %+v, want %d calls, 3 failed", res.RunUsage, n.Load())
	}
	if len(res.Usage) != 1 || res.Usage[0].Calls != int(n.Load()) {
		t.Fatalf("usage %+v, want %d calls", res.Usage, n.Load())
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

// A server that dies mid-run (its listener closed after some answers) stops the run after
// refusalLimit refused asks, not after asking every remaining decision, with nothing recorded
// invalid; a server started again on the same address lets resume complete every decision.
func TestServerGoneStopsTheRun(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	exp := llmExperiment(t, s.URL, 20, 2, 2) // 240 decisions
	exp.Backends[0].MaxAttempts = 2
	s.learn(exp)
	s.answer = func(d llmDecision, first bool, choice int, content string) (int, map[string]string, string) {
		return http.StatusOK, nil, content
	}
	var closed atomic.Int64 // when the server was closed (unix nanoseconds)
	s.onAnswer = func(n int) {
		if n == 30 {
			closed.Store(time.Now().UnixNano())
			go s.Close() // waits for the calls in flight: not from their handler
		}
	}
	addr := s.Listener.Addr().String()
	dir := filepath.Join(t.TempDir(), "run")
	var progress syncBuffer
	_, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Progress: &progress})
	took := time.Since(time.Unix(0, closed.Load()))
	if want := "; stopped: the server stopped answering: connection refused by http://" + addr; !strings.Contains(progress.String(), want) {
		t.Errorf("progress output:\n%s\nwant it to say %q", progress.String(), want)
	}
	for _, want := range []string{"the server stopped answering: connection refused by http://" + addr + ": is the server running?",
		"8 asks in a row refused in every call", "run `prosim resume " + dir + "` once it is back"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err %v\nwant the run stopped, saying %q", err, want)
		}
	}
	// 8 asks of 2 attempts, 2 at a time, each backing off at most 0.5 s: about 1 s. Asking
	// the 210 decisions left would take about 26 s.
	if took > 15*time.Second {
		t.Errorf("the run stopped %v after the server was closed", took)
	}
	reasons := invalidReasons(t, dir)
	for _, r := range reasons {
		if r != "" {
			t.Fatalf("a decision recorded invalid: %q", r)
		}
	}
	if len(reasons) < 30 || len(reasons) > 32 {
		t.Fatalf("%d decisions recorded, want the 30 answered (and those in flight at the close)", len(reasons))
	}

	s2 := &llmServer{t: t, seen: map[string]int{}}
	s2.Server = httptest.NewUnstartedServer(http.HandlerFunc(s2.handle))
	if s2.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	s2.Start()
	t.Cleanup(s2.Close)
	s2.learn(exp)
	s2.answer = s.answer
	res, err := Resume(context.Background(), dir, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 240 {
		t.Fatalf("%d decisions after resume, want 240", res.Decisions)
	}
	for _, r := range invalidReasons(t, dir) {
		if r != "" {
			t.Fatalf("a decision recorded invalid after resume: %q", r)
		}
	}
}

// The rule is about refusals: a server that answers HTTP 500 for ever after some answers is
// reached by every call, and each decision is recorded invalid with the error, as before.
func TestServerErrorsStillRecorded(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	exp := llmExperiment(t, s.URL, 2, 2, 2) // 24 decisions
	exp.Backends[0].MaxAttempts = 2
	s.learn(exp)
	var n atomic.Int64
	s.answer = func(d llmDecision, first bool, choice int, content string) (int, map[string]string, string) {
		if n.Add(1) > 10 {
			return http.StatusInternalServerError, nil, `{"error":{"message":"boom"}}`
		}
		return http.StatusOK, nil, content
	}
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 24 {
		t.Fatalf("%d decisions, want all 24 recorded", res.Decisions)
	}
	invalid := 0
	for _, r := range invalidReasons(t, dir) {
		if r != "" {
			invalid++
			if !strings.Contains(r, "HTTP 500") {
				t.Fatalf("invalid reason %q, want the HTTP 500", r)
			}
		}
	}
	if invalid != 14 {
		t.Fatalf("%d decisions recorded invalid, want the 14 answered HTTP 500", invalid)
	}
}
