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
		st, _ := pgStats(in, slices.Values([]pgRound{{rows: rows}}), seed.Hash{}, false)
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

// The live view of a public goods game under way: its trajectory counts the groups that have
// played (not the most of any one round), and the final round's figure counts the groups that
// played it.
func TestPublicGoodsGroupsCountedUnderWay(t *testing.T) {
	in := GameInstance{Name: "public_goods", Game: "public_goods", Endowment: 20, Multiplier: 1.6, GroupSize: 2, Rounds: 3}
	member := func(run string, g, a, r int) gameRow {
		return gameRow{row: row{round: r, group: g, agent: 10*g + a, role: "member", choice: 10, valid: true}, runID: run}
	}
	// Run r1's two groups have played rounds 1 and 2; run r2's group 1 has played round 1, its
	// group 2 rounds 1 (no valid contribution) and 2.
	var rounds []pgRound
	for r := 1; r <= 2; r++ {
		var rd pgRound
		for g := 1; g <= 2; g++ {
			rd.rows = append(rd.rows, member("r1", g, 1, r), member("r1", g, 2, r))
		}
		rounds = append(rounds, rd)
	}
	invalid := member("r2", 2, 1, 1)
	invalid.valid = false
	rounds = append(rounds, pgRound{rows: []gameRow{member("r2", 1, 1, 1), member("r2", 1, 2, 1), invalid}})
	rounds = append(rounds, pgRound{rows: []gameRow{member("r2", 2, 1, 2)}})
	st, tr := pgStats(in, slices.Values(rounds), seed.Hash{}, false)
	if tr.Groups != 4 || !slices.Equal(tr.N, []int{3, 3, 0}) {
		t.Errorf("groups %d, by round %v; want 4, [3 3 0]", tr.Groups, tr.N)
	}
	for _, s := range st {
		if strings.HasPrefix(s.Measure, "round 3 ") && s.N != 0 {
			t.Errorf("%s: n %d, want 0 (no group has played it)", s.Measure, s.N)
		}
	}
}

// Leftover agents make some groups one larger (game.PGGame): the human references of such a
// game name the sizes played and the MPCR of each (QA15 F3: 41 agents in groups of 3 were
// summarised as "groups of 3, MPCR 0.667" though two groups of 4 played at 0.5).
func TestPublicGoodsNamesTheGroupSizesPlayed(t *testing.T) {
	play := func(in GameInstance, sizes ...int) []GameStat {
		var rows []gameRow
		for g, n := range sizes {
			for a := 1; a <= n; a++ {
				for r := 1; r <= in.Rounds; r++ {
					rows = append(rows, gameRow{row: row{round: r, group: g + 1, agent: 10*g + a, role: "member", choice: float64(a % 3 * 10), valid: a != 2 || r != 1}, runID: "none.r1"})
				}
			}
		}
		st, tr := pgStats(in, slices.Values([]pgRound{{rows: rows}}), seed.Hash{}, false)
		if want := slices.Compact(slices.Sorted(slices.Values(sizes))); !slices.Equal(tr.Sizes, want) {
			t.Errorf("%s: sizes %v, want %v (an invalid member still counts)", in.Name, tr.Sizes, want)
		}
		return st
	}
	fg := GameInstance{Name: "fg", Game: "public_goods", Endowment: 20, Multiplier: 1.6, GroupSize: 4, Rounds: 10}
	for _, s := range play(fg, 4, 5, 4) {
		if !strings.Contains(s.HumanText, "played in groups of 4 (MPCR 0.4) and of 5 (MPCR 0.32)") {
			t.Errorf("%s: %q does not name the sizes played", s.Measure, s.HumanText)
		}
	}
	for _, s := range play(fg, 4, 4) {
		if strings.Contains(s.HumanText, "played in") {
			t.Errorf("%s: %q names sizes though all are 4", s.Measure, s.HumanText)
		}
	}
	g3 := GameInstance{Name: "g3", Game: "public_goods", Endowment: 10, Multiplier: 2, GroupSize: 3, Rounds: 3}
	for _, s := range play(g3, 3, 4, 3) {
		if !strings.Contains(s.HumanText, "none for this design (groups of 3 (MPCR 0.667) and of 4 (MPCR 0.5)") {
			t.Errorf("%s: %q", s.Measure, s.HumanText)
		}
	}
}
