package main

// Distributed runs with real processes: worker processes (this test binary as prosim worker)
// on an embedded broker, one of them killed with SIGKILL mid-run; the coordinator killed and
// resumed; and the zero-set-up path, prosim run --workers N.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prosim/prosim/internal/cluster"
)

func testBroker(t *testing.T) *cluster.Broker {
	t.Helper()
	b, err := cluster.StartBroker(cluster.BrokerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// startWorkerProcs starts n prosim worker processes on url, stopped when the test ends.
func startWorkerProcs(t *testing.T, url string, n, concurrency int) []*exec.Cmd {
	t.Helper()
	var ps []*exec.Cmd
	for i := range n {
		p := cliCmd(t, "worker", "--nats", url, "--concurrency", fmt.Sprint(concurrency), "--name", fmt.Sprintf("w%d", i+1), "-q")
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	t.Cleanup(func() {
		for _, p := range ps {
			p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range ps {
			p.Wait()
		}
	})
	return ps
}

// validDecisions counts the run's recorded decisions, and those recorded valid.
func validDecisions(t *testing.T, dir string) (all, valid int) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE valid = 1) FROM decisions`).Scan(&all, &valid); err != nil {
		t.Fatal(err)
	}
	return all, valid
}

func noStreamsLeft(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for n := range js.StreamNames(context.Background()).Name() {
		t.Errorf("stream %s left on the broker after the run", n)
	}
}

// A worker killed with SIGKILL mid-run: its tasks go to the other workers after the ack wait,
// and the run completes with every decision recorded once and valid.
func TestClusterWorkerKilledMidRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	ownCacheDir(t)
	const agents, concurrency = 40, 12
	const decisions = agents * 3
	s := newCountingServer(t, 20*time.Millisecond)
	exp := llmStudy(t, s.URL, agents, concurrency)
	b := testBroker(t)
	ws := startWorkerProcs(t, b.URL(), 3, 4)
	var once sync.Once
	s.mu.Lock()
	s.at = func(n int) {
		if n >= 30 {
			once.Do(func() { ws[0].Process.Signal(syscall.SIGKILL) })
		}
	}
	s.mu.Unlock()
	dir := filepath.Join(t.TempDir(), "run")
	out, err := cliCmd(t, "run", exp, "--nats", b.URL(), "--ack-wait", "1s", "--out", dir, "--no-cache", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if st := ws[0].ProcessState; st == nil {
		ws[0].Wait()
	}
	if st := ws[0].ProcessState.Sys().(syscall.WaitStatus); !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("worker 1 was not killed: %v", ws[0].ProcessState)
	}
	all, valid := validDecisions(t, dir)
	if all != decisions || valid != decisions {
		t.Fatalf("%d decisions recorded (%d valid), want %d once each, all valid", all, valid, decisions)
	}
	// The killed worker's tasks in flight (at most its concurrency) were asked again.
	t.Logf("%d calls for %d decisions with a worker killed at call 30", s.calls(), decisions)
	if extra := s.calls() - decisions; extra < 0 || extra > 4 {
		t.Fatalf("%d calls for %d decisions: want at most the killed worker's 4 in flight again", s.calls(), decisions)
	}
	noStreamsLeft(t, b.URL())
}

// The coordinator killed with SIGKILL and resumed on the same broker loses nothing and pays
// again at most the decisions that were in flight.
func TestClusterCoordinatorKilledAndResumed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	ownCacheDir(t)
	const agents, concurrency = 40, 8
	const decisions = agents * 3
	s := newCountingServer(t, 10*time.Millisecond)
	exp := llmStudy(t, s.URL, agents, concurrency)
	b := testBroker(t)
	startWorkerProcs(t, b.URL(), 2, 8)
	dir := filepath.Join(t.TempDir(), "run")
	killAt(t, s, cliCmd(t, "run", exp, "--nats", b.URL(), "--out", dir, "--no-cache", "-q"), 50)
	out, err := cliCmd(t, "resume", dir, "--nats", b.URL(), "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if all, valid := validDecisions(t, dir); all != decisions || valid != decisions {
		t.Fatalf("%d decisions recorded (%d valid), want %d", all, valid, decisions)
	}
	t.Logf("%d calls for %d decisions with the coordinator killed at call 50", s.calls(), decisions)
	if extra := s.calls() - decisions; extra > concurrency {
		t.Fatalf("%d calls paid twice, more than the %d in flight at the kill", extra, concurrency)
	}
	noStreamsLeft(t, b.URL())
}

// prosim run FILE --workers 3 (a broker and three worker processes of its own) gives the
// results of a single-process run.
func TestRunWithLocalWorkers(t *testing.T) {
	src := `name: local
study: vignettes
seed: 11
replicates: 2
concurrency: 16
population: {source: sample, n: 20}
scenarios: [volunteering, donating]
conditions: [{name: none, policy: none}, {name: moral, policy: moral}]
`
	f := filepath.Join(t.TempDir(), "local.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	one, three := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "three")
	if out, err := cliCmd(t, "run", f, "--out", one, "-q").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := cliCmd(t, "run", f, "--out", three, "--workers", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("3 local workers")) {
		t.Errorf("no word of the local workers:\n%s", out)
	}
	for _, name := range []string{"decisions.csv", "vignette_means.csv"} {
		a, _ := os.ReadFile(filepath.Join(one, "results", name))
		b, _ := os.ReadFile(filepath.Join(three, "results", name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("results/%s differs between one process and --workers 3", name)
		}
	}
}
