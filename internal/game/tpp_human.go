package game

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// TPPOutcome is one agent's answer to one TPP trial.
type TPPOutcome struct {
	Agent int
	Trial Trial
	// Valid is false when the reply could not be used (Reason says why); invalid trials are
	// left out of every rate.
	Valid  bool
	Reason string
	Punish bool
	// Emotion ratings: valence -4..4, arousal 1..9, before and after the choice.
	ValenceBefore, ArousalBefore, ValenceAfter, ArousalAfter float64
}

// TPPOutcomeFrom builds an outcome from a tpp reply's parsed values (field names of the tpp
// scenario; choice is the option index, 0 accept, 1 punish). A non-nil replyErr (the reply's
// invalid-reason) or a missing or out-of-range field makes the outcome invalid.
func TPPOutcomeFrom(agent int, t Trial, values map[string]float64, replyErr error) TPPOutcome {
	o := TPPOutcome{Agent: agent, Trial: t}
	if replyErr != nil {
		o.Reason = replyErr.Error()
		return o
	}
	get := func(name string, lo, hi float64) (float64, bool) {
		v, ok := values[name]
		if !ok {
			o.Reason = fmt.Sprintf("missing field %q", name)
			return 0, false
		}
		if err := inRange(name, v, lo, hi); err != nil {
			o.Reason = err.Error()
			return 0, false
		}
		return v, true
	}
	var ok bool
	var c float64
	if c, ok = get("choice", 0, 1); !ok || c != math.Trunc(c) {
		if ok {
			o.Reason = fmt.Sprintf("choice: %g is not an option index", c)
		}
		return o
	}
	if o.ValenceBefore, ok = get("valence_before", -4, 4); !ok {
		return o
	}
	if o.ArousalBefore, ok = get("arousal_before", 1, 9); !ok {
		return o
	}
	if o.ValenceAfter, ok = get("valence_after", -4, 4); !ok {
		return o
	}
	if o.ArousalAfter, ok = get("arousal_after", 1, 9); !ok {
		return o
	}
	o.Valid = true
	o.Punish = int(c) == ChoicePunish
	return o
}

// Grid is the punishment rate by Player 2's share x (10..15, row x-10) and cost y (0..9), with
// the number of valid trials per cell. Rate is NaN where N is 0.
type Grid struct {
	Punish [6][10]int
	N      [6][10]int
	Rate   [6][10]float64
}

// TPPGrid counts valid trials by (x, y); invalid trials and trials outside the schedule's
// x 10..15, y 0..9 are not counted.
func TPPGrid(trials []TPPOutcome) Grid {
	var g Grid
	for _, o := range trials {
		x, y := o.Trial.X-TPPMinX, o.Trial.Y-TPPMinY
		if !o.Valid || x < 0 || x >= 6 || y < 0 || y >= 10 {
			continue
		}
		g.N[x][y]++
		if o.Punish {
			g.Punish[x][y]++
		}
	}
	g.FillRates()
	return g
}

// FillRates sets Rate from the counts Punish and N (NaN where N is 0), for a grid counted
// elsewhere (a study that keeps counts instead of outcomes).
func (g *Grid) FillRates() {
	for i := range g.Rate {
		for j := range g.Rate[i] {
			g.Rate[i][j] = ratio(g.Punish[i][j], g.N[i][j])
		}
	}
}

func ratio(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// ByX is the punishment rate for share x over all costs, pooled by trial, and its n.
func (g Grid) ByX(x int) (rate float64, n int) {
	k := 0
	if x < TPPMinX || x > TPPMaxX {
		return math.NaN(), 0
	}
	for y := 0; y < 10; y++ {
		k += g.Punish[x-TPPMinX][y]
		n += g.N[x-TPPMinX][y]
	}
	return ratio(k, n), n
}

// ByY is the punishment rate at cost y over the unfair shares x 10..14 (x = 15 left out, as
// in the human reference), pooled by trial, and its n.
func (g Grid) ByY(y int) (rate float64, n int) {
	k := 0
	if y < TPPMinY || y > TPPMaxY {
		return math.NaN(), 0
	}
	for x := TPPMinX; x < TPPMaxX; x++ {
		k += g.Punish[x-TPPMinX][y]
		n += g.N[x-TPPMinX][y]
	}
	return ratio(k, n), n
}

// Diff is one level of a comparison with the human reference.
type Diff struct {
	Level int     // x or y
	Model float64 // the simulated rate (NaN when N is 0)
	Human float64
	Diff  float64 // Model - Human (NaN when N is 0)
	N     int     // valid simulated trials at this level
}

// Comparison sets simulated punishment rates against the human reference. RMSEx and RMSEy
// are root mean squared differences over the levels with N > 0 (NaN when there are none).
type Comparison struct {
	ByX, ByY     []Diff
	RMSEx, RMSEy float64
}

// CompareHuman compares a grid with HumanTPP: by x for x 10..14 (all costs pooled) and by y for
// y 0..9 (unfair shares x < 15 pooled), the definitions of the human tables.
func CompareHuman(g Grid) Comparison {
	var c Comparison
	for x := TPPMinX; x < TPPMaxX; x++ {
		m, n := g.ByX(x)
		c.ByX = append(c.ByX, diff(x, m, HumanTPP.RateByX[x], n))
	}
	for y := TPPMinY; y <= TPPMaxY; y++ {
		m, n := g.ByY(y)
		c.ByY = append(c.ByY, diff(y, m, HumanTPP.RateByY[y], n))
	}
	c.RMSEx, c.RMSEy = rmse(c.ByX), rmse(c.ByY)
	return c
}

func diff(level int, model, human float64, n int) Diff {
	return Diff{Level: level, Model: model, Human: human, Diff: model - human, N: n}
}

func rmse(ds []Diff) float64 {
	s, k := 0.0, 0
	for _, d := range ds {
		if d.N > 0 {
			s += d.Diff * d.Diff
			k++
		}
	}
	if k == 0 {
		return math.NaN()
	}
	return math.Sqrt(s / float64(k))
}

// GroupMeans are participant-level mean punishment rates in the four cells of the human
// reference's table: unfair (x < 15) or fair (x = 15), low-cost block (y 0-4) or high (y 5-9).
type GroupMeans struct {
	Group                                    string
	UnfairLow, UnfairHigh, FairLow, FairHigh float64
	N                                        int // participants
}

// TPPGroupMeans computes GroupMeans from outcomes: each agent's rate per cell over its valid
// trials, then the mean over agents that have valid trials in that cell (NaN if none). N counts
// agents with at least one valid trial.
func TPPGroupMeans(group string, trials []TPPOutcome) GroupMeans {
	per := map[int]*TPPCells{}
	for _, o := range trials {
		i, ok := TPPCellOf(o)
		if !ok {
			continue
		}
		a := per[o.Agent]
		if a == nil {
			a = &TPPCells{}
			per[o.Agent] = a
		}
		a.Add(i, o.Punish)
	}
	return GroupMeansOf(group, per)
}

// TPPCells are one participant's valid trials (N) and punishments (K) in the four cells of
// GroupMeans: unfair low cost, unfair high, fair low, fair high.
type TPPCells [4]struct{ K, N int }

// Add counts a trial of cell i, punished or not.
func (c *TPPCells) Add(i int, punish bool) {
	c[i].N++
	if punish {
		c[i].K++
	}
}

// TPPCellOf is the cell of GroupMeans a trial counts in; false for a trial that is not counted
// (invalid, or outside x 10..15, y 0..9).
func TPPCellOf(o TPPOutcome) (int, bool) {
	if !o.Valid || o.Trial.X < TPPMinX || o.Trial.X > TPPMaxX || o.Trial.Y < TPPMinY || o.Trial.Y > TPPMaxY {
		return 0, false
	}
	i := 0
	if o.Trial.X == TPPMaxX {
		i = 2
	}
	if o.Trial.Y >= 5 {
		i++
	}
	return i, true
}

// GroupMeansOf computes GroupMeans from each participant's counts (by participant id; a
// participant is in per only with a valid trial).
func GroupMeansOf(group string, per map[int]*TPPCells) GroupMeans {
	var sum [4]float64
	var cnt [4]int
	// In agent order: a sum over the map's random order could round either way.
	for _, id := range slices.Sorted(maps.Keys(per)) {
		for i, c := range per[id] {
			if c.N > 0 {
				sum[i] += float64(c.K) / float64(c.N)
				cnt[i]++
			}
		}
	}
	m := func(i int) float64 {
		if cnt[i] == 0 {
			return math.NaN()
		}
		return sum[i] / float64(cnt[i])
	}
	return GroupMeans{Group: group, UnfairLow: m(0), UnfairHigh: m(1), FairLow: m(2), FairHigh: m(3), N: len(per)}
}

// HumanTPPData is the human reference of Study 2.
type HumanTPPData struct {
	Source string
	// RateByX is the punishment rate by Player 2's share x (10..14), all costs pooled.
	RateByX map[int]float64
	// RateByY is the punishment rate by cost y (0..9), unfair shares x < 15 pooled.
	RateByY map[int]float64
	// Groups are participant-level means; the first row is humans, the others are LLMs playing
	// the same game as personas (n = 1,017 each).
	Groups []GroupMeans
	// ValenceByX is the humans' pre-choice valence on a -100..100 scale by x (10..14).
	ValenceByX map[int]float64
}

// HumanTPP is the human reference for third-party punishment: the open data of "Outraged AI: LLMs prioritise emotion over
// cost in fairness enforcement" (arXiv 2510.17880), 1,017 adults in the identical game ($30
// split, third party earns $10, punishing costs y and sets Player 1 to 0; x 10..15, y 0..9; 60
// trials, low-cost block then high-cost block), recomputed from the group's published aggregates.
var HumanTPP = HumanTPPData{
	Source: "Outraged AI: LLMs prioritise emotion over cost in fairness enforcement, arXiv 2510.17880 (open data; n = 1,017 adults)",
	RateByX: map[int]float64{
		10: .571, 11: .519, 12: .437, 13: .322, 14: .154,
	},
	RateByY: map[int]float64{
		0: .713, 1: .601, 2: .532, 3: .438, 4: .377, 5: .380, 6: .311, 7: .241, 8: .219, 9: .192,
	},
	Groups: []GroupMeans{
		{Group: "humans", UnfairLow: .533, UnfairHigh: .269, FairLow: .122, FairHigh: .079, N: 1017},
		{Group: "GPT-3.5-turbo-0125", UnfairLow: .902, UnfairHigh: .940, FairLow: .554, FairHigh: .511, N: 1017},
		{Group: "DeepSeek-V3", UnfairLow: .983, UnfairHigh: .984, FairLow: 0, FairHigh: 0, N: 1017},
		{Group: "o3-mini", UnfairLow: .922, UnfairHigh: .716, FairLow: .006, FairHigh: .006, N: 1017},
		{Group: "DeepSeek-R1", UnfairLow: .966, UnfairHigh: .897, FairLow: .116, FairHigh: .084, N: 1017},
	},
	ValenceByX: map[int]float64{10: -8.6, 11: -6.8, 12: -4.8, 13: -2.5, 14: 3.5},
}

// HumanGradedData is the graded-TPP human reference.
type HumanGradedData struct {
	Source             string
	ShareWhoPunish     float64 // of third parties, for transfers below 50
	PointsAtZero       float64 // mean points at a zero transfer
	PointsPerShortfall float64 // mean points per unit of 50 - transfer
}

// HumanGraded is the classic graded-TPP reference (Fehr & Fischbacher 2004): about 60% of third parties punish transfers below half,
// spending about 14 points on a zero transfer; mean points are roughly 0.28 x (50 - transfer).
var HumanGraded = HumanGradedData{"Fehr & Fischbacher 2004, Evolution and Human Behavior 25:63-87", 0.60, 14, 0.28}

// HumanGradedPoints is the reference mean points at a transfer: 0.28 x (50 - transfer), 0 at or
// above 50; rounded to hundredths, the precision of 0.28 times a whole shortfall, so the
// tables show 14 and 2.8, not the binary product 14.000000000000002 (QA15 F10).
func HumanGradedPoints(transfer int) float64 {
	if transfer >= 50 {
		return 0
	}
	return math.Round(100*HumanGraded.PointsPerShortfall*float64(50-transfer)) / 100
}
