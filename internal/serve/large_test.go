package serve

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// largeRun is a small real run whose database then gets n synthetic decisions more (agents
// 1000.. of its first cell, every tenth invalid), inserted by SQLite itself in one statement.
func largeRun(t testing.TB, n int) (root, dir string, k store.Key) {
	t.Helper()
	root = t.TempDir()
	dir = builtinRun(t, root, "big")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "prosim.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var run string
	if err := db.QueryRow(`SELECT run_id FROM runs ORDER BY ord LIMIT 1`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM c WHERE x+1 < ?)
	  INSERT INTO decisions SELECT ?, 1000 + x, 0, 0, 'volunteering', '{}',
	    CASE WHEN x % 10 = 0 THEN NULL ELSE '{"willingness":' || (1 + x % 7) || '}' END,
	    CASE WHEN x % 10 = 0 THEN 'no idea' ELSE '{"willingness":' || (1 + x % 7) || '}' END,
	    x % 10 != 0, CASE WHEN x % 10 = 0 THEN 'synthetic: not JSON' ELSE '' END,
	    'builtin', 'behavioral', 0, 0, 0, 0, NULL, 0.5, '', 0, 0, 0 FROM c`, n, run)
	if err != nil {
		t.Fatal(err)
	}
	return root, dir, store.Key{RunID: run, AgentID: 1000 + n/2, Scenario: "volunteering"}
}

// A run of hundreds of thousands of decisions is browsed reading a bounded number of rows:
// the runs list and the live view read SQL tallies, the decision browser one page, a
// decision one row. Study 1 is streamed, so its live estimates are computed whatever the
// run's size (one pass over the store, nothing held but the study's sums); a decision's
// request is not rebuilt above Options.LiveLimit.
func TestLargeRunReadsBoundedRows(t *testing.T) {
	const n = 200_000
	root, _, k := largeRun(t, n)
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true, LiveLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	pages := []struct{ path, want string }{
		{"/", "big"},
		{"/runs/big/snapshot", `"Invalid":20000,`},
		{"/runs/big/decisions", fmt.Sprintf("%d decisions match", n+24)},
		{"/runs/big/decisions?page=2001", "page 2001 of"},
		{"/runs/big/decisions?valid=no&scenario=volunteering&page=101", "synthetic: not JSON"},
		{"/runs/big/decisions?agent=" + fmt.Sprint(k.AgentID), "1 decision matches"},
		{"/runs/big/decisions?condition=moral", "12 decisions match"},
		{decisionLink("big", k), "rebuilding a request replays them all"},
	}
	for _, p := range pages {
		before := s.RowsRead()
		w := get(t, s, p.path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), p.want) {
			t.Fatalf("%s: %d, want %q in\n%.3000s", p.path, w.Code, p.want, w.Body.String())
		}
		// A page reads at most a page of decisions plus one row per design cell, scenario
		// and reason: well under a thousand, whatever the run's size.
		if read := s.RowsRead() - before; read > 200 {
			t.Errorf("%s read %d rows", p.path, read)
		}
	}
	snap := s.snapshot("big", filepath.Join(root, "big"), true)
	// The synthetic agents' ratings (1 + x mod 7 for x not a multiple of 10) are in the first
	// cell's volunteering mean, over 180,006 agents.
	if snap.Done != n+24 || len(snap.Estimates) == 0 || snap.Estimates[0][1] != "volunteering" || snap.Estimates[0][3] != "180006" {
		t.Fatalf("snapshot: %d decisions, estimates %v, note %q", snap.Done, snap.Estimates, snap.EstimateNote)
	}
}

// BenchmarkLargeRunPages: the runs list's tally (uncached), a deep page of the decision
// browser and a filtered one, on a run of 200,000 decisions.
func BenchmarkLargeRunPages(b *testing.B) {
	root, dir, _ := largeRun(b, 200_000)
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true, LiveLimit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/runs/big/decisions?page=2001", "/runs/big/decisions?valid=no&page=101"} {
		b.Run(strings.TrimPrefix(p, "/runs/big/decisions?"), func(b *testing.B) {
			for b.Loop() {
				if w := getB(s, p); w != http.StatusOK {
					b.Fatal(w)
				}
			}
		})
	}
	b.Run("tally", func(b *testing.B) {
		for b.Loop() {
			s.mu.Lock()
			delete(s.tallies, dir)
			s.mu.Unlock()
			if _, err := s.tally(dir); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func getB(h http.Handler, target string) int {
	req := httptest.NewRequest("GET", target, nil)
	req.Host = "127.0.0.1:8787"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// BenchmarkResultsPageFirstLoad is the first load of a large run's results page (what the
// server keeps of the run cleared each time): Study 3, 100,000 agents, 2 rounds, store full (200,000 decisions), the
// run of QA14 F8 (17.8 s a first load). PROSIM_BENCH_RUN names a finished run folder to load
// instead (its id is its folder's name). replay renders the page by replaying the run;
// report serves the run's report.html, checked current (engine.CurrentReport), which needs a
// run made by this program: the benchmark's own, not one PROSIM_BENCH_RUN names.
func BenchmarkResultsPageFirstLoad(b *testing.B) {
	dir := os.Getenv("PROSIM_BENCH_RUN")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "big")
		src := "name: big\nstudy: network\nseed: 5\nreplicates: 1\npopulation: {source: sample, n: 100000}\n" +
			"network: {graph: {type: watts_strogatz, k: 6, p: 0.2}, rounds: 2, scenario: volunteering, store: full}\n" +
			"conditions:\n  - {name: control, policy: economic}\nbackends:\n  - {provider: builtin}\n"
		path := filepath.Join(b.TempDir(), "big.yaml")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
		e, err := experiment.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := engine.Run(context.Background(), e, engine.Options{Out: dir, NoCache: true}); err != nil {
			b.Fatal(err)
		}
	}
	s, err := New(context.Background(), Options{Roots: []string{filepath.Dir(dir)}, Loopback: true, LiveLimit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	page := "/runs/" + filepath.Base(dir) + "/results"
	for _, own := range []bool{false, true} {
		b.Run(map[bool]string{false: "replay", true: "report"}[own], func(b *testing.B) {
			if !own {
				defer func(f func(string) ([]byte, bool)) { currentReport = f }(currentReport)
				currentReport = func(string) ([]byte, bool) { return nil, false }
			} else if _, ok := engine.CurrentReport(dir); !ok {
				b.Skip("the run's report.html is not provably current (a run made by another program, or changed since)")
			}
			cpu0 := cpuTime()
			for b.Loop() {
				s.mu.Lock() // as a server just started: nothing of the run known
				clear(s.resultsCache)
				clear(s.inspect)
				clear(s.tallies)
				s.mu.Unlock()
				if w := getB(s, page); w != http.StatusOK {
					b.Fatal(w)
				}
			}
			// CPU (user + system) a load: on a shared machine, wall time stretches with the load.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the process's CPU time (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
