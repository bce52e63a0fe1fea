package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/store"
)

// Validate and estimate render persona texts on demand (every text held up front took 2.2 GB
// for 1.9 million agents); a run records every agent's text.
func TestPersonaTextsUpFrontForRunsOnly(t *testing.T) {
	r, err := Prepare(load(t, study1, 1), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	held := r.texts != nil
	r.Close()
	if held {
		t.Error("Prepare for validate or estimate rendered every persona text")
	}
	var calls atomic.Int64
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), load(t, study1, 1), Options{Out: dir, Backends: fakeLLM(&calls)}); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	agents, err := st.Agents()
	if err != nil || len(agents) != 12 {
		t.Fatalf("%d agents recorded, %v", len(agents), err)
	}
	for _, a := range agents {
		var p persona.Persona
		if err := json.Unmarshal(a.Persona, &p); err != nil {
			t.Fatal(err)
		}
		if want := persona.Render(p, persona.RenderOptions{}); a.Text != want {
			t.Errorf("agent %d: text %q, want %q", a.ID, a.Text, want)
		}
	}
}

// A replay (report, prosim serve's results page) and an inspection of a run folder render no
// persona text up front: their recorded tasks are read back from their keys, and 100,000
// texts were 1.3 s of CPU of each of the two Prepares of a results page's first load.
// Rebuilding a request still renders them up front (it builds every task before k's).
func TestReplayRendersTextsOnDemand(t *testing.T) {
	var calls atomic.Int64
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), load(t, study1, 1), Options{Out: dir, Backends: fakeLLM(&calls)}); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	held := a.runner.texts != nil
	a.Close()
	if held {
		t.Error("Analyze rendered every persona text up front")
	}
	for _, onDemand := range []bool{true, false} {
		r, err := prepareDir(dir, onDemand)
		if err != nil {
			t.Fatal(err)
		}
		held := r.texts != nil
		r.Close()
		if held == onDemand {
			t.Errorf("prepareDir(onDemand %v) rendered every text up front: %v", onDemand, held)
		}
	}
}
