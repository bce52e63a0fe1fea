package network

import "math"

// The contagion label: which agents of an inequity run are "affected" in a round, judged
// against their control twin (the same agent in the control run of the same replicate, which
// shares population, graph, activations and random numbers).
//
// # The rule (reliable change against the twin)
//
// Ratings are willingness on 1-7 (scale.to7). For agent u in round t >= From (the first round
// of unfair treatment), with x its rating in the inequity run and c its twin's:
//
//   - noise band S: the twin's day-to-day variation, the root mean square of its successive
//     changes c(s) - c(s-1) over rounds s <= t where both are valid (sqrt of the mean squared
//     successive difference, which estimates the SD of a difference of two ratings, the S_diff
//     of a reliable-change index). A handful of changes estimates it poorly (one change of 0
//     would make every one-point fall "reliable"), so the agent's sum of squared changes is
//     pooled with LabelPrior pseudo-changes at the mean square of all twins of the run so far
//     (partial pooling toward the run's noise). It uses rounds up to t only, so it is computed
//     online (the summary store keeps no history). No valid twin change yet: no band, no label.
//   - band = max(LabelZ * S, LabelFloor): a change must exceed LabelZ noise SDs (one-sided,
//     erosion is a directional hypothesis) and at least one scale point.
//   - baseline b: the agent's mean rating over the rounds before From in the inequity run
//     (the same decisions as its twin's there); with From = 1 the twin's rating of round t.
//
// The agent is affected in round t iff x and c are valid and
//
//	(A) x - b <= -band        its willingness fell reliably (beyond its own noise band),
//	(B) c - b >  -band        its twin did not show a reliable fall of its own,
//	(C) x - c <= -LabelFloor  and it is at least one point below its twin.
//
// The label is per round, not absorbing: an agent that recovers is no longer affected.
// An invalid decision (its own or its twin's) is not affected that round. Unfairness is not
// part of the label (it is reported as an outcome): one test, one false-positive rate.
// With common random numbers and no effect, x = c in every round and (A) and (B) cannot both
// hold, so noise alone never trips the label; without them (an LLM ignoring the seed) the
// chance is bounded by the one-sided LabelZ test of (A).
//
// The placebo (no twin exists for the control) applies (A) alone to the control's own ratings
// with its own day-to-day band and pre-period baseline: what noise gives the label's first test.

// LabelZ is the number of noise SDs a reliable change must exceed (one-sided 5%).
const LabelZ = 1.645

// LabelPrior is the weight, in successive changes, of the run's pooled noise in each agent's band.
const LabelPrior = 4

// LabelFloor is the smallest change that counts, in points on 1-7.
const LabelFloor = 1.0

// Obs is one agent's rating in one round on 1-7; OK false when the decision was invalid.
type Obs struct {
	W  float64
	OK bool
}

// Labeler labels the agents of one run against their twins round by round, keeping O(n)
// state (no history): rounds must be given in order 1, 2, ...
type Labeler struct {
	from    int
	placebo bool
	// Per agent: pre-period sum and count, the twin's previous rating, the sum of squared
	// successive changes and their count.
	baseSum      []float64
	baseN        []int32
	prevC        []float64
	prevOK       []bool
	sqSum        []float64
	sqN          []int32
	poolSum      float64 // every twin's squared changes so far
	poolN        int
	round        int
	affectedLast []bool
}

// NewLabeler labels n agents of an inequity run whose unfair treatment starts at round from.
func NewLabeler(n, from int) *Labeler {
	return &Labeler{from: from, baseSum: make([]float64, n), baseN: make([]int32, n), prevC: make([]float64, n),
		prevOK: make([]bool, n), sqSum: make([]float64, n), sqN: make([]int32, n), affectedLast: make([]bool, n)}
}

// NewPlaceboLabeler applies test (A) alone to a control run's own ratings (pass them as both x
// and c to Step): the placebo.
func NewPlaceboLabeler(n, from int) *Labeler {
	l := NewLabeler(n, from)
	l.placebo = true
	return l
}

// Band is the noise band of a twin with day-to-day RMS change s (NaN: unknown).
func Band(s float64) float64 { return math.Max(LabelZ*s, LabelFloor) }

// Affected is the rule for one agent and round from its rating x, its twin's c, its
// baseline b and the twin's day-to-day RMS change s (all on 1-7).
func Affected(x, c, b, s float64) bool {
	if math.IsNaN(s) || math.IsNaN(b) {
		return false
	}
	band := Band(s)
	return x-b <= -band && c-b > -band && x-c <= -LabelFloor
}

// Step takes round t's ratings of the run (x) and of the twins (c), and writes the labels
// into out (len n; it may be nil). It returns how many are affected.
func (l *Labeler) Step(t int, x, c []Obs, out []bool) int {
	if t != l.round+1 {
		panic("network.Labeler: rounds out of order")
	}
	l.round = t
	for u := range l.baseSum {
		cu := c[u]
		if cu.OK && l.prevOK[u] {
			d := cu.W - l.prevC[u]
			l.sqSum[u] += d * d
			l.sqN[u]++
			l.poolSum += d * d
			l.poolN++
		}
		l.prevC[u], l.prevOK[u] = cu.W, cu.OK
	}
	pool := 0.0
	if l.poolN > 0 {
		pool = l.poolSum / float64(l.poolN)
	}
	k := 0
	for u := range l.baseSum {
		cu := c[u]
		xu := x[u]
		if t < l.from {
			if xu.OK {
				l.baseSum[u] += xu.W
				l.baseN[u]++
			}
			l.affectedLast[u] = false
			if out != nil {
				out[u] = false
			}
			continue
		}
		a := false
		if xu.OK && cu.OK && l.sqN[u] > 0 {
			s := math.Sqrt((l.sqSum[u] + LabelPrior*pool) / (float64(l.sqN[u]) + LabelPrior))
			b := cu.W
			if l.baseN[u] > 0 {
				b = l.baseSum[u] / float64(l.baseN[u])
			}
			if l.placebo {
				a = l.baseN[u] > 0 && xu.W-b <= -Band(s)
			} else {
				a = Affected(xu.W, cu.W, b, s)
			}
		}
		l.affectedLast[u] = a
		if out != nil {
			out[u] = a
		}
		if a {
			k++
		}
	}
	return k
}

// Last is the labels of the last round given (read-only).
func (l *Labeler) Last() []bool { return l.affectedLast }
