package network

import "math"

// The contagion label: which agents of an inequity run are "affected" in a round, judged
// against their control twin (the same agent in the control run of the same replicate, which
// shares population, graph, activations and random numbers).
//
// # The rule (reliable change against the twin)
//
// Ratings are willingness on 1-7 (scale.to7). The baseline rounds are those before From (the
// first round of unfair treatment), round 1 alone when From is 1 (then labels start in round
// 2). For agent u in a later round t, with x its rating in the inequity run and c its twin's:
//
//   - baselines bx, bc: the mean of the agent's, and of its twin's, valid baseline ratings
//     (the same decisions with common random numbers; not so for an LLM ignoring the seed).
//   - changes dx = x - bx and dc = c - bc.
//   - noise band S: how far the twin strays from its own baseline from day to day, the root
//     mean square of c(s) - bc over the valid rounds From..t (so a twin whose ratings drift or
//     persist gets a wide band, as a reliable-change index's S_diff). A few rounds estimate it
//     poorly (a twin that never moved would make every one-point fall "reliable"), so the
//     agent's sum of squares is pooled with LabelPrior pseudo-rounds at the mean square of all
//     twins of the run so far (partial pooling toward the run's noise). It uses rounds up to
//     t only, so it is computed online (the summary store keeps no history).
//   - band = max(LabelZ * S, LabelFloor): a change must exceed LabelZ noise SDs (one-sided,
//     erosion is a directional hypothesis) and at least one scale point.
//
// The agent is affected in round t iff x, c and both baselines are valid and
//
//	(A) dx <= -band             its willingness fell reliably (beyond its own noise band),
//	(B) dc >  -band             its twin did not show a reliable fall of its own,
//	(C) dx - dc <= -LabelFloor  and it fell at least one point more than its twin.
//
// The label is per round, not absorbing: an agent that recovers is no longer affected.
// An invalid decision (its own or its twin's) is not affected that round. Unfairness is not
// part of the label (it is reported as an outcome): one test, one false-positive rate.
// With common random numbers and no effect, x = c in every round and (A) and (B) cannot both
// hold, so noise alone never trips the label; without them (an LLM ignoring the seed) the
// chance is about that of the one-sided LabelZ test (A).
//
// # The placebo: what noise alone gives
//
// Estimand: per pseudo-exposure group and round, the share of agent-runs the label marks
// affected when nothing is treated and the twin shares no random numbers with the run: the
// label's false-positive rate in the worst case for the comparison (an LLM that ignores the
// seed; with common random numbers honoured the real comparison's noise is smaller, zero for
// the behavioural model). The control against itself would give 0 whatever the label, so it
// would test nothing. The placebo's "run" is a replicate's control, its "twin" the same
// agents in the next replicate's control (its own activations and random numbers, and with
// graph.per_replicate its own graph), and its groups are distances, on the run's graph, from
// pseudo-victims chosen by the inequity's targeting rule on pre-treatment ratings of a third
// replicate's control (the round before From, as the real targeting). Not the run's own
// ratings: a group chosen for high ratings on the baseline round falls back by itself later
// (regression to the mean), which the real comparison cancels (the run and its twin share
// the selection round's decisions) but a twin without shared random numbers does not; a
// third replicate measures the same agents' propensity independently of both runs compared.
// With fewer than 3 replicates the control's own ratings choose them (regression included).
// Rules that do not rank ratings (list, random, degree, income) choose the real victims.

// LabelZ is the number of noise SDs a reliable change must exceed: the reliable-change
// criterion of Jacobson & Truax (1991); one-sided it is 2.5%, which leaves room for the
// band being estimated from a few rounds (persistent ratings make it too narrow).
const LabelZ = 1.96

// LabelPrior is the weight, in rounds, of the run's pooled noise in each agent's band.
const LabelPrior = 8

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
	last int // the last baseline round
	// Per agent: baseline sums and counts of the run and of the twin, the twin's sum of
	// squared deviations from its baseline and their count.
	bx, bc       []float64
	nx, nc       []int32
	sq           []float64
	nsq          []int32
	poolSum      float64 // every twin's squared deviations so far
	poolN        int
	round        int
	affectedLast []bool
}

// NewLabeler labels n agents of a run whose unfair treatment starts at round from.
func NewLabeler(n, from int) *Labeler {
	return &Labeler{last: max(from-1, 1), bx: make([]float64, n), bc: make([]float64, n), nx: make([]int32, n), nc: make([]int32, n),
		sq: make([]float64, n), nsq: make([]int32, n), affectedLast: make([]bool, n)}
}

// Band is the noise band of a twin whose ratings stray s from its baseline (RMS).
func Band(s float64) float64 { return math.Max(LabelZ*s, LabelFloor) }

// Affected is the rule for one agent and round from its change dx from its baseline, its
// twin's change dc and the twin's RMS deviation s (all on 1-7).
func Affected(dx, dc, s float64) bool {
	if math.IsNaN(s) || math.IsNaN(dx) || math.IsNaN(dc) {
		return false
	}
	band := Band(s)
	return dx <= -band && dc > -band && dx-dc <= -LabelFloor
}

// Step takes round t's ratings of the run (x) and of the twins (c), and writes the labels
// into out (len n; it may be nil). It returns how many are affected.
func (l *Labeler) Step(t int, x, c []Obs, out []bool) int {
	if t != l.round+1 {
		panic("network.Labeler: rounds out of order")
	}
	l.round = t
	if t <= l.last {
		for u := range l.bx {
			if x[u].OK {
				l.bx[u] += x[u].W
				l.nx[u]++
			}
			if c[u].OK {
				l.bc[u] += c[u].W
				l.nc[u]++
			}
			l.affectedLast[u] = false
			if out != nil {
				out[u] = false
			}
		}
		return 0
	}
	for u := range l.bx {
		if c[u].OK && l.nc[u] > 0 {
			d := c[u].W - l.bc[u]/float64(l.nc[u])
			l.sq[u] += d * d
			l.nsq[u]++
			l.poolSum += d * d
			l.poolN++
		}
	}
	pool := 0.0
	if l.poolN > 0 {
		pool = l.poolSum / float64(l.poolN)
	}
	k := 0
	for u := range l.bx {
		a := false
		if x[u].OK && c[u].OK && l.nx[u] > 0 && l.nc[u] > 0 {
			s := math.Sqrt((l.sq[u] + LabelPrior*pool) / (float64(l.nsq[u]) + LabelPrior))
			a = Affected(x[u].W-l.bx[u]/float64(l.nx[u]), c[u].W-l.bc[u]/float64(l.nc[u]), s)
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
