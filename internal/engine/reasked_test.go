package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
)

// resume --retry-invalid in a study with rounds: a decision of round 2 that failed is asked
// again, and so is every later decision of its replicate that observed it (the neighbours'
// prompts of round 3 said what it was), so the finished run is the run that never failed.
// Replaying the later rounds instead would keep replies to prompts that described a failure.
func TestRetryInvalidReasksLaterRounds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s3.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(netExp, "CONC", "4", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := func() *experiment.Experiment {
		e, err := experiment.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var failing atomic.Bool
	var calls atomic.Int64
	hook := func(b experiment.Backend) (backend.Backend, error) {
		inner, _ := fakeNet(false, &sync.Mutex{}, &[]seen{})(b)
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			calls.Add(1)
			s := req.Structured.(*situation.Situation).Social
			if failing.Load() && s.Round == 2 && req.AgentID%20 == 3 {
				return backend.Reply{}, errors.New("provider down")
			}
			return inner.Decide(ctx, req)
		}), nil
	}
	read := func(run string) map[store.Key]string {
		st, err := store.OpenExisting(filepath.Join(run, dbFile))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		out := map[store.Key]string{}
		st.Decisions(func(d store.Decision) error {
			out[d.Key] = fmt.Sprint(d.Reply.Values, d.Reply.Invalid)
			return nil
		})
		return out
	}

	clean := filepath.Join(dir, "clean")
	if _, err := Run(context.Background(), exp(), Options{Out: clean, NoCache: true, Backends: hook}); err != nil {
		t.Fatal(err)
	}
	want := read(clean)

	failing.Store(true)
	run := filepath.Join(dir, "failed")
	if _, err := Run(context.Background(), exp(), Options{Out: run, NoCache: true, Backends: hook}); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, v := range read(run) {
		if strings.Contains(v, "provider down") {
			failed++
		}
	}
	// agents 3, 23, 43 in round 2 of each of the 2 conditions x 2 replicates
	if failed != 12 {
		t.Fatalf("%d decisions recorded invalid with the error, want 12", failed)
	}

	failing.Store(false)
	before := calls.Load()
	var notes, progress strings.Builder
	if _, err := Resume(context.Background(), run, Options{NoCache: true, CacheFlag: true, Backends: hook, RetryInvalid: true, Notices: &notes, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	asked := calls.Load() - before
	got := read(run)
	if len(got) != len(want) {
		t.Fatalf("%d decisions after the resume, want %d", len(got), len(want))
	}
	differ := 0
	for k, v := range want {
		if got[k] != v {
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d decisions differ from the run that never failed", differ, len(want))
	}
	// Rounds 3 and 4 of the four replicates are asked again (60 agents each), and the 12: not
	// the whole run (round 1 and the rest of round 2 are kept).
	if asked != 12+2*60*4 {
		t.Errorf("resume asked %d decisions, want %d", asked, 12+2*60*4)
	}
	if !strings.Contains(notes.String(), "asked again 480 recorded decisions of later steps") {
		t.Errorf("notices: %q", notes.String())
	}
	// Said before asking, in the announcement and the progress's first line (QA12 #16: "asking
	// again 2 decisions ... 2 to make", then 121 calls).
	if !strings.Contains(notes.String(), "prosim: asking again 12 decisions recorded invalid after an error, and the 480 recorded decisions of later rounds of the same worlds, which observed them: 492 in all") {
		t.Errorf("notices: %q", notes.String())
	}
	if first, _, _ := strings.Cut(progress.String(), "\n"); !strings.HasSuffix(first, "12 to make, and 480 of the saved asked again") {
		t.Errorf("progress's first line: %q", first)
	}
}

// In a study whose rounds may hold several steps (a game's first and second movers), the
// recorded decisions of the round of a decision asked again may have observed it: the count
// said before asking includes them, as an upper bound; cells with nothing asked again keep theirs.
func TestRetryInvalidBoundWithoutRoundSteps(t *testing.T) {
	r := &Runner{} // a study that does not say its steps are its rounds
	first := map[string]int{"a": 2}
	byRound := map[string]map[int]int{"a": {1: 60, 2: 57, 3: 60}, "b": {1: 60, 2: 60, 3: 60}}
	if b := r.dependentBound(first, byRound); b.exact || b.n != 57+60 {
		t.Fatalf("bound %+v, want at most 117 (rounds 2 and 3 of cell a)", b)
	}
}
