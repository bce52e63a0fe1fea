package policy

import (
	"math"
	"testing"
)

func TestContagionOriginal(t *testing.T) {
	c := Contagion{Rule: RuleOriginal}
	eroded := AgentRound{Exposures: 1, PrevW: 5, PrevU: 2, W: 4, U: 3}
	cases := []struct {
		name string
		a    AgentRound
		want bool
	}{
		{"exposed and eroded", eroded, true},
		{"not exposed", AgentRound{Exposures: 0, PrevW: 5, PrevU: 2, W: 4, U: 3}, false},
		{"willingness fell, unfairness same", AgentRound{Exposures: 2, PrevW: 5, PrevU: 3, W: 4, U: 3}, false},
		{"unfairness rose, willingness same", AgentRound{Exposures: 2, PrevW: 5, PrevU: 2, W: 5, U: 6}, false},
		{"missing rating", AgentRound{Exposures: 2, PrevW: 0, PrevU: 2, W: 4, U: 3}, false},
		{"no recovery", AgentRound{PrevAffected: true, PrevW: 3, PrevU: 6, W: 7, U: 1}, true},
	}
	for _, x := range cases {
		if got := c.Next(x.a, 1, 2); got != x.want {
			t.Errorf("%s: got %v", x.name, got)
		}
	}
}

func TestContagionSIS(t *testing.T) {
	c := Contagion{Rule: RuleSIS, Recovery: 0.3, Seed: 9}
	rec, n := 0, 20000
	for i := range n {
		if !c.Next(AgentRound{PrevAffected: true}, i, 3) {
			rec++
		}
	}
	if p := float64(rec) / float64(n); math.Abs(p-0.3) > 0.015 {
		t.Errorf("recovery share %.3f, want 0.3", p)
	}
	// Deterministic per (agent, round), whatever the call order.
	if c.Next(AgentRound{PrevAffected: true}, 17, 4) != c.Next(AgentRound{PrevAffected: true}, 17, 4) {
		t.Error("not deterministic")
	}
	if !c.Next(AgentRound{Exposures: 1, PrevW: 5, PrevU: 2, W: 4, U: 3}, 1, 1) {
		t.Error("sis does not infect an exposed, eroded agent")
	}
	all := Contagion{Rule: RuleSIS, Recovery: 1}
	if all.Next(AgentRound{PrevAffected: true}, 1, 1) {
		t.Error("recovery 1 keeps an agent affected")
	}
}

func TestContagionThreshold(t *testing.T) {
	c := Contagion{Rule: RuleThreshold, Threshold: 2}
	if c.Next(AgentRound{Exposures: 1, PrevW: 5, PrevU: 2, W: 4, U: 3}, 0, 1) {
		t.Error("one exposure passes a threshold of 2")
	}
	if !c.Next(AgentRound{Exposures: 2}, 0, 1) {
		t.Error("two exposures do not pass a threshold of 2")
	}
	if !c.Next(AgentRound{PrevAffected: true}, 0, 1) {
		t.Error("threshold recovers")
	}
	if err := (Contagion{Rule: RuleThreshold}).Check(); err == nil {
		t.Error("threshold 0 accepted")
	}
}
