//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A --workers run's local workers end with it even when it is killed with SIGKILL (QA: two
// orphaned workers lived on for minutes, their broker gone with the coordinator).
func TestLocalWorkersEndWithAKilledCoordinator(t *testing.T) {
	src := "name: orphans\nstudy: vignettes\nseed: 1\npopulation: {source: sample, n: 20000}\nscenarios: [volunteering, donating]\nconditions: [{name: none, policy: none}]\n"
	f := filepath.Join(t.TempDir(), "o.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c := cliCmd(t, "run", f, "--out", filepath.Join(t.TempDir(), "run"), "--workers", "2")
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "local workers") {
	}
	var workers []int
	for deadline := time.Now().Add(20 * time.Second); len(workers) < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		workers = childrenOf(c.Process.Pid)
	}
	if len(workers) < 2 {
		c.Process.Kill()
		t.Fatalf("found %d worker processes of the run, want 2", len(workers))
	}
	t.Cleanup(func() { // orphans of a failed test
		for _, p := range workers {
			if pr, err := os.FindProcess(p); err == nil && running(p) {
				pr.Kill()
			}
		}
	})
	c.Process.Kill()
	c.Wait()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		alive := 0
		for _, p := range workers {
			if running(p) {
				alive++
			}
		}
		if alive == 0 {
			return
		}
	}
	t.Errorf("the workers %v outlived their killed coordinator by 20 s", workers)
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(p); ok && ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// parentOf is a process's parent id, from /proc/PID/stat (after the name in parentheses: the
// state, then the parent).
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// procState is the state letter of process pid (Z: a zombie, not reaped), "" once it is gone.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	var state string
	fmt.Sscan(string(b[bytes.LastIndexByte(b, ')')+1:]), &state)
	return state
}

// A --workers run's local workers killed mid-run (SIGKILL, then SIGTERM) are reaped and started
// again, and the run finishes with every decision once (QA16 F1: they stayed <defunct>, and the
// run waited for ever, advising a `prosim worker` the broker would refuse).
func TestLocalWorkersKilledAreStartedAgain(t *testing.T) {
	ownCacheDir(t)
	const agents, concurrency = 40, 8
	const decisions = agents * 3
	s := newCountingServer(t, 20*time.Millisecond)
	exp := llmStudy(t, s.URL, agents, concurrency)
	dir := filepath.Join(t.TempDir(), "run")
	coord := cliCmd(t, "run", exp, "--workers", "2", "--ack-wait", "1s", "--out", dir, "--no-cache", "-q")
	var kill1, kill2 sync.Once
	reaped := make(chan string, 2)
	var first []int           // the workers first started: the second signal goes to the one not killed
	var firstOnce sync.Once   // stopChild runs in the server's handlers, concurrently
	var coordPid atomic.Int64 // coord.Process, set by Start, is not for the handlers to read
	stopChild := func(sig syscall.Signal) {
		firstOnce.Do(func() {
			first = childrenOf(int(coordPid.Load()))
			slices.Sort(first)
		})
		if len(first) != 2 {
			reaped <- fmt.Sprintf("the coordinator has %d children, want its 2 workers", len(first))
			return
		}
		pid := first[0]
		if sig == syscall.SIGTERM {
			pid = first[1]
		}
		syscall.Kill(pid, sig)
		go func() {
			deadline := time.Now().Add(10 * time.Second)
			for procState(pid) != "" && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if st := procState(pid); st != "" {
				reaped <- fmt.Sprintf("worker %d stopped by %v is still there, state %s", pid, sig, st)
				return
			}
			reaped <- ""
		}()
	}
	s.mu.Lock()
	s.at = func(n int) {
		if n >= 30 {
			kill1.Do(func() { stopChild(syscall.SIGKILL) })
		}
		if n >= 70 {
			kill2.Do(func() { stopChild(syscall.SIGTERM) })
		}
	}
	s.mu.Unlock()
	hung := time.AfterFunc(2*time.Minute, func() { coord.Process.Kill() }) // before: it waited for ever
	defer hung.Stop()
	var outBuf bytes.Buffer
	coord.Stdout, coord.Stderr = &outBuf, &outBuf
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	coordPid.Store(int64(coord.Process.Pid))
	err := coord.Wait()
	out := outBuf.Bytes()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	for range 2 {
		if msg := <-reaped; msg != "" {
			t.Error(msg)
		}
	}
	// The one stopped by SIGTERM exits 0, or 130 with calls in flight handed back (--grace 0).
	if !bytes.Contains(out, []byte("(signal: killed); started it again")) || bytes.Count(out, []byte("ended before the run")) != 2 {
		t.Errorf("want two workers said to have ended and been started again, one killed:\n%s", out)
	}
	if all, valid := validDecisions(t, dir); all != decisions || valid != decisions {
		t.Fatalf("%d decisions recorded (%d valid), want %d once each, all valid", all, valid, decisions)
	}
	t.Logf("%d calls for %d decisions, a local worker killed at call 30 and another stopped at call 70\n%s", s.calls(), decisions, out)
}

// A local worker that keeps ending at once is started again restartBurst times, then the run
// is stopped with an error that names it and its exit status, rather than restarting it for ever.
func TestLocalWorkerEndingAtOnceStopsTheRun(t *testing.T) {
	defer func(f func(string, string, int) *exec.Cmd) { localWorkerCmd = f }(localWorkerCmd)
	localWorkerCmd = func(string, string, int) *exec.Cmd { return exec.Command("/bin/sh", "-c", "exit 3") }
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	failed := make(chan error, 1)
	var notices syncBuffer
	if _, err := startLocalCluster(context.Background(), 1, 1, &notices, &stops, func(err error) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if want := "local worker local1 ended 4 times within 1m0s (last: exit status 3)"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to say %q", err, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run was not stopped")
	}
	if n := strings.Count(notices.String(), "(exit status 3); started it again"); n != restartBurst {
		t.Errorf("%d restarts said, want %d:\n%s", n, restartBurst, notices.String())
	}
}

// syncBuffer is a strings.Builder written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Workers that end at a Ctrl-C (the terminal sends it to them too) are not started again.
func TestLocalWorkersEndingAtAStopAreNotStartedAgain(t *testing.T) {
	defer func(f func(string, string, int) *exec.Cmd) { localWorkerCmd = f }(localWorkerCmd)
	localWorkerCmd = func(string, string, int) *exec.Cmd { return exec.Command("/bin/sh", "-c", "exit 130") }
	var stops []func()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the Ctrl-C
	failed := make(chan error, 1)
	var notices syncBuffer
	if _, err := startLocalCluster(ctx, 2, 1, &notices, &stops, func(err error) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	select {
	case err := <-failed:
		t.Errorf("the run was failed: %v", err)
	default:
	}
	if strings.Contains(notices.String(), "started it again") {
		t.Errorf("workers ended by a stop were started again:\n%s", notices.String())
	}
}

// Local workers with calls in flight end at once with their killed coordinator (QA16 F8: one
// was still there 3 s later, waiting on a broker that was gone; 6-7 s measured with 5 s calls).
func TestLocalWorkersWithCallsEndAtOnceWithAKilledCoordinator(t *testing.T) {
	ownCacheDir(t)
	asked := make(chan struct{})
	var calls atomic.Int32
	// A server that does not answer: it waits for its clients to go.
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then the server sees the client go
		if calls.Add(1) == 1 {
			close(asked)
		}
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(s.Close)
	exp := llmStudy(t, s.URL, 20, 8)
	c := cliCmd(t, "run", exp, "--workers", "2", "--out", filepath.Join(t.TempDir(), "run"), "--no-cache", "-q")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		c.Wait()
		t.Fatal("no call came")
	}
	workers := childrenOf(c.Process.Pid)
	t.Cleanup(func() {
		for _, p := range workers {
			syscall.Kill(p, syscall.SIGKILL)
		}
	})
	c.Process.Kill()
	c.Wait()
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		if !slices.ContainsFunc(workers, running) {
			t.Logf("workers %v gone %v after their coordinator's kill", workers, time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("workers %v outlived their killed coordinator by 2 s with calls in flight", workers)
}
