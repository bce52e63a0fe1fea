package game

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestTPPScheduleProperties(t *testing.T) {
	s := TPPSchedule(42)
	if len(s) != TPPTrials {
		t.Fatalf("%d trials, want 60", len(s))
	}
	seen := map[string]map[[2]int]int{BlockLow: {}, BlockHigh: {}}
	for i, tr := range s {
		if tr.Index != i+1 {
			t.Errorf("trial %d has index %d", i, tr.Index)
		}
		wantBlock, lo, hi := BlockLow, 0, 4
		if i >= 30 {
			wantBlock, lo, hi = BlockHigh, 5, 9
		}
		if tr.Block != wantBlock || tr.Y < lo || tr.Y > hi || tr.X < 10 || tr.X > 15 {
			t.Errorf("trial %d = %+v, want block %s with y in %d..%d and x in 10..15", i+1, tr, wantBlock, lo, hi)
		}
		seen[tr.Block][[2]int{tr.X, tr.Y}]++
	}
	for b, m := range seen {
		if len(m) != 30 {
			t.Errorf("block %s has %d distinct pairs, want 30", b, len(m))
		}
		for p, n := range m {
			if n != 1 {
				t.Errorf("block %s: pair %v occurs %d times", b, p, n)
			}
		}
	}
}

func TestTPPScheduleSeeded(t *testing.T) {
	a, b := TPPSchedule(7), TPPSchedule(7)
	if !slices.Equal(a, b) {
		t.Error("same seed, different schedules")
	}
	c := TPPSchedule(8)
	if slices.Equal(a, c) {
		t.Error("seeds 7 and 8 give the same schedule")
	}
	// Both blocks are shuffled, not left in generation order.
	for _, blk := range [][]Trial{a[:30], a[30:]} {
		if slices.IsSortedFunc(blk, func(p, q Trial) int { return (p.X*10 + p.Y) - (q.X*10 + q.Y) }) {
			t.Error("a block is in sorted order")
		}
	}
	// Over many seeds, the first trial's x is spread over all six values.
	xs := map[int]bool{}
	for seed := range uint64(200) {
		xs[TPPSchedule(seed)[0].X] = true
	}
	if len(xs) != 6 {
		t.Errorf("first trial x over 200 seeds takes %d values, want 6", len(xs))
	}
}

func TestTPPPayoff(t *testing.T) {
	cases := []struct {
		x, y         int
		punish       bool
		p1, p2, judg float64
	}{
		{10, 0, false, 20, 10, 10},
		{10, 0, true, 0, 10, 10},
		{10, 9, true, 0, 10, 1},
		{15, 4, false, 15, 15, 10},
		{15, 4, true, 0, 15, 6},
		{12, 5, true, 0, 12, 5},
		{0, 10, true, 0, 0, 0},    // domain edge
		{30, 0, false, 0, 30, 10}, // domain edge
	}
	for _, c := range cases {
		p1, p2, j := TPPPayoff(c.x, c.y, c.punish)
		if p1 != c.p1 || p2 != c.p2 || j != c.judg {
			t.Errorf("TPPPayoff(%d,%d,%v) = %g,%g,%g want %g,%g,%g", c.x, c.y, c.punish, p1, p2, j, c.p1, c.p2, c.judg)
		}
	}
	for _, bad := range [][2]int{{-1, 0}, {31, 0}, {10, -1}, {10, 11}} {
		if TPPCheck(bad[0], bad[1]) == nil {
			t.Errorf("TPPCheck%v accepted", bad)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("TPPPayoff%v did not panic", bad)
				}
			}()
			TPPPayoff(bad[0], bad[1], true)
		}()
	}
}

func TestTPPGraded(t *testing.T) {
	cases := []struct {
		transfer, points int
		d, r, th         float64
	}{
		{50, 0, 50, 50, 50},
		{0, 0, 100, 0, 50},
		{0, 14, 58, 0, 36},
		{20, 10, 50, 20, 40},
		{50, 17, 0, 50, 33}, // 50 - 51 floors at 0
		{50, 50, 0, 50, 0},  // all points: the third party still pays for each
		{100, 0, 0, 100, 50},
	}
	for _, c := range cases {
		d, r, th, err := TPPGradedPayoff(c.transfer, c.points)
		if err != nil || d != c.d || r != c.r || th != c.th {
			t.Errorf("TPPGradedPayoff(%d,%d) = %g,%g,%g,%v want %g,%g,%g", c.transfer, c.points, d, r, th, err, c.d, c.r, c.th)
		}
	}
	for _, bad := range [][2]int{{-1, 0}, {101, 0}, {0, -1}, {0, 51}} {
		if _, _, _, err := TPPGradedPayoff(bad[0], bad[1]); err == nil {
			t.Errorf("TPPGradedPayoff%v accepted", bad)
		}
	}
	s := TPPGradedSchedule(3)
	var ts []int
	for i, tr := range s {
		if tr.Index != i+1 {
			t.Errorf("index %d at %d", tr.Index, i)
		}
		ts = append(ts, tr.Transfer)
	}
	if !slices.Equal(s, TPPGradedSchedule(3)) {
		t.Error("same seed, different graded schedules")
	}
	differs := false
	for seed := range uint64(20) {
		if !slices.Equal(TPPGradedSchedule(seed), s) {
			differs = true
		}
	}
	if !differs {
		t.Error("graded schedule does not depend on the seed")
	}
	slices.Sort(ts)
	if !slices.Equal(ts, []int{0, 10, 20, 30, 40, 50}) {
		t.Errorf("transfers %v", ts)
	}
	if p := s[0].Params(); p["pie"] != 100 || p["endowment"] != 50 || p["ratio"] != 3 || p["transfer"] != float64(s[0].Transfer) {
		t.Errorf("params %v", p)
	}
	// Exactly 14 and 2.8, as the CSVs print them (QA15 F10: 14.000000000000002).
	if HumanGradedPoints(0) != 14 || HumanGradedPoints(40) != 2.8 || HumanGradedPoints(50) != 0 || HumanGradedPoints(60) != 0 {
		t.Errorf("HumanGradedPoints 0 -> %v, 40 -> %v, 50 -> %g", HumanGradedPoints(0), HumanGradedPoints(40), HumanGradedPoints(50))
	}
}

func TestTPPOutcomeFrom(t *testing.T) {
	tr := Trial{Index: 1, X: 10, Y: 2, Block: BlockLow}
	ok := map[string]float64{"valence_before": -3, "arousal_before": 7, "choice": 1, "valence_after": 1, "arousal_after": 4}
	o := TPPOutcomeFrom(5, tr, ok, nil)
	if !o.Valid || !o.Punish || o.Agent != 5 || o.ValenceBefore != -3 || o.ArousalAfter != 4 {
		t.Errorf("%+v", o)
	}
	ok["choice"] = 0
	if o := TPPOutcomeFrom(5, tr, ok, nil); !o.Valid || o.Punish {
		t.Errorf("accept: %+v", o)
	}
	if o := TPPOutcomeFrom(5, tr, ok, errors.New("refusal: no")); o.Valid || o.Reason != "refusal: no" {
		t.Errorf("reply error: %+v", o)
	}
	bad := map[string]float64{"valence_before": -3, "arousal_before": 7, "choice": 1, "valence_after": 1}
	if o := TPPOutcomeFrom(5, tr, bad, nil); o.Valid || o.Reason == "" {
		t.Errorf("missing field: %+v", o)
	}
	bad["arousal_after"], bad["choice"] = 4, 2
	if o := TPPOutcomeFrom(5, tr, bad, nil); o.Valid {
		t.Errorf("choice 2: %+v", o)
	}
}

func out(agent, x, y int, valid, punish bool) TPPOutcome {
	return TPPOutcome{Agent: agent, Trial: Trial{X: x, Y: y}, Valid: valid, Punish: punish}
}

func TestTPPGridAndCompare(t *testing.T) {
	// A hand-made example: at x=10, y=0 three of four valid trials punish (one invalid trial that
	// says punish must not count); at x=10, y=9 one of two; at x=15, y=0 one of one (fair
	// offer: counts by x, not by y); at x=14, y=0 zero of one.
	trials := []TPPOutcome{
		out(1, 10, 0, true, true), out(2, 10, 0, true, true), out(3, 10, 0, true, true), out(4, 10, 0, true, false),
		out(5, 10, 0, false, true),
		out(1, 10, 9, true, true), out(2, 10, 9, true, false),
		out(1, 15, 0, true, true),
		out(1, 14, 0, true, false),
		out(1, 9, 0, true, true), // outside the schedule: ignored
	}
	g := TPPGrid(trials)
	if g.N[0][0] != 4 || g.Punish[0][0] != 3 || g.Rate[0][0] != 0.75 {
		t.Errorf("cell (10,0): n %d k %d rate %g", g.N[0][0], g.Punish[0][0], g.Rate[0][0])
	}
	if g.N[0][9] != 2 || g.Rate[0][9] != 0.5 || g.Rate[5][0] != 1 || g.Rate[4][0] != 0 {
		t.Errorf("grid %+v", g)
	}
	if !math.IsNaN(g.Rate[2][3]) || g.N[2][3] != 0 {
		t.Errorf("empty cell: %g n %d", g.Rate[2][3], g.N[2][3])
	}
	if r, n := g.ByX(10); n != 6 || math.Abs(r-4.0/6) > 1e-12 {
		t.Errorf("ByX(10) = %g, %d", r, n)
	}
	if r, n := g.ByY(0); n != 5 || r != 0.6 { // x=10: 3/4, x=14: 0/1; x=15 left out
		t.Errorf("ByY(0) = %g, %d", r, n)
	}
	c := CompareHuman(g)
	if len(c.ByX) != 5 || len(c.ByY) != 10 {
		t.Fatalf("levels %d, %d", len(c.ByX), len(c.ByY))
	}
	if d := c.ByX[0]; d.Level != 10 || d.Human != .571 || d.N != 6 || math.Abs(d.Diff-(4.0/6-.571)) > 1e-12 {
		t.Errorf("ByX[0] = %+v", d)
	}
	if d := c.ByX[1]; d.N != 0 || !math.IsNaN(d.Model) {
		t.Errorf("ByX[1] = %+v", d)
	}
	// RMSE over levels with data: x 10 (4/6 - .571) and 14 (0 - .154).
	wantX := math.Sqrt((math.Pow(4.0/6-.571, 2) + math.Pow(.154, 2)) / 2)
	if math.Abs(c.RMSEx-wantX) > 1e-12 {
		t.Errorf("RMSEx %g want %g", c.RMSEx, wantX)
	}
	// y 0: 0.6 vs .713; y 9: 0.5 vs .192.
	wantY := math.Sqrt((math.Pow(0.6-.713, 2) + math.Pow(0.5-.192, 2)) / 2)
	if math.Abs(c.RMSEy-wantY) > 1e-12 {
		t.Errorf("RMSEy %g want %g", c.RMSEy, wantY)
	}
	if e := CompareHuman(TPPGrid(nil)); !math.IsNaN(e.RMSEx) || !math.IsNaN(e.RMSEy) {
		t.Errorf("empty grid RMSE %g %g", e.RMSEx, e.RMSEy)
	}
	// A model that matches the humans exactly has zero RMSE.
	var exact Grid
	for x := 10; x <= 14; x++ {
		for y := range 10 {
			exact.N[x-10][y] = 1000
			exact.Punish[x-10][y] = int(math.Round(HumanTPP.RateByX[x] * 1000))
		}
	}
	if c := CompareHuman(exact); c.RMSEx > 1e-12 {
		t.Errorf("exact by x: RMSE %g", c.RMSEx)
	}
}

func TestTPPGroupMeans(t *testing.T) {
	trials := []TPPOutcome{
		// agent 1: unfair low 1/2, unfair high 0/1, fair low 1/1
		out(1, 10, 0, true, true), out(1, 11, 4, true, false), out(1, 12, 5, true, false), out(1, 15, 1, true, true),
		// agent 2: unfair low 1/1, fair high 0/1, and an invalid trial
		out(2, 13, 3, true, true), out(2, 15, 9, true, false), out(2, 10, 0, false, false),
		// agent 3: only invalid
		out(3, 10, 0, false, true),
	}
	m := TPPGroupMeans("model", trials)
	if m.Group != "model" || m.N != 2 || m.UnfairLow != 0.75 || m.UnfairHigh != 0 || m.FairLow != 1 || m.FairHigh != 0 {
		t.Errorf("%+v", m)
	}
	if h := HumanTPP.Groups[0]; h.Group != "humans" || h.UnfairLow != .533 || h.FairHigh != .079 {
		t.Errorf("human row %+v", h)
	}
	if len(HumanTPP.RateByX) != 5 || len(HumanTPP.RateByY) != 10 || HumanTPP.Source == "" {
		t.Error("HumanTPP tables incomplete")
	}
}
