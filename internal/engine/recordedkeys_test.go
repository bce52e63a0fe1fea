package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/backend"
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
