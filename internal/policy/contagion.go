package policy

import "fmt"

// Contagion rules for the per-agent "affected" state of Study 3.
//
// An agent is exposed in round t through each activated neighbour (an edge activated in
// round t) that was treated unfairly or affected in round t-1; Exposures counts them. Ratings
// are the agent's willingness and perceived unfairness in rounds t-1 and t; 0 means missing
// (an invalid or absent decision). "Eroded" means willingness fell and perceived unfairness
// rose from t-1 to t; with a missing rating an agent cannot erode.
//
//   - original: affected(t) = affected(t-1) or (exposed and eroded). No recovery (the
//     original study's rule).
//   - sis: as original, but an agent affected in t-1 recovers (is not affected in t) with
//     probability Recovery, drawn from a seeded per-(agent, round) stream; a recovered agent
//     can be affected again.
//   - threshold: affected(t) = affected(t-1) or Exposures >= Threshold (a structural complex
//     contagion, regardless of the agent's ratings). No recovery.
const (
	RuleOriginal  = "original"
	RuleSIS       = "sis"
	RuleThreshold = "threshold"
)

// Contagion is a contagion rule with its parameters.
type Contagion struct {
	Rule      string
	Recovery  float64 // sis
	Threshold int     // threshold
	Seed      uint64  // sis recovery draws
}

// AgentRound is what the rule reads of one agent in one round.
type AgentRound struct {
	PrevAffected bool
	Exposures    int
	PrevW, PrevU float64 // round t-1; 0 = missing
	W, U         float64 // round t; 0 = missing
}

// Check reports a rule that cannot be applied.
func (c Contagion) Check() error {
	switch c.Rule {
	case RuleOriginal:
	case RuleSIS:
		if c.Recovery < 0 || c.Recovery > 1 {
			return fmt.Errorf("contagion sis: recovery %g is not a probability", c.Recovery)
		}
	case RuleThreshold:
		if c.Threshold < 1 {
			return fmt.Errorf("contagion threshold: threshold %d must be >= 1", c.Threshold)
		}
	default:
		return fmt.Errorf("unknown contagion rule %q", c.Rule)
	}
	return nil
}

// Eroded reports whether willingness fell and unfairness rose, both ratings present.
func (a AgentRound) Eroded() bool {
	if a.PrevW == 0 || a.PrevU == 0 || a.W == 0 || a.U == 0 {
		return false
	}
	return a.W < a.PrevW && a.U > a.PrevU
}

// Next is the agent's affected state in round t. node and round only seed sis recovery, so
// the result does not depend on the order in which agents are processed.
func (c Contagion) Next(a AgentRound, node, round int) bool {
	switch c.Rule {
	case RuleThreshold:
		return a.PrevAffected || a.Exposures >= c.Threshold
	case RuleSIS:
		if a.PrevAffected {
			return uniform(c.Seed, node, round) >= c.Recovery
		}
		return a.Exposures > 0 && a.Eroded()
	default:
		return a.PrevAffected || (a.Exposures > 0 && a.Eroded())
	}
}

// uniform is a uniform number in [0,1) from (seed, node, round): splitmix64 over the mix.
func uniform(seed uint64, node, round int) float64 {
	z := seed ^ uint64(node)*0x9e3779b97f4a7c15 ^ uint64(round)*0xc2b2ae3d27d4eb4f
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}
