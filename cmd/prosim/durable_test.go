package main

// Runs that survive kill -9: the command line runs as a subprocess (this test binary, re-executed
// as prosim by TestMain) against a loopback OpenAI-compatible server that counts every call, and
// is killed with SIGKILL mid-run.

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/runlock"
	"github.com/prosim/prosim/internal/store"
)

const asCLIEnv = "PROSIM_TEST_AS_CLI"

// TestMain lets a test run this binary as the prosim command (for kill -9 and two-process tests).
func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		if os.Getenv(signalReadyEnv) == "1" {
			signalReady = func() { fmt.Fprintln(os.Stderr, readyLine) }
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// signalReadyEnv makes a child started as the prosim command say readyLine on stderr once it
// handles Ctrl-C and SIGTERM (signalReady): a test signals a child only then, never after a
// guessed sleep (250 ms after its start, a child on a loaded machine did not handle signals
// yet and died of the SIGINT, exit -1).
const (
	signalReadyEnv = "PROSIM_TEST_SIGNAL_READY"
	readyLine      = "prosim-test: handling signals"
)

// childStderr is the stderr of a child started by startReady, but readyLine.
type childStderr struct {
	ready chan struct{} // closed when the child said readyLine
	ended chan struct{} // closed when its stderr ended (it exited)
	mu    sync.Mutex
	more  *sync.Cond // a line came, or the end
	text  strings.Builder
	done  bool
}

// String is the child's whole stderr: it waits for the child to close it.
func (c *childStderr) String() string {
	<-c.ended
	return c.text.String()
}

// waitFor waits until the child said s, or its stderr ended.
func (c *childStderr) waitFor(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.done && !strings.Contains(c.text.String(), s) {
		c.more.Wait()
	}
}

// startReady starts cmd (from cliCmd) and returns once the child handles Ctrl-C and SIGTERM,
// with its stderr; the caller waits for it (cmd.Wait).
func startReady(t *testing.T, cmd *exec.Cmd) *childStderr {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, signalReadyEnv+"=1")
	cmd.Stderr = w
	err = cmd.Start()
	w.Close() // the child's copy stays open until it exits
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	c := &childStderr{ready: make(chan struct{}), ended: make(chan struct{})}
	c.more = sync.NewCond(&c.mu)
	go func() {
		defer close(c.ended)
		defer r.Close()
		br, said := bufio.NewReader(r), false
		for {
			line, err := br.ReadString('\n')
			c.mu.Lock()
			if !said && line == readyLine+"\n" {
				said = true
				close(c.ready)
			} else {
				c.text.WriteString(line)
			}
			c.done = err != nil
			c.more.Broadcast()
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-c.ready:
	case <-c.ended:
		select {
		case <-c.ready: // said it, and exited already
		default:
			cmd.Wait()
			t.Fatalf("%s exited before handling signals: %v\n%s", strings.Join(cmd.Args[1:], " "), cmd.ProcessState, c.text.String())
		}
	}
	return c
}

const durableKeyEnv = "PROSIM_DURABLE_TEST_KEY"

// cliCmd is prosim args as a subprocess, with its own cache directory and the test key.
func cliCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), asCLIEnv+"=1", durableKeyEnv+"=sk-durable-test")
	return cmd
}

// ownCacheDir gives the test a user cache directory of its own (the default reply cache is
// XDG_CACHE_HOME/prosim/cache.db) and returns the default cache's path.
func ownCacheDir(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	t.Setenv("HOME", home)
	return filepath.Join(home, "prosim", "cache.db")
}

// countingServer is a chat completions endpoint that answers every request after delay,
// counting requests as they arrive (a provider bills a request it has started on, even when
// the client dies before the answer).
type countingServer struct {
	*httptest.Server
	delay time.Duration
	mu    sync.Mutex
	n     int
	// at, if set, is called with the count of each request as it arrives.
	at func(n int)
}

func newCountingServer(t *testing.T, delay time.Duration) *countingServer {
	s := &countingServer{delay: delay}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		s.mu.Lock()
		s.n++
		n, at := s.n, s.at
		s.mu.Unlock()
		if at != nil {
			at(n)
		}
		time.Sleep(s.delay)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": %d}"}}],"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55}}`, n, 1+n%7)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// llmStudy writes a Study 1 of agents x 3 scenarios on an openai backend at url.
func llmStudy(t *testing.T, url string, agents, concurrency int) string {
	t.Helper()
	src := fmt.Sprintf(`name: durable
study: vignettes
seed: 3
concurrency: %d
population: {source: sample, n: %d}
scenarios: [volunteering, donating, recycling]
conditions: [{name: none, policy: none}]
backends:
  - {provider: openai, model: m, base_url: %s/v1, api_key_env: %s, max_concurrency: %d, max_attempts: 1}
`, concurrency, agents, url, durableKeyEnv, concurrency)
	f := filepath.Join(t.TempDir(), "durable.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func countDecisions(t *testing.T, dir string) int {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountDecisions()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// killAt starts cmd and kills it with SIGKILL when the server has received call number at.
func killAt(t *testing.T, s *countingServer, cmd *exec.Cmd, at int) {
	t.Helper()
	var once sync.Once
	s.mu.Lock()
	s.at = func(n int) {
		if n >= at {
			once.Do(func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
	}
	s.mu.Unlock()
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	s.mu.Lock()
	s.at = nil
	s.mu.Unlock()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("want the run killed at call %d, got %v\n%s", at, err, errb.String())
	}
}

// No paid reply is lost: a run killed with SIGKILL three times, then resumed to the end, pays
// again at most the calls that were in flight at each kill and the replies whose commit had
// not ended (a worker sends its next call while its last reply commits, one commit
// outstanding per worker: 2 x concurrency per kill). Before decisions were committed one by
// one, every kill lost up to 500 paid replies.
func TestKill9PaysAgainOnlyTheCallsInFlightOrCommitting(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	ownCacheDir(t)
	const agents, concurrency = 40, 4
	const decisions = agents * 3
	const perKill = 2 * concurrency
	s := newCountingServer(t, 5*time.Millisecond)
	exp := llmStudy(t, s.URL, agents, concurrency)
	dir := filepath.Join(t.TempDir(), "run")
	killAt(t, s, cliCmd(t, "run", exp, "--out", dir, "--no-cache", "-q"), 25)
	kills := 1
	for _, at := range []int{55, 90} {
		killAt(t, s, cliCmd(t, "resume", dir, "-q"), at)
		kills++
		if n := countDecisions(t, dir); n < at-kills*perKill {
			t.Fatalf("after kill %d at call %d only %d decisions are recorded", kills, at, n)
		}
	}
	out, err := cliCmd(t, "resume", dir, "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if n := countDecisions(t, dir); n != decisions {
		t.Fatalf("%d decisions recorded, want %d", n, decisions)
	}
	twice := s.calls() - decisions
	t.Logf("%d kills at concurrency %d: %d calls for %d decisions, %d paid twice (at most %d allowed)", kills, concurrency, s.calls(), decisions, twice, kills*perKill)
	if twice > kills*perKill {
		t.Fatalf("%d calls paid twice after %d kills, more than the %d in flight or committing", twice, kills, kills*perKill)
	}
}

// resume reuses the cache choice of the run (--cache PATH, --no-cache); a flag given to resume
// overrides it and says so on stderr.
func TestResumeReusesTheRunsCacheChoice(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	s := newCountingServer(t, 2*time.Millisecond)
	exp := llmStudy(t, s.URL, 20, 2)
	for _, c := range []struct {
		name       string
		run        []string
		resume     []string
		wantNotice string
	}{
		{"no-cache", []string{"--no-cache"}, nil, ""},
		{"cache", []string{"--cache", "CACHE"}, nil, ""},
		{"override", []string{"--cache", "CACHE"}, []string{"--no-cache"}, "resume uses --no-cache instead of the run's --cache "},
	} {
		t.Run(c.name, func(t *testing.T) {
			def := ownCacheDir(t)
			tmp := t.TempDir()
			cache := filepath.Join(tmp, "own-cache.db")
			dir := filepath.Join(tmp, "run")
			subst := func(args []string) []string {
				out := slices.Clone(args)
				for i, a := range out {
					if a == "CACHE" {
						out[i] = cache
					}
				}
				return out
			}
			killAt(t, s, cliCmd(t, append([]string{"run", exp, "--out", dir, "-q"}, subst(c.run)...)...), 15)
			// Emptied (an empty file is an empty SQLite database), so that only the resume's use
			// of it is seen; not removed: a resume refuses a recorded cache that is gone.
			if _, err := os.Stat(cache); err == nil {
				if err := os.WriteFile(cache, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			os.Remove(cache + "-wal")
			os.Remove(cache + "-shm")
			cmd := cliCmd(t, append([]string{"resume", dir, "-q"}, subst(c.resume)...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("resume: %v\n%s", err, stderr.String())
			}
			if _, err := os.Stat(def); err == nil {
				t.Errorf("the resume wrote to the user's default cache %s", def)
			}
			fi, err := os.Stat(cache)
			if usedOwn := err == nil && fi.Size() > 0; usedOwn != (c.name == "cache") {
				t.Errorf("resume used the run's --cache file: %v, want %v", usedOwn, c.name == "cache")
			}
			if c.wantNotice == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), c.wantNotice) {
				t.Errorf("stderr %q, want %q", stderr.String(), c.wantNotice)
			}
			if strings.Contains(stderr.String(), "sk-durable-test") {
				t.Error("the key is on stderr")
			}
		})
	}
}

// A run directory is used by one prosim at a time: while a run is in progress, a resume (another
// process) and a run --out of the same folder (in this process) are refused, naming the folder
// and the lock; the run then finishes with every decision asked once. (A lock left by a killed
// process does not block: TestKill9PaysAgainOnlyTheCallsInFlightOrCommitting resumes after each kill.)
func TestRunDirectoryLock(t *testing.T) {
	ownCacheDir(t)
	t.Setenv(durableKeyEnv, "sk-durable-test")
	s := newCountingServer(t, time.Millisecond)
	const agents = 10
	exp := llmStudy(t, s.URL, agents, 2)
	dir := filepath.Join(t.TempDir(), "run")
	inRun, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.at = func(n int) {
		once.Do(func() {
			close(inRun)
			<-release
		})
	}
	run := cliCmd(t, "run", exp, "--out", dir, "--no-cache", "-q")
	var runErr strings.Builder
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inRun:
	case <-time.After(10 * time.Second):
		t.Fatal("the run made no call")
	}
	out, err := cliCmd(t, "resume", dir, "-q").CombinedOutput()
	if err == nil || !strings.Contains(string(out), dir) || !strings.Contains(string(out), "another prosim process") {
		t.Errorf("a resume during the run: %v\n%s", err, out)
	}
	if _, err = prosim(t, "run", exp, "--out", dir, "--no-cache", "-q"); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("a second run --out of the folder during the run: %v", err)
	}
	// Two runs starting on one empty folder: the one that does not hold the lock is refused.
	empty := filepath.Join(t.TempDir(), "empty")
	os.Mkdir(empty, 0o755)
	held, err := runlock.Acquire(empty)
	if err != nil {
		t.Fatal(err)
	}
	_, err = prosim(t, "run", exp, "--out", empty, "--no-cache", "-q")
	if err == nil || !strings.Contains(err.Error(), "another prosim process") || !strings.Contains(err.Error(), filepath.Join(empty, ".lock")) {
		t.Errorf("a run --out of a locked empty folder: %v", err)
	}
	held.Release()
	close(release)
	if err := run.Wait(); err != nil {
		t.Fatalf("the run: %v\n%s", err, runErr.String())
	}
	if n := countDecisions(t, dir); n != agents*3 || s.calls() != agents*3 {
		t.Fatalf("%d decisions, %d calls, want %d of each", n, s.calls(), agents*3)
	}
	// Once it is over, the folder can be resumed (nothing left to ask).
	if out, err := prosim(t, "resume", dir, "-q"); err != nil {
		t.Fatalf("resume after the run: %v\n%s", err, out)
	}
}

// resume, report and export refuse a folder whose prosim.db is missing, empty (0 bytes) or from
// an interrupted creation (no runs recorded), naming the file; none of them writes results (the
// folder's decisions.csv stays as it was) or creates a database.
func TestBadStoresAreRefused(t *testing.T) {
	src := "name: small\nstudy: vignettes\nseed: 2\npopulation: {source: sample, n: 6}\nscenarios: [volunteering, donating]\nconditions: [{name: none, policy: none}]\n"
	exp := filepath.Join(t.TempDir(), "small.yaml")
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		spoil func(t *testing.T, db string)
		want  string
	}{
		{"missing", func(t *testing.T, db string) { os.Remove(db) }, "does not exist"},
		{"empty", func(t *testing.T, db string) {
			if err := os.WriteFile(db, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is empty (0 bytes)"},
		{"interrupted creation", func(t *testing.T, db string) {
			sdb, err := sql.Open("sqlite", db)
			if err != nil {
				t.Fatal(err)
			}
			// what a kill between the store's creation and its design leaves: no runs, no decisions
			for _, q := range []string{`DELETE FROM decisions`, `DELETE FROM runs`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
				if _, err := sdb.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			sdb.Close()
		}, "records no runs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if out, err := prosim(t, "run", exp, "--out", dir, "-q"); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			db := filepath.Join(dir, "prosim.db")
			os.Remove(db + "-wal")
			os.Remove(db + "-shm")
			c.spoil(t, db)
			csvPath := filepath.Join(dir, "results", "decisions.csv")
			before, err := os.ReadFile(csvPath)
			if err != nil {
				t.Fatal(err)
			}
			dbBefore, dbErr := os.ReadFile(db)
			for _, args := range [][]string{{"resume", dir, "-q"}, {"report", dir}, {"export", dir}, {"export", dir, "--format", "parquet", "--out", t.TempDir()}} {
				_, err := prosim(t, args...)
				if err == nil || !strings.Contains(err.Error(), db) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("prosim %s: %v, want an error naming %s: %s", strings.Join(args, " "), err, db, c.want)
				}
			}
			if after, _ := os.ReadFile(csvPath); !slices.Equal(after, before) {
				t.Error("decisions.csv was rewritten")
			}
			if dbAfter, err := os.ReadFile(db); (err == nil) != (dbErr == nil) || !slices.Equal(dbAfter, dbBefore) {
				t.Errorf("prosim.db was created or changed (before: %v, after: %v)", dbErr, err)
			}
		})
	}
}
