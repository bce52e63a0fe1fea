package games

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/seed"
)

// The public goods figures of humans are of Fehr & Gächter's design (groups of 4, MPCR 0.4,
// ten rounds): a game of another design gets none beside it (QA: round 1 of a one-round game
// was set beside humans' 58.9% contributing nothing in round 10 of 10).
func TestPublicGoodsHumanFiguresOnlyForTheirDesign(t *testing.T) {
	play := func(in GameInstance) []GameStat {
		var rows []gameRow
		for g := 1; g <= 3; g++ {
			for a := 1; a <= in.GroupSize; a++ {
				for r := 1; r <= in.Rounds; r++ {
					rows = append(rows, gameRow{row: row{round: r, group: g, agent: 10*g + a, role: "member", choice: float64(a % 3 * 10), valid: true}, runID: "none.r1"})
				}
			}
		}
		st, _ := pgStats(in, slices.Values(rows), slices.Values([]punishRow(nil)), seed.Hash{})
		return st
	}
	fg := GameInstance{Name: "public_goods", Game: "public_goods", Endowment: 20, Multiplier: 1.6, GroupSize: 4, Rounds: 10}
	for _, s := range play(fg) {
		if strings.Contains(s.HumanText, "none for this design") {
			t.Errorf("F&G's own design: %s: %q", s.Measure, s.HumanText)
		}
	}
	if st := play(fg); math.IsNaN(st[len(st)-1].Human) {
		t.Errorf("F&G's design: %s has no human figure", st[len(st)-1].Measure)
	}
	for _, tc := range []struct {
		in      GameInstance
		first   bool // round 1's figure still applies
		because string
	}{
		{GameInstance{Name: "pg3", Game: "public_goods", Endowment: 20, Multiplier: 1.6, GroupSize: 4, Rounds: 3}, true, "3 rounds"},
		{GameInstance{Name: "pg1", Game: "public_goods", Endowment: 20, Multiplier: 1.6, GroupSize: 4, Rounds: 1}, true, "1 round;"},
		{GameInstance{Name: "pg5", Game: "public_goods", Endowment: 20, Multiplier: 2, GroupSize: 5, Rounds: 10}, false, "groups of 5"},
	} {
		for _, s := range play(tc.in) {
			isFirst := strings.HasPrefix(s.Measure, "round 1 ")
			if isFirst && tc.first {
				if math.IsNaN(s.Human) {
					t.Errorf("%s: round 1's range is of any number of rounds", tc.in.Name)
				}
				continue
			}
			if !math.IsNaN(s.Human) || !strings.Contains(s.HumanText, "none for this design") || !strings.Contains(s.HumanText, tc.because) {
				t.Errorf("%s: %s: human %v %q, want none because of %q", tc.in.Name, s.Measure, s.Human, s.HumanText, tc.because)
			}
		}
	}
}
