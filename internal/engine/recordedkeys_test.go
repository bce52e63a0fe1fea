package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// On resume a recorded task of a batch with Keys is read back from its keys: its request (a
// prompt composed for each of 800,000 decisions that a resume with nothing to decide spent a
// minute on, QA14) is built only for a task still to ask.
func TestRecordedTaskNotBuilt(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cell := &study.Cell{Run: store.Run{ID: "c.r1"}}
	key := store.Key{RunID: "c.r1", AgentID: 1, Round: 1, Scenario: "volunteering"}
	if err := st.Add(store.Decision{Key: key, Reply: record(backend.Reply{Raw: `{"willingness": 5}`, Values: map[string]float64{"willingness": 5}})}); err != nil {
		t.Fatal(err)
	}
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	r := &Runner{st: st, done: newKeySet()}
	r.done.add(key)
	var got []backend.Reply
	b := &study.Batch{N: 1,
		Build: func(int) (study.Task, error) {
			return study.Task{}, errors.New("the request of a recorded task was built")
		},
		Keys: func(int) study.Task { return study.Task{Keys: []store.Key{key}, Cell: cell} },
		Absorb: func(_ int, _ *study.Task, replies []backend.Reply) error {
			got = replies
			return nil
		},
	}
	if err := r.decideTask(context.Background(), b, 0, true, &commitSlot{}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Values["willingness"] != 5 {
		t.Fatalf("absorbed %+v, want the recorded reply", got)
	}
}

// On resume the recorded tasks of a batch with Keys and Absorb are read back in bulk, not one
// query per decision (5 s of a 12.7 s resume of 200,000 decisions with nothing to ask); a
// recorded key outside the batch is not given to Absorb.
func TestRecordedBatchReadInBulk(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := &Runner{st: st, done: newKeySet(), exp: &experiment.Experiment{Concurrency: 2}}
	cells := []*study.Cell{{Run: store.Run{ID: "c.r1"}}, {Run: store.Run{ID: "c.r2"}}}
	const agents = 5
	keyOf := func(i int) store.Key {
		return store.Key{RunID: cells[i/agents].ID, AgentID: 10 + i%agents, Round: 2, Scenario: "volunteering"}
	}
	add := func(k store.Key, v float64) {
		rep := backend.Reply{Raw: "x", Values: map[string]float64{"willingness": v}}
		if err := st.Add(store.Decision{Key: k, Reply: record(rep)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 * agents {
		add(keyOf(i), float64(i))
		r.done.add(keyOf(i))
	}
	// Another round of an agent of the batch: recorded, not in the batch.
	add(store.Key{RunID: "c.r1", AgentID: 12, Round: 1, Scenario: "volunteering"}, 99)
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 2*agents)
	b := &study.Batch{N: 2 * agents,
		Build: func(int) (study.Task, error) {
			return study.Task{}, errors.New("the request of a recorded task was built")
		},
		Keys: func(i int) study.Task { return study.Task{Keys: []store.Key{keyOf(i)}, Cell: cells[i/agents]} },
		Absorb: func(i int, tk *study.Task, replies []backend.Reply) error {
			if tk.Keys[0] != keyOf(i) || len(replies) != 1 {
				return fmt.Errorf("task %d absorbed %v with %d replies", i, tk.Keys, len(replies))
			}
			got[i] = replies[0].Values["willingness"]
			return nil
		},
	}
	if err := r.decideBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != float64(i) {
			t.Errorf("task %d absorbed willingness %v, want its recorded %d", i, v, i)
		}
	}
	if n := st.Lookups(); n != 0 {
		t.Errorf("%d decisions read one by one, want none (read in bulk)", n)
	}
}

// The games and Study 2 read a resumed or replayed run's recorded decisions back from their
// keys (Batch.Keys), in bulk, reading no other row (a range read over a step's agents read
// their other rounds and stages too). A games resume with nothing to ask read 105,888
// decisions one query each and composed each one's prompt: 10.6 s, against 7.2 for the whole
// run. Each batch's Keys are its tasks' keys and cells.
func TestSteppedStudiesReadRecordedInBulk(t *testing.T) {
	const head = "seed: 5\nbackends:\n  - {provider: builtin}\nconditions:\n  - {name: none, policy: none}\n  - {name: moral, policy: moral}\n"
	for _, c := range []struct{ name, src string }{
		{"games", "name: g\nstudy: games\nreplicates: 1\npopulation: {source: sample, n: 8}\n" + head +
			"games:\n  - {game: dictator, endowment: 100}\n  - {game: ultimatum, endowment: 100}\n  - {game: trust, endowment: 10, multiplier: 3}\n" +
			"  - {game: public_goods, endowment: 20, multiplier: 1.6, group_size: 4, rounds: 3, punishment: both}\n"},
		{"tpp history", "name: th\nstudy: tpp\nreplicates: 2\npopulation: {source: sample, n: 4}\ntpp: {variant: binary, history: true}\n" + head},
		{"tpp", "name: t\nstudy: tpp\nreplicates: 1\npopulation: {source: sample, n: 4}\ntpp: {variant: graded}\n" + head},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if _, err := Run(context.Background(), load(t, c.src, 3), Options{Out: dir, NoCache: true}); err != nil {
				t.Fatal(err)
			}
			exp, err := RunConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			st, err := store.OpenExisting(filepath.Join(dir, dbFile))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Prepare(exp, Options{Offline: true, Recorded: true})
			if err != nil {
				st.Close()
				t.Fatal(err)
			}
			defer r.close()
			r.setDir(dir)
			r.env.Replay, r.replaying, r.st = true, true, st
			if err := r.loadRecorded(); err != nil {
				t.Fatal(err)
			}
			r.held = nil // read a step at a time, as a resume and a replay above maxHeld do
			read, rows0 := 0, st.RowsRead()
			for {
				b, err := r.study.Next()
				if err != nil {
					t.Fatal(err)
				}
				if b == nil {
					break
				}
				if b.Keys == nil {
					t.Fatal("a batch without Keys: its recorded tasks are built to be read back")
				}
				for i := range b.Len() {
					tk, err := b.Task(i)
					if err != nil {
						t.Fatal(err)
					}
					if kt := b.Keys(i); !slices.Equal(kt.Keys, tk.Keys) || kt.Cell != tk.Cell {
						t.Fatalf("task %d: Keys gives %v of cell %s, the task %v of %s", i, kt.Keys, kt.Cell.ID, tk.Keys, tk.Cell.ID)
					}
				}
				if b.Absorb != nil {
					read += b.Len()
				}
				if err := r.decideBatch(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			if n := st.Lookups(); n != 0 || (c.name != "tpp" && read == 0) {
				t.Errorf("%d of %d recorded decisions read back one query each, want none", n, read)
			}
			// No row of another step is read (a range over the rounds of a games step read
			// every stage of those rounds).
			if rows := st.RowsRead() - rows0; rows != int64(read) {
				t.Errorf("%d rows read for %d recorded decisions read back", rows, read)
			}
		})
	}
}
