package network

import "math"

// The contagion label: which agents of an inequity run are "affected" in a round, judged
// against their control twin (the same agent in the control run of the same replicate, which
// shares population, graph, activations and random numbers).
//
// # The rule (a reliable, lasting fall below the twin)
//
// Ratings are willingness on 1-7 (scale.to7). For agent u of a run in round t, with x its
// rating and c its twin's, the twin difference is D = x - c. The label is computed for all
// the replicates of one comparison (backend, inequity condition) at once:
//
//   - noise band S_u: how far an agent's rating strays from its twin's when only chance differs
//     between them, the root mean square of a twin difference over the pre-treatment rounds
//     (before From), pooled over the comparison's replicates (the same persona in each) and
//     shrunk toward the mean square of all agents with LabelPrior pseudo-observations (partial
//     pooling: a few replicates estimate one agent's band poorly). On the behavioural model the
//     twin difference is D itself: the twins share their random numbers all along (a decision's
//     seed leaves the condition out), so D is 0 before the treatment (the band is the floor) and
//     after it D is what the treatment changed, not noise. On an LLM it is the placebo's D (a
//     replicate's control against the next replicate's, below): the noise of two independent
//     draws of the same agent on the same prompt. Its own D before From is 0 and measures nothing
//     (an agent whose prompt equals its twin's gets the twin's reply: one draw per identical
//     request, engine/runcache.go), while once its prompt differs in any word (it is treated, or
//     hears a neighbour whose rating differed) the two replies are independent draws. With that
//     band, the floor, noise alone marked agents affected: against a loopback model drawing 3-5
//     afresh per call (no effect), 60 agents, 4 replicates, 5 days, 30 seeds, on day 5 victims
//     0-25% (mean 10.8%) and distance 1 1.5-15% (mean 6.3%), their placebos 0% and 0.2% on
//     average; with the placebo's band, victims 0% and distance 1 0-2.8% (mean 0.2%). So an LLM
//     needs 2 replicates (New refuses 1). The band is first used at From, whose labels (under
//     spread_from: affected) feed round From+1's prompts: every world's round t is one batch,
//     labelled in endRound before round t+1 is asked, so by then the placebo has been given every
//     round before From (Label checks it). No call is added: the placebo's control runs are asked
//     anyway. From is at least 2 (Inequity.check refuses less), and at most the last round but
//     LabelPersist-1, or nobody could be labelled.
//   - band = max(LabelZ * S_u, LabelFloor): beyond LabelZ noise SDs (one-sided, erosion is a
//     directional hypothesis) and at least one scale point.
//
// The agent is affected in round t iff, in round t and in the LabelPersist-1 rounds before
// it, both decisions were valid and D <= -band: it rated at least a band below its twin two
// rounds running. The persistence is what keeps noise out: the pre-treatment rounds measure
// the noise of a first day, and later days vary more (an agent's own history and its
// neighbours' ratings add to it: in the example's placebo the mean square of D grows from 2.0
// on day 1 to about 3.2), so a one-round test would fire in about 5% of noise-only agents
// instead of 2.5%; a fall that must hold two days running fires in about 1.5%.
//
// The label is per round, not absorbing: an agent back within the band is no longer
// affected. An invalid decision (its own or its twin's) restarts the count. Unfairness is not
// part of the label (it is an outcome): one test, one false-positive rate. With common random
// numbers (the behavioural model) and no effect, x = c in every round, so noise alone never
// trips the label; every twin difference is then caused by the treatment (directly or through
// the neighbours).
//
// # The placebo: what noise alone gives
//
// Estimand: per pseudo-exposure group and round, the share of agent x replicate pairs the label marks
// affected when nothing is treated and the twin shares no random numbers with the run: the
// label's false-positive rate in the worst case for the comparison (an LLM, whose twins'
// replies are independent draws once their prompts differ; the behavioural model's twins
// share their random numbers, so its real comparison's noise is zero). The control against
// itself would give 0 whatever the label, so it would test nothing. The placebo's "run" is a
// replicate's control, its "twin" the same agents in the next replicate's control (its own
// activations and random numbers, and with graph.per_replicate its own graph; cyclically, each
// pair of replicates once: with two replicates one pair, not c1-c2 and c2-c1), labelled by
// the same rule (its band from its own pre-treatment rounds, pooled over the placebo's pairs:
// on an LLM the real label's band too, so there the label and its placebo apply one band),
// and its groups are distances, on the run's graph, from pseudo-victims chosen by the
// inequity's targeting rule on pre-treatment ratings of a third replicate's control (the
// round before From, as the real targeting). Not the run's own ratings: a group chosen for high ratings on the baseline
// round falls back by itself later (regression to the mean), which the real comparison
// cancels (the run and its twin share the selection round's decisions) but a twin without
// shared random numbers does not; a third replicate measures the same agents' propensity
// independently of both runs compared. With fewer than 3 replicates the control's own
// ratings choose them (regression included). Rules that do not rank ratings (list, random,
// degree, income) choose the real victims.

// LabelZ is the number of noise SDs a reliable change must exceed: the reliable-change
// criterion of Jacobson & Truax (1991), one-sided 2.5%.
const LabelZ = 1.96

// LabelPrior is the weight, in observations, of all agents' mean square in each agent's band.
const LabelPrior = 8

// LabelFloor is the smallest change that counts, in points on 1-7.
const LabelFloor = 1.0

// LabelPersist is how many rounds running the fall must hold.
const LabelPersist = 2

// Obs is one agent's rating in one round on 1-7; OK false when the decision was invalid.
type Obs struct {
	W  float64
	OK bool
}

// Labeler labels the runs of one comparison (its pairs: every replicate's run and twin)
// round by round, keeping O(agents x pairs) state and no history: rounds must be given in
// order 1, 2, ...
type Labeler struct {
	from  int
	round int
	// Per agent: the pre-treatment twin differences' sum of squares and count, over pairs.
	sq     []float64
	nsq    []int32
	below  [][]uint8 // per pair and agent: rounds running at least a band below the twin
	s      []float64 // the round's noise SDs (Label)
	sRound int       // the round s is of
	// bandOf is the labeler whose pre-treatment sums give the band (BandFrom); nil: its own.
	bandOf *Labeler
}

// NewLabeler labels n agents in each of pairs runs whose unfair treatment starts at round
// from (at least 2: the rounds before it measure the band).
func NewLabeler(n, pairs, from int) *Labeler {
	if from < 2 {
		panic("network.NewLabeler: no round before the unfair treatment to measure the band")
	}
	l := &Labeler{from: from, sq: make([]float64, n), nsq: make([]int32, n), below: make([][]uint8, pairs)}
	for p := range l.below {
		l.below[p] = make([]uint8, n)
	}
	return l
}

// BandFrom makes l take its noise band from o's pre-treatment rounds instead of its own (a
// comparison whose twins share no random numbers once their prompts differ: label.go's LLM
// case, o being the placebo's labeler of the same agents). o must have been given every
// round before From by the time l labels round From.
func (l *Labeler) BandFrom(o *Labeler) {
	if len(o.sq) != len(l.sq) || o.from != l.from {
		panic("network.Labeler.BandFrom: another comparison's labeler")
	}
	l.bandOf = o
}

// Band is the band of an agent whose twin difference has noise SD s.
func Band(s float64) float64 { return math.Max(LabelZ*s, LabelFloor) }

// Below is one round's test: the run's rating x at least a band below its twin's c.
func Below(x, c, s float64) bool {
	if math.IsNaN(s) || math.IsNaN(x) || math.IsNaN(c) {
		return false
	}
	return x-c <= -Band(s)
}

// noise is the twin difference's noise SD of every agent for the rounds so far (NaN when it
// cannot be estimated yet).
func (l *Labeler) noise(out []float64) {
	var pool float64
	var pn int
	for u := range l.sq {
		pool += l.sq[u]
		pn += int(l.nsq[u])
	}
	for u := range out {
		out[u] = math.NaN()
		if pn > 0 {
			out[u] = math.Sqrt((l.sq[u] + LabelPrior*pool/float64(pn)) / (float64(l.nsq[u]) + LabelPrior))
		}
	}
}

// Step takes round t's ratings of every pair's run (x[p]) and twin (c[p]) and writes the
// labels into out[p] (each len n; out may be nil). It returns how many are affected.
func (l *Labeler) Step(t int, x, c [][]Obs, out [][]bool) int {
	l.Begin(t)
	k := 0
	for p := range x {
		var o []bool
		if out != nil {
			o = out[p]
		}
		k += l.Label(p, x[p], c[p], o)
	}
	return k
}

// Begin starts round t. A round is given pair by pair, so that a caller holds one pair's
// ratings at a time, not every replicate's (Step gives them all at once): each pair, in
// order, to Label.
func (l *Labeler) Begin(t int) {
	if t != l.round+1 {
		panic("network.Labeler: rounds out of order")
	}
	l.round = t
}

// Label takes pair p's run (x) and twin (c) ratings of the round, writes its labels into out
// (len n; may be nil) and returns how many are affected. Pairs come in order.
func (l *Labeler) Label(p int, x, c []Obs, out []bool) int {
	t := l.round
	if t < l.from {
		for u := range x {
			if x[u].OK && c[u].OK {
				d := x[u].W - c[u].W
				l.sq[u] += d * d
				l.nsq[u]++
			}
			if out != nil {
				out[u] = false
			}
		}
		return 0
	}
	if l.sRound != t { // every pre-treatment round is in
		if l.s == nil {
			l.s = make([]float64, len(l.sq))
		}
		src := l
		if l.bandOf != nil {
			src = l.bandOf
			if src.round < l.from-1 {
				panic("network.Labeler: the band's labeler has not been given every round before the unfair treatment")
			}
		}
		src.noise(l.s)
		l.sRound = t
	}
	s := l.s
	k := 0
	run := l.below[p]
	for u := range x {
		a := false
		if x[u].OK && c[u].OK && Below(x[u].W, c[u].W, s[u]) {
			run[u] = min(run[u]+1, LabelPersist)
			a = run[u] >= LabelPersist
		} else {
			run[u] = 0
		}
		if out != nil {
			out[u] = a
		}
		if a {
			k++
		}
	}
	return k
}
