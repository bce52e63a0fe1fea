package store

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDecisionsSurviveReopenInDesignOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prosim.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRuns([]Run{{ID: "b", Ord: 1, Backend: "builtin", Condition: "moral", Policy: "moral", Replicate: 1, Seed: 18446744073709551615}, {ID: "a", Ord: 0, Backend: "builtin", Condition: "none", Policy: "none", Replicate: 1, Seed: 7}}); err != nil {
		t.Fatal(err)
	}
	add := func(run string, agent int, scen string, vals map[string]float64, invalid string) {
		t.Helper()
		r := Reply{Raw: "x", Values: vals, Invalid: invalid, Provider: "builtin", Model: "m", CostUSD: math.NaN()}
		if err := s.Add(Decision{Key: Key{RunID: run, AgentID: agent, Scenario: scen}, Params: map[string]float64{"x": 1}, Reply: r}); err != nil {
			t.Fatal(err)
		}
	}
	add("b", 1, "helping", map[string]float64{"willingness": 5}, "")
	add("a", 2, "helping", map[string]float64{"willingness": 3}, "")
	add("a", 1, "volunteering", nil, "field willingness: 9 is outside 1..7")
	add("a", 1, "helping", map[string]float64{"willingness": 7}, "")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs()
	if err != nil || len(runs) != 2 || runs[0].ID != "a" || runs[1].Seed != 18446744073709551615 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	var got []Decision
	if err := s.Decisions(func(d Decision) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []Key{{"a", 1, 0, 0, "helping"}, {"a", 1, 0, 0, "volunteering"}, {"a", 2, 0, 0, "helping"}, {"b", 1, 0, 0, "helping"}}
	if len(got) != len(want) {
		t.Fatalf("got %d decisions, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Key != want[i] {
			t.Errorf("decision %d: key %v, want %v", i, got[i].Key, want[i])
		}
	}
	if got[1].Reply.Valid() || got[1].Reply.Invalid == "" {
		t.Errorf("invalid decision came back valid: %+v", got[1].Reply)
	}
	if got[0].Reply.Values["willingness"] != 7 || !math.IsNaN(got[0].Reply.CostUSD) || got[0].Params["x"] != 1 {
		t.Errorf("decision round trip: %+v", got[0])
	}
}

func TestUnflushedDecisionsAreNotVisibleButFlushedOnesAre(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prosim.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Add(Decision{Key: Key{RunID: "a", AgentID: 1, Scenario: "s"}, Reply: Reply{Values: map[string]float64{"v": 1}}})
	if n, _ := s.CountDecisions(); n != 0 {
		t.Fatalf("a queued decision is already committed (%d)", n)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountDecisions(); n != 1 {
		t.Fatalf("after Flush %d decisions committed, want 1", n)
	}
}

func TestBatchesAreJournaledInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Batch{{Backend: "openai:m", ID: "batch_1", CustomIDs: []string{"p-1", "p-2"}}, {Backend: "openai:m", ID: "batch_2", CustomIDs: []string{"p-2"}}} {
		if err := s.PutBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bs, err := s.Batches()
	if err != nil || len(bs) != 2 || bs[0].ID != "batch_1" || bs[1].ID != "batch_2" || len(bs[0].CustomIDs) != 2 || bs[1].CustomIDs[0] != "p-2" {
		t.Fatalf("batches after reopening: %+v, %v", bs, err)
	}
}

// schemaV1 is the run database as prosim wrote it before model versions were recorded.
const schemaV1 = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs(
  run_id TEXT PRIMARY KEY, ord INTEGER NOT NULL, backend TEXT NOT NULL, condition TEXT NOT NULL,
  policy TEXT NOT NULL, replicate INTEGER NOT NULL, seed TEXT NOT NULL);
CREATE TABLE agents(agent_id INTEGER PRIMARY KEY, persona TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE decisions(
  run_id TEXT NOT NULL, agent_id INTEGER NOT NULL, round INTEGER NOT NULL, trial INTEGER NOT NULL,
  scenario TEXT NOT NULL, params TEXT NOT NULL, vals TEXT, raw TEXT NOT NULL, valid INTEGER NOT NULL,
  invalid_reason TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, cached INTEGER NOT NULL,
  calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  cost_usd REAL, latency_ms REAL NOT NULL,
  PRIMARY KEY(run_id, agent_id, round, trial, scenario));
INSERT INTO meta VALUES('schema_version', '1');
INSERT INTO runs VALUES('none.r1', 0, 'openai:m', 'none', 'none', 1, '7');
INSERT INTO decisions VALUES('none.r1', 1, 0, 0, 'helping', '{}', '{"willingness":5}', '5', 1, '', 'openai', 'm', 0, 1, 10, 2, NULL, 3.5);
`

// A run database of the previous schema opens (as report and resume open it): its decisions
// read with an unknown version, it is upgraded in place, and new decisions keep theirs.
func TestOpenUpgradesSchema1(t *testing.T) {
	path := oldStore(t, "1", "", "")
	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Meta("schema_version"); err != nil || v != schemaVersion {
		t.Fatalf("schema_version %q, %v; want %s", v, err, schemaVersion)
	}
	if err := s.Commit(Decision{Key: Key{RunID: "none.r1", AgentID: 2, Scenario: "helping"},
		Reply: Reply{Raw: "6", Values: map[string]float64{"willingness": 6}, Provider: "openai", Model: "m", ModelVersion: "m-2025", CostUSD: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = OpenExisting(path); err != nil { // a second open finds version 2
		t.Fatal(err)
	}
	defer s.Close()
	var got []Decision
	if err := s.Decisions(func(d Decision) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Reply.ModelVersion != "" || got[0].Reply.Values["willingness"] != 5 || got[0].Reply.InputTokens != 10 ||
		got[1].Reply.ModelVersion != "m-2025" {
		t.Fatalf("decisions %+v", got)
	}
}

// A schema 2 database (before repair turns were kept) is upgraded to 3 on open; repair turns
// are written with their decision, read back in order, and replaced with it.
func TestRepairsTableAndUpgradeFrom2(t *testing.T) {
	path := oldStore(t, "2", "model_version TEXT NOT NULL DEFAULT '',", ", ''")
	ro, err := OpenReadOnly(path) // serve reads an old run without upgrading it
	if err != nil {
		t.Fatal(err)
	}
	k := Key{RunID: "none.r1", AgentID: 3, Scenario: "helping"}
	if rs, err := ro.Repairs(k); err != nil || rs != nil {
		t.Fatalf("repairs of a schema 2 run: %v, %v", rs, err)
	}
	ro.Close()
	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Meta("schema_version"); v != schemaVersion {
		t.Fatalf("schema_version %q", v)
	}
	turns := []Attempt{{Raw: "maybe", Invalid: "no number", Repair: "Answer with JSON"}, {Invalid: "empty reply"}}
	if err := s.Commit(Decision{Key: k, Reply: Reply{Raw: "oops", Invalid: "no number", Provider: "openai", CostUSD: math.NaN(), Repairs: turns}}); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.Repairs(k); err != nil || !slices.Equal(rs, turns) {
		t.Fatalf("repairs %+v, %v", rs, err)
	}
	// Asked again (resume --retry-invalid): the new reply's turns replace the old ones.
	if err := s.Commit(Decision{Key: k, Reply: Reply{Raw: "5", Values: map[string]float64{"willingness": 5}, CostUSD: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.Repairs(k); err != nil || len(rs) != 0 {
		t.Fatalf("repairs after the decision was replaced: %+v, %v", rs, err)
	}
}

// commitAll starts n concurrent Commits of one decision each (scenario "s<i>", or "boom" for
// i in boom) while the store's write lock is held, so that they all join one group, then
// releases the lock and returns each Commit's error and whether its row was readable from
// another connection the moment Commit returned.
func commitAll(t *testing.T, s *Store, other *sql.DB, n int, boom map[int]bool) (errs []error, seen []bool) {
	t.Helper()
	errs, seen = make([]error, n), make([]bool, n)
	s.cmu.Lock()
	var wg sync.WaitGroup
	for i := range n {
		scen := fmt.Sprintf("s%d", i)
		if boom[i] {
			scen = "boom"
		}
		wg.Go(func() {
			errs[i] = s.Commit(Decision{Key: Key{RunID: "r", AgentID: i, Scenario: scen},
				Reply: Reply{Raw: "5", Values: map[string]float64{"v": 5}, Provider: "openai", Calls: 1, CostUSD: math.NaN()}})
			var c int
			if err := other.QueryRow(`SELECT COUNT(*) FROM decisions WHERE agent_id = ? AND scenario = ?`, i, scen).Scan(&c); err != nil {
				t.Error(err)
			}
			seen[i] = c == 1
		})
	}
	for {
		s.mu.Lock()
		queued := len(s.pending)
		s.mu.Unlock()
		if queued == n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.cmu.Unlock()
	wg.Wait()
	return errs, seen
}

// openWithSecondConnection opens a store and a second connection to its database, as
// another process would read it; both close with the test.
func openWithSecondConnection(t *testing.T) (*Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prosim.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return s, other
}

// Concurrent Commits share one transaction, and each returns only once its row is committed:
// readable from a second connection, as it would be by a process after a kill -9.
func TestGroupCommitIsDurableWhenItReturns(t *testing.T) {
	s, other := openWithSecondConnection(t)
	const n = 32
	errs, seen := commitAll(t, s, other, n, nil)
	for i := range n {
		if errs[i] != nil || !seen[i] {
			t.Errorf("commit %d: error %v, row readable from another connection on return: %v", i, errs[i], seen[i])
		}
	}
	if w := s.writes.Load(); w != 1 {
		t.Errorf("%d concurrent commits took %d transactions, want 1", n, w)
	}

	// Without the lock held, 32 workers committing in a loop: every row readable on return,
	// and fewer transactions than commits.
	var wg sync.WaitGroup
	var missing atomic.Int64
	for w := range n {
		wg.Go(func() {
			for j := range 20 {
				k := Key{RunID: "r", AgentID: 1000 + w*20 + j, Scenario: "loop"}
				if err := s.Commit(Decision{Key: k, Reply: Reply{Raw: "1", CostUSD: math.NaN()}}); err != nil {
					t.Error(err)
					return
				}
				var c int
				if err := other.QueryRow(`SELECT COUNT(*) FROM decisions WHERE agent_id = ? AND scenario = 'loop'`, k.AgentID).Scan(&c); err != nil || c != 1 {
					missing.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if m := missing.Load(); m > 0 {
		t.Errorf("%d of %d commits returned before their row was readable", m, n*20)
	}
	if w := s.writes.Load(); w >= 1+n*20 {
		t.Errorf("%d commits took %d transactions: none shared", n*20, w-1)
	}
}

// A failed write fails every Commit of its group, none of whose rows is committed; the
// decisions stay queued, so a later flush (Close's) still records the paid replies. A group
// of up to rowsPerInsert decisions is one statement (its own transaction); a larger one is a
// transaction of several, failing here in its second statement.
func TestGroupCommitErrorFailsEveryWaiter(t *testing.T) {
	for _, tc := range []struct{ n, boom int }{{16, 7}, {rowsPerInsert + 36, rowsPerInsert + 20}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			s, other := openWithSecondConnection(t)
			if _, err := other.Exec(`CREATE TRIGGER boom BEFORE INSERT ON decisions WHEN NEW.scenario = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`); err != nil {
				t.Fatal(err)
			}
			errs, seen := commitAll(t, s, other, tc.n, map[int]bool{tc.boom: true})
			for i := range tc.n {
				if errs[i] == nil || !strings.Contains(errs[i].Error(), "boom refused") || seen[i] {
					t.Errorf("commit %d of the failed group: error %v, row committed: %v", i, errs[i], seen[i])
				}
			}
			if _, err := other.Exec(`DROP TRIGGER boom`); err != nil {
				t.Fatal(err)
			}
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if c, err := s.CountDecisions(); err != nil || c != tc.n {
				t.Errorf("after the failure was mended, %d decisions committed (%v), want %d", c, err, tc.n)
			}
		})
	}
}

// Decisions orders by run design order, then agent, round, trial and scenario, whether each
// run is read on its own or (two runs of one order) all in one sorted read; decisions of a
// run the runs table does not name are not read.
func TestDecisionsOrder(t *testing.T) {
	for _, tie := range []bool{false, true} {
		s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
		if err != nil {
			t.Fatal(err)
		}
		ordY := 1
		if tie {
			ordY = 0
		}
		if err := s.PutRuns([]Run{{ID: "y", Ord: ordY}, {ID: "x", Ord: 0}, {ID: "w", Ord: 2}}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []Key{{"w", 1, 0, 0, "a"}, {"y", 2, 0, 0, "a"}, {"x", 3, 0, 0, "a"}, {"y", 1, 1, 0, "b"},
			{"y", 1, 1, 0, "a"}, {"x", 1, 0, 2, "a"}, {"x", 1, 0, 1, "a"}, {"gone", 1, 0, 0, "a"}} {
			if err := s.Add(Decision{Key: k, Reply: Reply{Raw: "x", CostUSD: math.NaN()}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := s.Decisions(func(d Decision) error { got = append(got, fmt.Sprint(d.Key)); return nil }); err != nil {
			t.Fatal(err)
		}
		want := "[{x 1 0 1 a} {x 1 0 2 a} {x 3 0 0 a} {y 1 1 0 a} {y 1 1 0 b} {y 2 0 0 a} {w 1 0 0 a}]"
		if tie {
			want = "[{x 1 0 1 a} {x 1 0 2 a} {y 1 1 0 a} {y 1 1 0 b} {y 2 0 0 a} {x 3 0 0 a} {w 1 0 0 a}]"
		}
		if fmt.Sprint(got) != want {
			t.Errorf("tie %v: %v, want %s", tie, got, want)
		}
		s.Close()
	}
}

// Start returns before its write: while the store's write lock is held its commit has not
// ended; Starts meanwhile join one group, and each Wait returns nil only once its row is
// readable from another connection.
func TestStartCommitsWithoutWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prosim.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s.cmu.Lock() // a write in progress
	var ps []Pending
	for i := range 8 {
		ps = append(ps, s.Start(Decision{Key: Key{RunID: "r", AgentID: i, Scenario: "s"}, Reply: Reply{Raw: "1", CostUSD: math.NaN()}}))
	}
	time.Sleep(20 * time.Millisecond)
	for i, p := range ps {
		if p.Done() {
			t.Errorf("start %d ended while no write could run", i)
		}
	}
	s.cmu.Unlock()
	for i, p := range ps {
		if err := p.Wait(); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		var c int
		if err := other.QueryRow(`SELECT COUNT(*) FROM decisions WHERE agent_id = ?`, i).Scan(&c); err != nil || c != 1 {
			t.Errorf("start %d: row not readable after Wait (%d, %v)", i, c, err)
		}
	}
	if w := s.writes.Load(); w != 1 {
		t.Errorf("8 starts during one write took %d transactions, want 1", w)
	}
}

// Failed calls are kept with their decision, added up when a decision is recorded again (as
// calls are), and summed by Tallies. A schema 3 database (before failed_calls) reads 0 for
// them read-only, without being changed, and is upgraded to 4 on open.
func TestFailedCallsAndUpgradeFrom3(t *testing.T) {
	path := oldStore(t, "3", "model_version TEXT NOT NULL DEFAULT '',", ", ''")
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := ro.Tallies()
	if err != nil || len(ts) != 1 || ts[0].Calls != 1 || ts[0].FailedCalls != 0 {
		t.Fatalf("tallies of a schema 3 run read-only: %+v, %v", ts, err)
	}
	k := Key{RunID: "none.r1", AgentID: 1, Scenario: "helping"}
	if d, ok, err := ro.Decision(k); err != nil || !ok || d.Reply.Calls != 1 || d.Reply.FailedCalls != 0 {
		t.Fatalf("decision of a schema 3 run read-only: %+v, %v, %v", d, ok, err)
	}
	if v, _ := ro.Meta("schema_version"); v != "3" {
		t.Fatalf("a read-only open changed the schema to %q", v)
	}
	ro.Close()

	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Meta("schema_version"); v != schemaVersion || schemaVersion != "7" {
		t.Fatalf("schema_version %q", v)
	}
	// Two attempts failed, then the decision is recorded invalid; asked again, it fails once
	// more and then succeeds.
	k2 := Key{RunID: "none.r1", AgentID: 2, Scenario: "helping"}
	if err := s.Commit(Decision{Key: k2, Reply: Reply{Invalid: "error: gave up", Provider: "openai", Calls: 2, FailedCalls: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(Decision{Key: k2, Reply: Reply{Raw: "5", Values: map[string]float64{"willingness": 5}, Provider: "openai",
		Calls: 2, FailedCalls: 1, InputTokens: 10, OutputTokens: 2, CostUSD: 0.5}}); err != nil {
		t.Fatal(err)
	}
	d, ok, err := s.Decision(k2)
	if err != nil || !ok || d.Reply.Calls != 4 || d.Reply.FailedCalls != 3 || d.Reply.InputTokens != 10 || d.Reply.CostUSD != 0.5 {
		t.Fatalf("decision asked again: %+v, %v, %v; want 4 calls, 3 failed", d.Reply, ok, err)
	}
	ts, err = s.Tallies()
	if err != nil || len(ts) != 1 || ts[0].Calls != 5 || ts[0].FailedCalls != 3 || ts[0].Decisions != 2 {
		t.Fatalf("tallies %+v, %v; want 5 calls, 3 failed, 2 decisions", ts, err)
	}
}

// Calls answered with HTTP 200 but unusable are kept with their decision, added up when a
// decision is recorded again, and summed by Tallies. A schema 4 database (before
// unusable_calls) reads 0 for them read-only, without being changed, and is upgraded to 5
// on open, its failed calls kept.
func TestUnusableCallsAndUpgradeFrom4(t *testing.T) {
	path := oldStore(t, "4", "model_version TEXT NOT NULL DEFAULT '', failed_calls INTEGER NOT NULL DEFAULT 0,", ", '', 1")
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := ro.Tallies()
	if err != nil || len(ts) != 1 || ts[0].Calls != 1 || ts[0].FailedCalls != 1 || ts[0].UnusableCalls != 0 {
		t.Fatalf("tallies of a schema 4 run read-only: %+v, %v", ts, err)
	}
	k := Key{RunID: "none.r1", AgentID: 1, Scenario: "helping"}
	if d, ok, err := ro.Decision(k); err != nil || !ok || d.Reply.FailedCalls != 1 || d.Reply.UnusableCalls != 0 {
		t.Fatalf("decision of a schema 4 run read-only: %+v, %v, %v", d, ok, err)
	}
	if v, _ := ro.Meta("schema_version"); v != "4" {
		t.Fatalf("a read-only open changed the schema to %q", v)
	}
	ro.Close()

	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Meta("schema_version"); v != schemaVersion || schemaVersion != "7" {
		t.Fatalf("schema_version %q", v)
	}
	if d, ok, err := s.Decision(k); err != nil || !ok || d.Reply.FailedCalls != 1 || d.Reply.UnusableCalls != 0 {
		t.Fatalf("decision of a schema 4 run upgraded: %+v, %v, %v", d, ok, err)
	}
	// A cut reply, then the budget refused its retry: recorded invalid; asked again, one more
	// cut reply and then an answer.
	k2 := Key{RunID: "none.r1", AgentID: 2, Scenario: "helping"}
	if err := s.Commit(Decision{Key: k2, Reply: Reply{Invalid: "error: budget", Provider: "openai", Calls: 1, UnusableCalls: 1, CostUSD: 0.25}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(Decision{Key: k2, Reply: Reply{Raw: "5", Values: map[string]float64{"willingness": 5}, Provider: "openai",
		Calls: 2, UnusableCalls: 1, InputTokens: 10, OutputTokens: 2, CostUSD: 0.5}}); err != nil {
		t.Fatal(err)
	}
	d, ok, err := s.Decision(k2)
	if err != nil || !ok || d.Reply.Calls != 3 || d.Reply.UnusableCalls != 2 || d.Reply.FailedCalls != 0 || d.Reply.CostUSD != 0.75 {
		t.Fatalf("decision asked again: %+v, %v, %v; want 3 calls, 2 unusable, $0.75", d.Reply, ok, err)
	}
	ts, err = s.Tallies()
	if err != nil || len(ts) != 1 || ts[0].Calls != 4 || ts[0].FailedCalls != 1 || ts[0].UnusableCalls != 2 {
		t.Fatalf("tallies %+v, %v; want 4 calls, 1 failed, 2 unusable", ts, err)
	}
}

// Every column of a decision reads back as written, through Decisions and Decision alike.
func TestDecisionRoundTripsEveryColumn(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutRuns([]Run{{ID: "r", Backend: "openai", Condition: "none", Policy: "none", Replicate: 1}}); err != nil {
		t.Fatal(err)
	}
	want := []Decision{
		{Key: Key{RunID: "r", AgentID: 123456, Round: 3, Trial: 17, Scenario: "helping"}, Params: map[string]float64{"x": 2.5, "y": -1},
			Reply: Reply{Raw: `{"willingness": 6}`, Values: map[string]float64{"willingness": 6}, Provider: "openai", Model: "m",
				ModelVersion: "m-2026", InputTokens: 412345, OutputTokens: 789, Calls: 4, FailedCalls: 3, CostUSD: 0.000123,
				Latency: 1234567 * time.Microsecond, Cached: true}},
		{Key: Key{RunID: "r", AgentID: 123457, Scenario: "sharing"}, Params: map[string]float64{},
			Reply: Reply{Raw: "no", Invalid: "no JSON", Provider: "openai", Model: "m", Calls: 1, CostUSD: math.NaN(), Latency: 2 * time.Second}},
	}
	if err := s.Commit(want...); err != nil {
		t.Fatal(err)
	}
	var got []Decision
	if err := s.Decisions(func(d Decision) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d decisions, want %d", len(got), len(want))
	}
	for i, w := range want {
		one, ok, err := s.Decision(w.Key)
		if err != nil || !ok {
			t.Fatalf("Decision(%v): %v, %v", w.Key, ok, err)
		}
		for _, g := range []Decision{got[i], one} {
			w := w
			if math.IsNaN(w.Reply.CostUSD) && math.IsNaN(g.Reply.CostUSD) {
				g.Reply.CostUSD, w.Reply.CostUSD = 0, 0 // NaN is unequal to itself
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("read back\n%+v\nwant\n%+v", g, w)
			}
		}
	}
}

// Close leaves a closed database: the statements a commit prepared are finalized, so SQLite
// closes the connection and, the last one, checkpoints and removes the write-ahead log.
func TestCloseRemovesWriteAheadLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prosim.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Commit(Decision{Key: Key{RunID: "r", AgentID: i, Scenario: "s"}, Reply: Reply{Raw: "1", CostUSD: math.NaN()}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no write-ahead log while open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s-wal is left after Close (%v): the connection was not closed", path, err)
	}
}

// BeforeWrite's function runs before each write of decisions, none of them committed yet, and
// not for a flush with nothing to write.
func TestBeforeWriteRunsBeforeEachWrite(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var seen []int
	s.BeforeWrite(func() {
		n, _ := s.CountDecisions()
		seen = append(seen, n)
	})
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Commit(Decision{Key: Key{RunID: "a", AgentID: i + 1, Scenario: "s"}, Reply: Reply{Values: map[string]float64{"v": 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(seen, []int{0, 1}) {
		t.Fatalf("decisions committed when it ran: %v, want [0 1] (once a write, before it)", seen)
	}
}

// oldStore writes a run database of an earlier schema version: schemaV1 (its one decision)
// with cols, the columns that version had after latency_ms (each with its trailing comma),
// and vals their values in that decision (each with its leading comma). It returns its path.
func oldStore(t *testing.T, version, cols, vals string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prosim.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := strings.Replace(schemaV1, "cost_usd REAL, latency_ms REAL NOT NULL,", "cost_usd REAL, latency_ms REAL NOT NULL, "+cols, 1)
	src = strings.Replace(src, "('schema_version', '1')", "('schema_version', '"+version+"')", 1)
	src = strings.Replace(src, "NULL, 3.5);", "NULL, 3.5"+vals+");", 1)
	if _, err := db.Exec(src); err != nil {
		t.Fatal(err)
	}
	return path
}

// The spend of calls no recorded decision holds adds up per backend, an unknown cost
// staying unknown. A schema 5 database (before the unrecorded table) reads none read-only,
// without being changed, and is upgraded to 7 on open, its decisions' calls kept.
func TestUnrecordedAndUpgradeFrom5(t *testing.T) {
	path := oldStore(t, "5", "model_version TEXT NOT NULL DEFAULT '', failed_calls INTEGER NOT NULL DEFAULT 0, unusable_calls INTEGER NOT NULL DEFAULT 0,", ", '', 1, 0")
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if us, err := ro.UnrecordedSpend(); err != nil || len(us) != 0 {
		t.Fatalf("unrecorded spend of a schema 5 run read-only: %+v, %v", us, err)
	}
	if v, _ := ro.Meta("schema_version"); v != "5" {
		t.Fatalf("a read-only open changed the schema to %q", v)
	}
	ro.Close()

	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Meta("schema_version"); v != schemaVersion || schemaVersion != "7" {
		t.Fatalf("schema_version %q", v)
	}
	k := Key{RunID: "none.r1", AgentID: 1, Scenario: "helping"}
	if d, ok, err := s.Decision(k); err != nil || !ok || d.Reply.Calls != 1 || d.Reply.FailedCalls != 1 {
		t.Fatalf("decision of a schema 5 run upgraded: %+v, %v, %v", d, ok, err)
	}
	// An interrupted ask, then another of the same backend, and one of a model with no price.
	if err := s.AddUnrecorded([]Unrecorded{{Backend: "openai", Calls: 1, UnusableCalls: 1, CostUSD: 0.25}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUnrecorded([]Unrecorded{{Backend: "openai", Calls: 2, FailedCalls: 1, UnusableCalls: 1, InputTokens: 3, CostUSD: 0.5},
		{Backend: "vllm:qwen", Calls: 1, UnusableCalls: 1, CostUSD: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	us, err := s.UnrecordedSpend()
	if err != nil || len(us) != 2 {
		t.Fatalf("unrecorded spend %+v, %v", us, err)
	}
	if u := us[0]; u != (Unrecorded{Backend: "openai", Calls: 3, FailedCalls: 1, UnusableCalls: 2, InputTokens: 3, CostUSD: 0.75}) {
		t.Errorf("openai: %+v; want 3 calls, 1 failed, 2 unusable, $0.75", u)
	}
	if u := us[1]; u.Backend != "vllm:qwen" || u.Calls != 1 || !math.IsNaN(u.CostUSD) {
		t.Errorf("vllm:qwen: %+v; want 1 call at an unknown cost", u)
	}
}

// The calls whose reply said no token usage are recorded per decision, added up when a
// decision is recorded again, and tallied. A database of schema 4, 5, or 6 before the column
// (none of whose decisions could say) reads them as 0 read-only, unchanged; one of schema 1,
// 4, 5 or 6 before the column gets the column on open, its decisions at 0.
func TestNoUsageCallsRecordedAndUpgraded(t *testing.T) {
	k := Key{RunID: "none.r1", AgentID: 1, Scenario: "helping"}
	add := func(s *Store, noUsage int) {
		t.Helper()
		r := Reply{Raw: "5", Values: map[string]float64{"willingness": 5}, Provider: "openai", Model: "m", Calls: noUsage, NoUsageCalls: noUsage, CostUSD: 0.5}
		if err := s.Add(Decision{Key: k, Reply: r}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store, what string, want int) {
		t.Helper()
		if d, ok, err := s.Decision(k); err != nil || !ok || d.Reply.NoUsageCalls != want {
			t.Errorf("%s: decision %+v, %v, %v; want no_usage_calls %d", what, d.Reply, ok, err, want)
		}
		n := -1
		if err := s.Decisions(func(d Decision) error { n = d.Reply.NoUsageCalls; return nil }); err != nil || n != want {
			t.Errorf("%s: Decisions read no_usage_calls %d, %v; want %d", what, n, err, want)
		}
		if ts, err := s.Tallies(); err != nil || len(ts) != 1 || ts[0].NoUsageCalls != want {
			t.Errorf("%s: tallies %+v, %v; want no_usage_calls %d", what, ts, err, want)
		}
	}

	s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRuns([]Run{{ID: "none.r1", Backend: "openai:m", Condition: "none", Policy: "none", Replicate: 1, Seed: 7}}); err != nil {
		t.Fatal(err)
	}
	add(s, 2)
	add(s, 1) // recorded again (resume --retry-invalid): both asks' calls were made
	check(s, "a new database", 3)
	s.Close()

	for _, old := range []struct{ version, cols, vals string }{
		{"1", "", ""},
		{"4", "model_version TEXT NOT NULL DEFAULT '', failed_calls INTEGER NOT NULL DEFAULT 0,", ", '', 1"},
		{"5", "model_version TEXT NOT NULL DEFAULT '', failed_calls INTEGER NOT NULL DEFAULT 0, unusable_calls INTEGER NOT NULL DEFAULT 0,", ", '', 1, 0"},
		{"6", "model_version TEXT NOT NULL DEFAULT '', failed_calls INTEGER NOT NULL DEFAULT 0, unusable_calls INTEGER NOT NULL DEFAULT 0,", ", '', 1, 0"},
	} {
		path := oldStore(t, old.version, old.cols, old.vals)
		if old.version != "1" { // a read-only open of schema 1 reads no decision (no model_version)
			ro, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			check(ro, "schema "+old.version+" read-only", 0)
			if v, _ := ro.Meta("schema_version"); v != old.version {
				t.Errorf("a read-only open changed schema %s to %q", old.version, v)
			}
			ro.Close()
		}

		s, err := OpenExisting(path)
		if err != nil {
			t.Fatalf("schema %s: %v", old.version, err)
		}
		check(s, "schema "+old.version+" upgraded", 0)
		add(s, 1)
		check(s, "schema "+old.version+" upgraded, then recorded again", 1)
		if v, _ := s.Meta("schema_version"); v != schemaVersion {
			t.Errorf("schema %s upgraded to %q", old.version, v)
		}
		s.Close()
	}
}

// DecisionsAt gives each recorded key asked, in the order asked, across its queries of
// keysPerRead keys; keys not recorded are skipped.
func TestDecisionsAtReadsTheKeysAsked(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 2*keysPerRead + 7
	for i := range n {
		r := Reply{Raw: "x", Values: map[string]float64{"give": float64(i)}, CostUSD: math.NaN()}
		if err := s.Add(Decision{Key: Key{RunID: "c.r1", AgentID: i, Round: 1, Trial: i % 3, Scenario: "dictator"}, Reply: r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	var keys, want []Key
	for i := n - 1; i >= 0; i-- { // against the key's order
		k := Key{RunID: "c.r1", AgentID: i, Round: 1, Trial: i % 3, Scenario: "dictator"}
		keys, want = append(keys, k), append(want, k)
		keys = append(keys, Key{RunID: "c.r1", AgentID: i, Round: 2, Trial: i % 3, Scenario: "dictator"}) // not recorded
	}
	var got []Key
	err = s.DecisionsAt(keys, func(d Decision) error {
		if d.Reply.Values["give"] != float64(d.AgentID) {
			t.Fatalf("%+v read with %v", d.Key, d.Reply.Values)
		}
		got = append(got, d.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read %d keys, want the %d recorded in the order asked", len(got), len(want))
	}
}

// The unrecorded table counts the calls whose reply said no token usage (a cluster task's
// second reply, the re-asks of an ask cut off), added up as its other counts are. A schema 6
// database, whose unrecorded table did not name them, reads them as 0 read-only, unchanged,
// and gets the column on open, its rows kept.
func TestUnrecordedNoUsageCallsAndUpgradeFrom6(t *testing.T) {
	path := oldStore(t, "6", "model_version TEXT NOT NULL DEFAULT '', failed_calls INTEGER NOT NULL DEFAULT 0, unusable_calls INTEGER NOT NULL DEFAULT 0, no_usage_calls INTEGER NOT NULL DEFAULT 0,", ", '', 1, 0, 0")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE unrecorded(
  backend TEXT PRIMARY KEY, calls INTEGER NOT NULL, failed_calls INTEGER NOT NULL,
  unusable_calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  cost_usd REAL);
INSERT INTO unrecorded VALUES('openai', 2, 0, 1, 30, 4, 0.25);`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	want := Unrecorded{Backend: "openai", Calls: 2, UnusableCalls: 1, InputTokens: 30, OutputTokens: 4, CostUSD: 0.25}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if us, err := ro.UnrecordedSpend(); err != nil || len(us) != 1 || us[0] != want {
		t.Errorf("schema 6 read-only: %+v, %v; want %+v", us, err, want)
	}
	if v, _ := ro.Meta("schema_version"); v != "6" {
		t.Errorf("a read-only open changed the schema to %q", v)
	}
	ro.Close()

	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Meta("schema_version"); v != schemaVersion {
		t.Fatalf("schema_version %q", v)
	}
	if err := s.AddUnrecorded([]Unrecorded{{Backend: "openai", Calls: 1, NoUsageCalls: 1, CostUSD: 0.5}, {Backend: "b", Calls: 1, NoUsageCalls: 1, CostUSD: 0.5}}); err != nil {
		t.Fatal(err)
	}
	want.Calls, want.NoUsageCalls, want.CostUSD = 3, 1, 0.75
	if us, err := s.UnrecordedSpend(); err != nil || len(us) != 2 || us[1] != want || us[0].NoUsageCalls != 1 {
		t.Errorf("upgraded, then added to: %+v, %v; want %+v and b's call without usage", us, err, want)
	}
}

// DecisionsCounted gives what Decisions gives, in its order, without params, raw replies and
// providers: a replay's first pass reads only what it counts.
func TestDecisionsCountedLeavesTheRestOut(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutRuns([]Run{{ID: "b", Ord: 1, Backend: "x"}, {ID: "a", Ord: 0, Backend: "x"}}); err != nil {
		t.Fatal(err)
	}
	for i, run := range []string{"b", "a", "a"} {
		r := Reply{Raw: "raw", Values: map[string]float64{"give": float64(i)}, Provider: "p", Model: "m", ModelVersion: "v",
			Calls: 2, FailedCalls: 1, InputTokens: 10 + i, OutputTokens: 3, CostUSD: 0.25, Latency: time.Duration(i) * time.Millisecond}
		if i == 2 {
			r.Values, r.Invalid, r.CostUSD = nil, "not JSON", math.NaN()
		}
		if err := s.Add(Decision{Key: Key{RunID: run, AgentID: i, Scenario: "s"}, Params: map[string]float64{"x": 1}, Reply: r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	var all, counted []Decision
	if err := s.Decisions(func(d Decision) error { all = append(all, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.DecisionsCounted(func(d Decision) error { counted = append(counted, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || len(counted) != 3 {
		t.Fatalf("%d and %d decisions, want 3", len(all), len(counted))
	}
	for i, d := range all {
		d.Params, d.Reply.Raw, d.Reply.Provider = nil, "", ""
		if got := fmt.Sprintf("%+v", counted[i]); got != fmt.Sprintf("%+v", d) {
			t.Errorf("decision %d:\n%s, want\n%+v", i, got, d)
		}
	}
}
