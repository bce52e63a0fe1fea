package network

import (
	"slices"
	"strings"
	"testing"
)

// QA: the effects table's count column read "agent-runs" and gave, for the split of distance 2, the
// largest count of any round, which read as a count over rounds. It counts each round's
// agent x replicate pairs, so where the rounds differ it is a range (a round without any
// counts 0), and the header says what is counted.
func TestEffectsCountIsPerRound(t *testing.T) {
	c := &Comparison{From: 2, Rounds: 4}
	for t, n := range map[int][2]int32{2: {889, 0}, 3: {719, 170}, 4: {800, 89}} {
		c.Effects = append(c.Effects, EffectRow{G: eDist2, Round: t, NAgents: int(n[0] + n[1])}, EffectRow{G: eDist2Unchanged, Round: t, NAgents: int(n[0])})
		if n[1] > 0 {
			c.Effects = append(c.Effects, EffectRow{G: eDist2Changed, Round: t, NAgents: int(n[1])})
		}
	}
	for _, x := range []struct {
		g    int
		want string
	}{{eDist2, "889"}, {eDist2Changed, "0-170"}, {eDist2Unchanged, "719-889"}} {
		if n, _, ok := c.effectLine(x.g, false, c.shownRounds()); !ok || n != x.want {
			t.Errorf("%s: count %q, want %q", effGroupKeys[x.g], n, x.want)
		}
	}
	var b strings.Builder
	c.printTwin(&b)
	out := b.String()
	for _, want := range []string{"effect on willingness  pairs per round", "distance_2_changed     0-170", "mean over agent x replicate pairs of", "counts are per round"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "agent-runs") {
		t.Errorf("the summary counts agent-runs:\n%s", out)
	}
}

// When the summary's effect table leaves rounds out (at most 8 are shown), it says which: r6 of
// a 10-round run was left out without a word (QA14 F12). All shown: no note.
func TestShownRoundsAreSaid(t *testing.T) {
	c := &Comparison{Rounds: 10, From: 2, BootReps: 10}
	if got := c.shownRounds(); !slices.Equal(got, []int{2, 3, 4, 5, 7, 8, 9, 10}) {
		t.Fatalf("shown %v", got)
	}
	var b strings.Builder
	c.printTwin(&b)
	if want := "(rounds shown: 8 of the 9 from the unfair treatment's r2 to r10, evenly spaced, the first and the last always; results/network_effects.csv has every round)"; !strings.Contains(b.String(), want) {
		t.Errorf("the summary does not say which rounds it shows (want %q):\n%s", want, b.String())
	}
	if note := (&Comparison{Rounds: 9, From: 2}).roundsNote(); note != "" {
		t.Errorf("all 8 rounds shown, yet the note %q", note)
	}
}
