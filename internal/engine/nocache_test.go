package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/runlock"
	"github.com/prosim/prosim/internal/store"
)

// drawServer is an llmServer that draws a fresh answer per call, as a model at temperature > 0
// does: the n-th call of one exact request gets the n-th draw. The draws are a function of the
// request and that count, so two runs that ask the same requests equally often get the same
// answers, whatever order their calls come in.
func drawServer(t *testing.T) (*llmServer, *draws) {
	s := newLLMServer(t)
	s.open = true
	d := &draws{count: map[string]int{}}
	hashRE := regexp.MustCompile(`"req": "([0-9a-f]+)"`)
	s.answer = func(_ llmDecision, _ bool, _ int, normal string) (int, map[string]string, string) {
		h := hashRE.FindStringSubmatch(normal)[1]
		d.mu.Lock()
		d.count[h]++
		n := d.count[h]
		d.total++
		if d.total == d.stopAt {
			// The run is stopped while this call is in flight: its reply is lost, so the draw
			// is not spent (the resumed run's ask of it is the same call again).
			d.stop()
			d.count[h]--
		}
		d.mu.Unlock()
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", h, n))
		return 200, nil, fmt.Sprintf(`{"willingness": %d, "unfairness": %d}`, 1+int(sum[0])%7, 1+int(sum[1])%7)
	}
	return s, d
}

// draws counts a drawServer's calls by request.
type draws struct {
	mu     sync.Mutex
	count  map[string]int
	total  int
	stopAt int    // the call during which stop is called (0: none)
	stop   func() // cancels the run
}

// reset returns the calls and distinct requests since the last reset and forgets them.
func (d *draws) reset() (calls, distinct int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range d.count {
		calls += n
	}
	distinct = len(d.count)
	clear(d.count)
	d.total, d.stopAt, d.stop = 0, 0, nil
	return calls, distinct
}

// nocacheStudy3 is a small Study 3 (a control and an inequity world per replicate, the same
// agents) on an openai backend at url; extra is appended to the file.
func nocacheStudy3(t *testing.T, url string, concurrency int, extra string) *experiment.Experiment {
	t.Helper()
	src := fmt.Sprintf(`name: nocache
study: network
seed: 7
replicates: 2
concurrency: %d
population: {source: sample, n: 12}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 4
  scenario: volunteering
  history: 1
conditions:
  - name: reward
    policy: economic
    inequity: {preset: reward, k: 2, from: 3}
backends:
  - provider: openai
    model: loopback-llm
    base_url: %s/v1
    api_key_env: %s
    temperature: 1.0
    max_concurrency: %d
`, concurrency, url, llmKeyEnv, concurrency) + extra
	return loadYAML(t, src)
}

// An agent's identical requests within a run are one draw, whatever the cache, concurrency,
// batch mode and timing (QA12 #4): in Study 3 an inequity agent whose prompt equals its
// control twin's (before the treatment reaches it) gets the twin's reply. Against a server
// that draws afresh per call, the decisions are the same with a reply cache at concurrency 1,
// with --no-cache at concurrency 1 and 16, and in batch mode with --no-cache, and each run
// asks every distinct request exactly once. Before the run kept its own cache under
// --no-cache, such a run asked the twins' requests twice at concurrency 1 (two draws), and at
// 16 as often as timing had them miss each other in flight.
func TestIdenticalRequestsOneDrawWithoutCache(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s, d := drawServer(t)
	bs := newOpenAIBatchServer(t, s)
	type way struct {
		name   string
		conc   int
		opt    Options
		extra  string
		stopAt int  // stop the run during this call, then resume it
		move   bool // and move its folder before the resume
	}
	ways := []way{
		{"cache, concurrency 1", 1, Options{CachePath: filepath.Join(t.TempDir(), "cache.db")}, "", 0, false},
		{"--no-cache, concurrency 1", 1, Options{NoCache: true}, "", 0, false},
		{"--no-cache, concurrency 16", 16, Options{NoCache: true}, "", 0, false},
		{"cache: off, concurrency 16", 16, Options{}, "cache: off\n", 0, false},
		{"--no-cache, batch mode", 16, Options{NoCache: true, Batch: true}, "execution: {poll: 1ms}\n", 0, false},
		{"cache, batch mode", 16, Options{CachePath: filepath.Join(t.TempDir(), "cache.db"), Batch: true}, "execution: {poll: 1ms}\n", 0, false},
		// Stopped in the second replicate's first round: its control decisions recorded
		// before the stop have twins asked by the resume, which shares them from the run's file.
		{"--no-cache, stopped and resumed", 1, Options{NoCache: true}, "", 18, false},
		{"--no-cache, stopped, moved and resumed", 1, Options{NoCache: true}, "", 18, true},
	}
	var want [][]string
	for i, w := range ways {
		d.reset()
		url := s.URL
		if w.opt.Batch {
			url = bs.URL
		}
		exp := nocacheStudy3(t, url, w.conc, w.extra)
		w.opt.Out = filepath.Join(t.TempDir(), "run")
		ctx, cancel := context.WithCancel(context.Background())
		d.mu.Lock()
		d.stopAt, d.stop = w.stopAt, cancel
		d.mu.Unlock()
		res, err := Run(ctx, exp, w.opt)
		cancel()
		if w.stopAt > 0 {
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("%s: a run stopped returned %v", w.name, err)
			}
			if w.move {
				moved := filepath.Join(t.TempDir(), "moved")
				if err := os.Rename(w.opt.Out, moved); err != nil {
					t.Fatal(err)
				}
				w.opt.Out = moved
			}
			res, err = Resume(context.Background(), w.opt.Out, Options{})
		}
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		calls, distinct := d.reset()
		if calls != distinct {
			t.Errorf("%s: %d calls for %d distinct requests", w.name, calls, distinct)
		}
		if res.Decisions != 2*2*12*4 {
			t.Errorf("%s: %d decisions", w.name, res.Decisions)
		}
		recs, _ := llmReadCSV(t, w.opt.Out)
		got := llmWithout(recs, "cached")
		if i == 0 {
			want = got
			if calls >= res.Decisions {
				t.Fatalf("%s: %d calls for %d decisions: no twin shared its request, the test tests nothing", w.name, calls, res.Decisions)
			}
			continue
		}
		if !llmEqual(got, want) {
			t.Errorf("%s: decisions differ from the cached run's", w.name)
		}
	}
}

// The estimate counts an agent's identical requests as no call (they are one draw): against a
// server that draws afresh, the run's calls lie between the estimate's calls and its upper
// bound, and far below one call per decision (estimate said 2,400 calls for a Study 3 that
// made about 1,350).
func TestEstimateCountsIdenticalRequestsOnce(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s, d := drawServer(t)
	r, err := Prepare(nocacheStudy3(t, s.URL, 4, ""), Options{NoCache: true, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	est, err := r.Estimate()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	e := est[0]
	d.reset()
	res, err := Run(context.Background(), nocacheStudy3(t, s.URL, 4, ""), Options{Out: filepath.Join(t.TempDir(), "run"), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	calls, _ := d.reset()
	t.Logf("%d decisions: the run made %d calls; estimate %d calls (%d copies), at most %d", res.Decisions, calls, e.Calls, e.Copies, e.MaxCalls)
	if e.Decisions != res.Decisions || e.Copies == 0 || calls < e.Calls || calls > e.MaxCalls || e.MaxCalls != e.Decisions {
		t.Fatalf("estimate %+v; the run made %d calls for %d decisions", e, calls, res.Decisions)
	}
}

// A run started before the run's cache was a log (its folder holds the SQLite cache.db) goes
// on with that file: a resume shares what it holds and writes no log beside it. A new run
// writes the log.
func TestRunCacheKeepsAnOlderRunsSQLiteFile(t *testing.T) {
	ctx := context.Background()
	k := backend.Key(sha256.Sum256([]byte("twin")))
	rep := backend.Reply{Provider: "openai", Model: "m", Raw: `{"willingness": 3}`, Values: map[string]float64{"willingness": 3}}

	old := t.TempDir()
	s, err := backend.OpenSQLiteStore(filepath.Join(old, runCacheSQLite))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, []backend.CacheEntry{{Key: k, Reply: rep}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	c := (&Runner{dir: old}).runCache()
	r, ok, err := c.Get(ctx, k)
	if err != nil || !ok || r.Raw != rep.Raw {
		t.Errorf("an older run's cache.db: %+v %v %v", r, ok, err)
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(old, runCacheFile)); !os.IsNotExist(err) {
		t.Errorf("a log beside an older run's cache.db: %v", err)
	}

	dir := t.TempDir()
	c = (&Runner{dir: dir}).runCache()
	if err := c.Put(ctx, k, rep); err != nil {
		t.Fatal(err)
	}
	c.Close()
	for f, want := range map[string]bool{runCacheFile: true, runCacheIndex: false, runCacheSQLite: false} {
		if _, err := os.Stat(filepath.Join(dir, f)); (err == nil) != want {
			t.Errorf("a new run's folder: %s there %v, want %v", f, err == nil, want)
		}
	}
}

// A resume that asks nothing removes the run cache's index a killed run left behind; a store
// that does not hold the folder (a replay by prosim serve, estimate) leaves it alone.
func TestRunCacheIndexOfAKilledRunRemoved(t *testing.T) {
	for _, held := range []bool{true, false} {
		dir := t.TempDir()
		idx := filepath.Join(dir, runCacheIndex)
		if err := os.WriteFile(idx, []byte("left by kill -9"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := &Runner{dir: dir}
		if held {
			l, err := runlock.Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			r.lock = l
		}
		if err := r.runCache().Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(idx); os.IsNotExist(err) != held {
			t.Errorf("folder held %v: %s removed %v, want %v", held, runCacheIndex, os.IsNotExist(err), held)
		}
	}
}

// heldCacheStore holds every Put until release is closed.
type heldCacheStore struct {
	backend.CacheStore
	release chan struct{}
}

func (h heldCacheStore) Put(ctx context.Context, batch []backend.CacheEntry) error {
	<-h.release
	return h.CacheStore.Put(ctx, batch)
}

// A paid reply is in the run's own cache file before its decision is in the store, so that a
// run killed between the two (kill -9) and resumed shares it with its twins rather than
// asking them again. With the cache's writes held, no decision is committed; before, the
// decisions were committed while their replies still waited in the cache's queue (a kill
// then lost them from the cache: its twins were asked again after the resume).
func TestRunCacheWrittenBeforeItsDecisions(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s, _ := drawServer(t)
	release := make(chan struct{})
	wrapRunCache = func(c backend.CacheStore) backend.CacheStore { return heldCacheStore{c, release} }
	defer func() { wrapRunCache = nil }()
	dir := filepath.Join(t.TempDir(), "run")
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), nocacheStudy3(t, s.URL, 1, ""), Options{Out: dir, NoCache: true})
		done <- err
	}()
	count := func() int {
		st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
		if err != nil {
			return -1
		}
		defer st.Close()
		var n int
		if err := st.Decisions(func(store.Decision) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.calls() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // time for a commit that did not wait to end
	held, calls := count(), s.calls()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls made while the cache's writes were held; %d decisions committed meanwhile, %d in all", calls, held, count())
	if held > 0 {
		t.Fatalf("%d decisions committed while their replies were not yet in the run's cache file", held)
	}
}
