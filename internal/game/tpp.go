package game

import (
	"fmt"
	"math/rand/v2"
)

// Terms of the binary third-party punishment game of Study 2 (the design of the human
// reference, HumanTPP in tpp_human.go).
const (
	TPPPie   = 30 // Player 1 splits this between Player 1 and Player 2 ($)
	TPPJudge = 10 // the third party's (the agent's) endowment ($)
	TPPMinX  = 10 // smallest share Player 2 gets in the schedule
	TPPMaxX  = 15 // largest share: the equal split, the fair control
	TPPMinY  = 0  // smallest cost of punishing
	TPPMaxY  = 9  // largest cost of punishing
	// TPPTrials is the number of trials per agent: 6 shares x 10 costs.
	TPPTrials = 60
)

// Blocks of the TPP schedule.
const (
	BlockLow  = "low"  // trials 1-30, costs 0-4
	BlockHigh = "high" // trials 31-60, costs 5-9
)

// Trial is one round of the TPP schedule: Player 2 gets X of the $30 and punishing costs the
// agent Y.
type Trial struct {
	Index int    // 1..60, the position in the schedule
	X, Y  int    // Player 2's share (10..15) and the cost of punishing (0..9)
	Block string // BlockLow or BlockHigh
}

// Params are the tpp scenario's template parameters for this trial: x, y, pie and judge.
func (t Trial) Params() map[string]float64 {
	return map[string]float64{"x": float64(t.X), "y": float64(t.Y), "pie": TPPPie, "judge": TPPJudge}
}

// TPPSchedule is the 60-trial schedule of one agent: trials 1-30 are the low-cost block (costs
// 0-4), trials 31-60 the high-cost block (costs 5-9); within each block every (x, y) pair with x
// in 10..15 occurs exactly once, in an order drawn from seed. The same seed gives the same
// schedule. Derive a seed per agent (and replicate) for per-agent orders, as the original did.
func TPPSchedule(seed uint64) []Trial {
	r := rand.New(rand.NewPCG(seed, streamTPP))
	out := make([]Trial, 0, TPPTrials)
	for _, b := range []struct {
		name   string
		lo, hi int
	}{{BlockLow, 0, 4}, {BlockHigh, 5, 9}} {
		var block []Trial
		for x := TPPMinX; x <= TPPMaxX; x++ {
			for y := b.lo; y <= b.hi; y++ {
				block = append(block, Trial{X: x, Y: y, Block: b.name})
			}
		}
		r.Shuffle(len(block), func(i, j int) { block[i], block[j] = block[j], block[i] })
		out = append(out, block...)
	}
	for i := range out {
		out[i].Index = i + 1
	}
	return out
}

// TPPCheck reports whether (x, y) is a playable binary TPP trial: 0 <= x <= 30 and
// 0 <= y <= 10 (the schedule only uses 10..15 and 0..9, but the rules hold on this domain).
func TPPCheck(x, y int) error {
	if x < 0 || x > TPPPie {
		return fmt.Errorf("tpp: x = %d is outside 0..%d", x, TPPPie)
	}
	if y < 0 || y > TPPJudge {
		return fmt.Errorf("tpp: y = %d is outside 0..%d", y, TPPJudge)
	}
	return nil
}

// TPPPayoff is the payoff of a binary TPP trial. Accepting leaves Player 1 with 30-x, Player 2
// with x and the third party with 10; punishing costs the third party y (it earns 10-y) and sets
// Player 1's earnings to 0, leaving Player 2's x untouched.
//
// It panics when TPPCheck(x, y) fails: schedules only produce valid trials, and parameters
// from elsewhere must be checked first.
func TPPPayoff(x, y int, punish bool) (p1, p2, judge float64) {
	if err := TPPCheck(x, y); err != nil {
		panic(err)
	}
	if punish {
		return 0, float64(x), float64(TPPJudge - y)
	}
	return float64(TPPPie - x), float64(x), TPPJudge
}

// Terms of the graded third-party punishment game (Fehr & Fischbacher 2004): the dictator
// has 100 and transfers t to the recipient; the third party has 50 and may assign punishment
// points, each costing the third party 1 and removing 3 from the dictator.
const (
	GradedPie       = 100 // the dictator's endowment
	GradedEndowment = 50  // the third party's endowment; also the most points it can assign
	GradedRatio     = 3   // what one point removes from the dictator
)

// GradedTransfers are the transfers of the graded design's strategy method (Fehr &
// Fischbacher 2004): 0, 10, ..., 50.
var GradedTransfers = []int{0, 10, 20, 30, 40, 50}

// TPPGradedPayoff is the payoff of a graded TPP decision: the dictator keeps 100-transfer and
// loses 3 per point, the recipient gets transfer, the third party keeps 50-points.
//
// Floor: the dictator's payoff never goes below 0; points beyond what it takes to reach 0 still
// cost the third party 1 each (the third party chose them). transfer must be in 0..100 and
// points in 0..50 (the third party cannot spend more than its endowment).
func TPPGradedPayoff(transfer, points int) (dictator, recipient, third float64, err error) {
	if transfer < 0 || transfer > GradedPie {
		return 0, 0, 0, fmt.Errorf("tpp_graded: transfer %d is outside 0..%d", transfer, GradedPie)
	}
	if points < 0 || points > GradedEndowment {
		return 0, 0, 0, fmt.Errorf("tpp_graded: points %d is outside 0..%d", points, GradedEndowment)
	}
	dictator = float64(GradedPie - transfer - GradedRatio*points)
	if dictator < 0 {
		dictator = 0
	}
	return dictator, float64(transfer), float64(GradedEndowment - points), nil
}

// GradedTrial is one decision of the graded TPP schedule.
type GradedTrial struct {
	Index    int // 1..len(GradedTransfers)
	Transfer int
}

// Params are the tpp_graded scenario's template parameters for this trial: transfer, pie,
// endowment and ratio.
func (t GradedTrial) Params() map[string]float64 {
	return map[string]float64{"transfer": float64(t.Transfer), "pie": GradedPie,
		"endowment": GradedEndowment, "ratio": GradedRatio}
}

// TPPGradedSchedule asks about every transfer in GradedTransfers once (the strategy method),
// in an order drawn from seed.
func TPPGradedSchedule(seed uint64) []GradedTrial {
	r := rand.New(rand.NewPCG(seed, streamTPPGraded))
	ts := append([]int(nil), GradedTransfers...)
	r.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
	out := make([]GradedTrial, len(ts))
	for i, t := range ts {
		out[i] = GradedTrial{Index: i + 1, Transfer: t}
	}
	return out
}
