package engine

import (
	"slices"
	"testing"

	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// The requests validate --show-prompts shows: with more strata (step x condition x scenario)
// than requests to show, the first and the last stratum are among those picked (round 1 and
// the last round), in the order built; the same seed picks the same requests, and a stratum's
// requests past its first n can be picked (a sample, not the first ones).
func TestShowSampler(t *testing.T) {
	const steps, agents = 5, 50
	play := func(n int, s uint64) []ShownRequest {
		sm := newShowSampler(n, s)
		built := 0
		for step := 1; step <= steps; step++ {
			for _, cond := range []string{"control", "treated"} {
				for a := range agents {
					cell := &study.Cell{Run: store.Run{Condition: cond}}
					sm.add(ShownRequest{Task: study.Task{Cell: cell, Keys: []store.Key{{AgentID: a, Round: step, Scenario: "v"}}}, Step: step}, built)
					built++
				}
			}
		}
		return sm.pick()
	}
	id := func(x ShownRequest) [3]int {
		c := 0
		if x.Task.Cell.Condition == "treated" {
			c = 1
		}
		return [3]int{x.Step, c, x.Task.Keys[0].AgentID}
	}
	got := play(3, 1)
	if len(got) != 3 {
		t.Fatalf("picked %d, want 3", len(got))
	}
	if first, last := id(got[0]), id(got[2]); first[0] != 1 || first[1] != 0 || last[0] != steps || last[1] != 1 {
		t.Errorf("picked %v ... %v: want the first stratum (step 1, control) and the last (step %d, treated)", first, last, steps)
	}
	again := play(3, 1)
	for i := range got {
		if id(got[i]) != id(again[i]) {
			t.Fatalf("the same seed picked %v, then %v", id(got[i]), id(again[i]))
		}
	}
	// 25 requests from 10 strata: every stratum, 2 or 3 from each; some past a stratum's
	// first 3 agents (a sample of all 50).
	many := play(25, 2)
	strata := map[[2]int]int{}
	late := false
	for i, x := range many {
		k := id(x)
		strata[[2]int{k[0], k[1]}]++
		late = late || k[2] >= 3
		if prev := id(many[max(i-1, 0)]); slices.Compare(prev[:2], k[:2]) > 0 {
			t.Errorf("request %d (%v) is after %v: not in the order built", i, k, prev)
		}
	}
	if len(strata) != 2*steps {
		t.Errorf("%d strata shown, want all %d", len(strata), 2*steps)
	}
	if !late {
		t.Error("every request shown is among its stratum's first 3: not sampled")
	}
}
