package game

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
)

func ids(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 100 + i
	}
	return out
}

func TestPartitionGroups(t *testing.T) {
	cases := []struct {
		n, size int
		sizes   []int
	}{
		{8, 4, []int{4, 4}},
		{10, 4, []int{5, 5}}, // 2 leftovers, one to each group
		{11, 4, []int{6, 5}}, // 3 leftovers over 2 groups, round robin
		{7, 4, []int{7}},     // k = 1: all 3 leftovers join the only group
		{3, 4, []int{3}},     // fewer than the size: one group
		{104, 4, nil},
	}
	for _, c := range cases {
		g := PartitionGroups(ids(c.n), c.size, 1)
		var all []int
		var sizes []int
		for _, m := range g {
			if !slices.IsSorted(m) {
				t.Errorf("n=%d: group %v not sorted", c.n, m)
			}
			all = append(all, m...)
			sizes = append(sizes, len(m))
		}
		slices.Sort(all)
		if !slices.Equal(all, ids(c.n)) {
			t.Errorf("n=%d: agents %v are not a partition", c.n, all)
		}
		if c.sizes == nil {
			c.sizes = slices.Repeat([]int{4}, 26)
		}
		if !slices.Equal(sizes, c.sizes) {
			t.Errorf("n=%d size=%d: sizes %v want %v", c.n, c.size, sizes, c.sizes)
		}
	}
	a, b := PartitionGroups(ids(20), 4, 9), PartitionGroups(ids(20), 4, 9)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Error("same seed, different groups")
	}
	if slices.EqualFunc(a, PartitionGroups(ids(20), 4, 10), slices.Equal) {
		t.Error("seeds 9 and 10 give the same groups")
	}
}

func TestPGPayoffsAndPunish(t *testing.T) {
	p, err := PGPayoffs(20, 1.6, []float64{20, 10, 0, 10})
	// sum 40, share 1.6*40/4 = 16
	want := []float64{16, 26, 36, 26}
	if err != nil || !slices.Equal(p, want) {
		t.Errorf("PGPayoffs = %v %v want %v", p, err, want)
	}
	for _, bad := range [][]float64{{21, 0}, {-1, 0}, {math.NaN(), 0}, {}} {
		if _, err := PGPayoffs(20, 1.6, bad); err == nil {
			t.Errorf("PGPayoffs(%v) accepted", bad)
		}
	}
	stage1 := []float64{16, 26, 2, 26}
	pts := [][]float64{
		{0, 0, 0, 0},
		{0, 0, 10, 2}, // member 1 punishes 2 (10 points) and 3 (2 points)
		{0, 0, 0, 0},
		{1, 0, 0, 0},
	}
	final, cost, damage, err := PGPunish(stage1, pts, 3)
	if err != nil {
		t.Fatal(err)
	}
	// member 2 would lose 30 but has 2: damage floors at 2; member 1 pays 12 in full.
	if !slices.Equal(cost, []float64{0, 12, 0, 1}) || !slices.Equal(damage, []float64{3, 0, 2, 6}) ||
		!slices.Equal(final, []float64{13, 14, 0, 19}) {
		t.Errorf("cost %v damage %v final %v", cost, damage, final)
	}
	for _, bad := range [][][]float64{
		{{1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},  // self
		{{0, 11, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}, // too many
		{{0, -1, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
		{{0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
		{{0, 0, 0, 0}},
	} {
		if _, _, _, err := PGPunish(stage1, bad, 3); err == nil {
			t.Errorf("PGPunish(%v) accepted", bad)
		}
	}
}

// play runs a game to the end with contributions and points given by functions of (round,
// agent[, target]); a negative contribution is submitted as an invalid reply.
func play(t *testing.T, g *PGGame, contrib func(r, a int) float64, points func(r, a, b int) float64) {
	t.Helper()
	for g.Stage() != PGDone {
		r := g.Round()
		for _, q := range g.Requests() {
			if q.Round != r {
				t.Fatalf("request round %d in round %d", q.Round, r)
			}
			if q.Target < 0 {
				if c := contrib(r, q.Agent); c < 0 {
					if err := g.Invalid(q.Agent, "no JSON object found"); err != nil {
						t.Fatal(err)
					}
				} else if err := g.Contribute(q.Agent, c); err != nil {
					t.Fatal(err)
				}
			} else if err := g.Punish(q.Agent, q.Target, points(r, q.Agent, q.Target)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := g.Advance(); err != nil {
			t.Fatal(err)
		}
	}
}

func checkConservation(t *testing.T, g *PGGame, endowment, m float64) {
	t.Helper()
	for _, r := range g.History() {
		sumPay, sumC, sumCost, sumDamage, valid := 0.0, 0.0, 0.0, 0.0, 0.0
		for _, a := range r.Agents {
			if !a.Valid {
				continue // sat the round out: no payoff (NaN), no part in the sums
			}
			valid++
			sumPay += a.Payoff
			sumC += a.Contribution * b2f(a.Valid)
			sumCost += a.Cost
			sumDamage += a.Damage
		}
		want := valid*endowment + (m-1)*sumC - sumCost - sumDamage
		if math.Abs(sumPay-want) > 1e-9 {
			t.Errorf("round %d: payoffs sum to %g, want %g", r.Round, sumPay, want)
		}
	}
}

func TestPGGameWithoutPunishment(t *testing.T) {
	agents := ids(10) // groups of 5 and 5
	g, err := NewPG(agents, 4, 3, 20, 1.6, false, 5)
	if err != nil {
		t.Fatal(err)
	}
	reqs := g.Requests()
	if len(reqs) != 10 {
		t.Fatalf("%d requests", len(reqs))
	}
	p := reqs[0].Params
	want := map[string]float64{"endowment": 20, "multiplier": 1.6, "group_size": 5, "round": 1, "rounds": 3,
		"punishment": 0, "others_prev": -1, "own_prev": -1, "punished_prev": 0, "counted_prev": 5}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("round 1 param %s = %g want %g", k, p[k], v)
		}
	}
	if len(p) != len(want) || reqs[0].Scenario != ScenarioPublicGoods || reqs[0].Target != -1 {
		t.Errorf("request %+v", reqs[0])
	}
	contrib := func(r, a int) float64 { return float64((a + r) % 21) }
	play(t, g, contrib, nil)
	h := g.History()
	if len(h) != 3 || g.Round() != 4 {
		t.Fatalf("%d rounds, round %d", len(h), g.Round())
	}
	checkConservation(t, g, 20, 1.6)
	// Payoff by hand for one agent in round 2.
	r2 := h[1]
	a := r2.Agents[0]
	sum := 0.0
	for _, m := range g.Groups()[a.Group] {
		sum += contrib(2, m)
	}
	if w := 20 - contrib(2, a.Agent) + 1.6*sum/5; math.Abs(a.Payoff-w) > 1e-9 {
		t.Errorf("payoff %g want %g", a.Payoff, w)
	}
	// Totals add the rounds.
	tot := 0.0
	for _, r := range h {
		tot += r.Agents[0].Payoff
	}
	if math.Abs(g.Totals()[a.Agent]-tot) > 1e-9 {
		t.Errorf("total %g want %g", g.Totals()[a.Agent], tot)
	}
	if g.Requests() != nil {
		t.Error("requests after the end")
	}
	if _, err := g.Advance(); err == nil {
		t.Error("Advance after the end")
	}
	if err := g.Contribute(agents[0], 1); err == nil {
		t.Error("Contribute after the end")
	}
}

func TestPGGameHistoryParams(t *testing.T) {
	g, err := NewPG([]int{1, 2, 3, 4}, 4, 2, 20, 1.6, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := map[int]float64{1: 10, 2: 20, 3: 0}
	for a, v := range c {
		if err := g.Contribute(a, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Invalid(4, "ambiguous"); err != nil {
		t.Fatal(err)
	}
	r, err := g.Advance()
	if err != nil || r == nil {
		t.Fatal(r, err)
	}
	// Agent 4 sits out: pool 30 shared among 3 valid members: 16 each; its payoff is not
	// determined (QA15 F3: it was paid its endowment, as if it had kept everything).
	for _, a := range r.Agents {
		switch a.Agent {
		case 4:
			if a.Valid || a.Reason != "ambiguous" || !math.IsNaN(a.Payoff) || !math.IsNaN(a.Stage1) || a.Share != 0 {
				t.Errorf("invalid agent %+v", a)
			}
		default:
			if !a.Valid || a.Share != 16 || a.Payoff != 20-c[a.Agent]+16 {
				t.Errorf("agent %+v", a)
			}
		}
	}
	checkConservation(t, g, 20, 1.6)
	byAgent := map[int]map[string]float64{}
	for _, q := range g.Requests() {
		byAgent[q.Agent] = q.Params
	}
	// Each is told that 3 of the 4 members' contributions were counted.
	if p := byAgent[1]; p["round"] != 2 || p["own_prev"] != 10 || p["others_prev"] != 10 || p["counted_prev"] != 3 { // (20+0)/2, agent 4 not counted
		t.Errorf("agent 1 round 2 params %v", p)
	}
	if p := byAgent[4]; p["own_prev"] != -1 || p["others_prev"] != 10 || p["counted_prev"] != 3 { // (10+20+0)/3
		t.Errorf("agent 4 round 2 params %v", p)
	}
	// A missing reply is flagged at Advance; an out-of-range one is flagged at submission.
	if err := g.Contribute(1, 21); err == nil {
		t.Error("contribution 21 accepted")
	}
	if err := g.Contribute(1, 5); err == nil {
		t.Error("second submission accepted")
	}
	if err := g.Contribute(99, 5); err == nil {
		t.Error("unknown agent accepted")
	}
	g.Contribute(2, 5)
	g.Contribute(3, 5)
	r, _ = g.Advance()
	reasons := map[int]string{}
	for _, a := range r.Agents {
		if !a.Valid {
			reasons[a.Agent] = a.Reason
		}
	}
	if len(reasons) != 2 || reasons[4] != "missing reply" || reasons[1] == "" {
		t.Errorf("invalid reasons %v", reasons)
	}
	if g.Stage() != PGDone {
		t.Errorf("stage %s", g.Stage())
	}
	// Agent 4 sat both rounds out: nothing to add, not NaN.
	if tot := g.Totals(); tot[4] != 0 || tot[2] != 20-20+1.6*30/3+20-5+1.6*10/2 {
		t.Errorf("totals %v", tot)
	}
}

func TestPGGameWithPunishment(t *testing.T) {
	agents := ids(8)
	g, err := NewPG(agents, 4, 4, 20, 1.6, true, 11)
	if err != nil {
		t.Fatal(err)
	}
	// Round 1 by hand: check the punishment stage's requests and params.
	for _, a := range agents {
		if a == agents[0] {
			g.Invalid(a, "refusal: no")
			continue
		}
		g.Contribute(a, float64(a%5)*4)
	}
	if r, err := g.Advance(); r != nil || err != nil || g.Stage() != PGPunishStage {
		t.Fatalf("after contributions: %v %v %s", r, err, g.Stage())
	}
	if err := g.Contribute(agents[1], 3); err == nil {
		t.Error("contribution in the punishment stage accepted")
	}
	reqs := g.Requests()
	// Group of agents[0] has 3 valid members (6 pairs), the other group 4 (12 pairs).
	if len(reqs) != 18 {
		t.Errorf("%d punishment requests, want 18", len(reqs))
	}
	for _, q := range reqs {
		if q.Agent == agents[0] || q.Target == agents[0] || q.Agent == q.Target || g.GroupOf(q.Agent) != g.GroupOf(q.Target) {
			t.Errorf("bad pair %d -> %d", q.Agent, q.Target)
		}
		if q.Scenario != ScenarioPublicGoodsPunish || q.Params["ratio"] != 3 || q.Params["endowment"] != 20 ||
			q.Params["own"] != float64(q.Agent%5)*4 || q.Params["target"] != float64(q.Target%5)*4 {
			t.Errorf("request %+v", q)
		}
	}
	if err := g.Punish(agents[0], agents[1], 1); err == nil {
		t.Error("invalid agent allowed to punish")
	}
	q0 := reqs[0]
	if err := g.Punish(q0.Agent, q0.Target, 11); err == nil {
		t.Error("11 points accepted")
	}
	q1 := reqs[1]
	g.Punish(q1.Agent, q1.Target, 10)
	g.InvalidPunish(reqs[2].Agent, reqs[2].Target, "empty reply")
	r, err := g.Advance() // the rest are missing
	if err != nil || r == nil {
		t.Fatal(r, err)
	}
	if len(r.Punishments) != 18 {
		t.Errorf("%d punishments recorded", len(r.Punishments))
	}
	valid := 0
	for _, p := range r.Punishments {
		if p.Valid {
			valid++
			if p.From != q1.Agent || p.To != q1.Target || p.Points != 10 {
				t.Errorf("punishment %+v", p)
			}
		} else if p.Reason == "" || p.Points != 0 {
			t.Errorf("invalid punishment %+v", p)
		}
	}
	if valid != 1 {
		t.Errorf("%d valid punishments", valid)
	}
	for _, a := range r.Agents {
		switch a.Agent {
		case q1.Agent:
			if a.Cost != 10 || a.PointsGiven != 10 || a.Payoff != a.Stage1-10 {
				t.Errorf("punisher %+v", a)
			}
		case q1.Target:
			if a.PointsReceived != 10 || a.Damage != min(30, a.Stage1) || a.Payoff != a.Stage1-a.Damage {
				t.Errorf("target %+v", a)
			}
		}
	}
	checkConservation(t, g, 20, 1.6)
	// punished_prev reaches the target's next request.
	for _, q := range g.Requests() {
		if want := b2f(q.Agent == q1.Target) * 10; q.Params["punished_prev"] != want || q.Params["punishment"] != 1 {
			t.Errorf("agent %d round 2: punished_prev %g want %g", q.Agent, q.Params["punished_prev"], want)
		}
	}
	// The remaining rounds: heavy punishment of low contributors, with floors reached.
	play(t, g, func(r, a int) float64 { return float64((a*r)%3) * 10 },
		func(r, a, b int) float64 {
			if (b*r)%3 == 0 {
				return 10
			}
			return 0
		})
	if len(g.History()) != 4 {
		t.Fatalf("%d rounds", len(g.History()))
	}
	checkConservation(t, g, 20, 1.6)
	floored := false
	for _, r := range g.History() {
		for _, a := range r.Agents {
			if a.Damage < PGRatio*a.PointsReceived {
				floored = true
				if a.Damage != a.Stage1 {
					t.Errorf("floored damage %g != stage-1 payoff %g", a.Damage, a.Stage1)
				}
			}
		}
	}
	if !floored {
		t.Error("the floor was never reached; the test does not test it")
	}
}

func TestNewPGErrors(t *testing.T) {
	for _, c := range []struct {
		agents []int
		size   int
		rounds int
		e, m   float64
	}{
		{[]int{1}, 4, 1, 20, 1.6},
		{[]int{1, 2}, 1, 1, 20, 1.6},
		{[]int{1, 2}, 2, 0, 20, 1.6},
		{[]int{1, 2}, 2, 1, 0, 1.6},
		{[]int{1, 2}, 2, 1, 20, 0},
		{[]int{1, 1}, 2, 1, 20, 1.6},
	} {
		if _, err := NewPG(c.agents, c.size, c.rounds, c.e, c.m, false, 1); err == nil {
			t.Errorf("NewPG(%v, %d, %d, %g, %g) accepted", c.agents, c.size, c.rounds, c.e, c.m)
		}
	}
}

// TrimHistory keeps the last round, which the next round's prompts read.
func TestPGTrimHistory(t *testing.T) {
	play := func(trim bool) ([]PGRequest, int) {
		g, err := NewPG([]int{1, 2, 3, 4}, 2, 3, 20, 1.6, false, 9)
		if err != nil {
			t.Fatal(err)
		}
		for r := range 2 {
			for _, a := range []int{1, 2, 3, 4} {
				if err := g.Contribute(a, float64(a*(r+2))); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := g.Advance(); err != nil {
				t.Fatal(err)
			}
			if trim {
				g.TrimHistory()
			}
		}
		return g.Requests(), len(g.Rounds())
	}
	full, n := play(false)
	trimmed, m := play(true)
	if n != 2 || m != 1 {
		t.Errorf("rounds kept: %d untrimmed, %d trimmed; want 2 and 1", n, m)
	}
	if !reflect.DeepEqual(full, trimmed) {
		t.Errorf("round 3's requests differ once trimmed:\n%+v\n%+v", full, trimmed)
	}
}

// BenchmarkPGParamsAfterARound is a round's prompts' parameters (ParamsOf for every agent
// after a round): per agent it should not grow with the population (it scanned the whole
// last round per agent: quadratic).
func BenchmarkPGParamsAfterARound(b *testing.B) {
	for _, n := range []int{1000, 8000} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			agents := make([]int, n)
			for i := range agents {
				agents[i] = i + 1
			}
			g, err := NewPG(agents, 4, 2, 20, 1.6, false, 1)
			if err != nil {
				b.Fatal(err)
			}
			for _, a := range agents {
				g.Contribute(a, float64(a%21))
			}
			if _, err := g.Advance(); err != nil {
				b.Fatal(err)
			}
			qs := g.Pending()
			b.ResetTimer()
			for b.Loop() {
				for _, q := range qs {
					g.ParamsOf(q)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/agent")
		})
	}
}
