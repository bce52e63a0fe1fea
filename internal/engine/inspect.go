package engine

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// Inspection is a run directory prepared for reading while it may still be running (prosim
// serve): its design as the run has it, with no backend built and nothing written.
type Inspection struct {
	Dir string
	Exp *experiment.Experiment
	// Expected is how many decisions the run asks in all (the study's Expected).
	Expected int
	// AtMost says Expected is an upper bound: some decisions are asked only when earlier
	// replies call for them (a game's returner, a public goods round after an invalid one).
	AtMost bool
	// Recorded is false for studies that aggregate decisions in memory (network.store: summary).
	Recorded bool
}

// Inspect reads dir's resolved config and prepares its study offline.
func Inspect(dir string) (*Inspection, error) {
	r, err := prepareDir(dir, true)
	if err != nil {
		return nil, err
	}
	defer r.close()
	_, atMost := r.study.(study.Contingent)
	return &Inspection{Dir: dir, Exp: r.exp, Expected: r.study.Expected(), AtMost: atMost, Recorded: r.recorded()}, nil
}

// prepareDir prepares the run in dir, offline; onDemand renders its persona texts as prompts
// need them (Options.TextsOnDemand).
func prepareDir(dir string, onDemand bool) (*Runner, error) {
	exp, err := RunConfig(dir)
	if err != nil {
		return nil, err
	}
	r, err := Prepare(exp, Options{Offline: true, Recorded: true, TextsOnDemand: onDemand})
	if err != nil {
		return nil, err
	}
	r.setDir(dir)
	return r, nil
}

// RequestOf reconstructs the request a recorded decision was asked with (the system text
// and the prompt the backend was sent), the way `prosim report` replays a run: the study is
// stepped over the run's recorded decisions, read through a read-only store, up to the task that asks
// k. Decisions not recorded yet (a live run) are answered with placeholders so the replay
// can reach k's step; those replies reach no output. The repair turns of a re-asked decision
// are recorded apart (store.Repairs).
func RequestOf(dir string, k store.Key) (backend.Request, error) {
	// Every task of the steps before k's that has no Keys form is built: its texts up front.
	r, err := prepareDir(dir, false)
	if err != nil {
		return backend.Request{}, err
	}
	defer r.close()
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		return backend.Request{}, err
	}
	r.st = st // closed by r.close
	if err := r.loadRecorded(); err != nil {
		return backend.Request{}, err
	}
	r.placeheld = map[store.Key]backend.Reply{}
	if !r.done.has(k) {
		return backend.Request{}, fmt.Errorf("no decision is recorded for agent %d, %s, round %d, trial %d, run %s", k.AgentID, k.Scenario, k.Round, k.Trial, k.RunID)
	}
	for {
		b, err := r.study.Next()
		if err != nil {
			return backend.Request{}, err
		}
		if b == nil {
			return backend.Request{}, fmt.Errorf("the study asks no decision for agent %d, %s, round %d, trial %d, run %s", k.AgentID, k.Scenario, k.Round, k.Trial, k.RunID)
		}
		for i := 0; i < b.Len(); i++ {
			t, err := b.Task(i)
			if err != nil {
				return backend.Request{}, err
			}
			if slices.Contains(t.Keys, k) {
				return t.Req, nil
			}
			if b.Absorb == nil && r.allDone(&t) {
				continue // its replies are read from the store, if at all (Env.Reply)
			}
			replies, ok, err := r.recordedReplies(&t)
			if err != nil {
				return backend.Request{}, err
			}
			if !ok {
				replies = r.placeholder(&t)
				r.mu.Lock()
				for j, key := range t.Keys {
					r.placeheld[key] = replies[j]
				}
				r.mu.Unlock()
			}
			if b.Absorb != nil {
				if err := b.Absorb(i, &t, replies); err != nil {
					return backend.Request{}, err
				}
			}
		}
	}
}
