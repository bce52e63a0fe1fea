package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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

// On resume the recorded tasks of a batch with Keys and Absorb are read back in one range
// read per run, not one query per decision (5 s of a 12.7 s resume of 200,000 decisions
// with nothing to ask); a key outside the batch in that range is not given to Absorb.
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
	// Another round of an agent within the span: in the range read, not in the batch.
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
		t.Errorf("%d decisions read one by one, want none (one range read per run)", n)
	}
}
