// Package seed derives every seed of a run from the experiment's seed: a pure function of
// labels, so a decision's seed does not depend on scheduling, concurrency or which decisions
// were already made before a resume.
package seed

import "strconv"

// FNV-1a, 64 bits (hash/fnv's New64a, written out so that a derivation allocates nothing).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	sep       = 0x1f // written before each part
)

// Derive makes a child seed from a parent seed and labels (strings and ints).
func Derive(parent uint64, parts ...any) uint64 {
	h := Start(parent)
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			h = h.String(v)
		case int:
			h = h.Int(v)
		default:
			panic("seed.Derive: unsupported part type")
		}
	}
	return h.Sum()
}

// Hash is a derivation in progress: Start(parent).String(a).Int(b).Sum() equals
// Derive(parent, a, b). It is a value, so a prefix shared by many seeds (the experiment's seed
// and a replicate, say) is hashed once and extended by each.
type Hash struct{ h uint64 }

// Start begins a derivation from a parent seed (its 8 bytes, little-endian).
func Start(parent uint64) Hash {
	h := uint64(fnvOffset)
	for i := 0; i < 8; i++ {
		h ^= parent & 0xff
		h *= fnvPrime
		parent >>= 8
	}
	return Hash{h}
}

// String appends a string label.
func (h Hash) String(s string) Hash {
	x := (h.h ^ sep) * fnvPrime
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= fnvPrime
	}
	return Hash{x}
}

// Int appends an integer label (its decimal text, as strconv.Itoa writes it).
func (h Hash) Int(v int) Hash {
	var b [20]byte
	d := strconv.AppendInt(b[:0], int64(v), 10)
	x := (h.h ^ sep) * fnvPrime
	for _, c := range d {
		x ^= uint64(c)
		x *= fnvPrime
	}
	return Hash{x}
}

// Sum is the derived seed.
func (h Hash) Sum() uint64 { return mix(h.h) }

// mix is splitmix64's finaliser: FNV alone leaves nearby inputs with correlated low bits.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Decision is the seed of one decision. It leaves out the condition and the backend on
// purpose: the same agent meets every condition with the same random draw (common random
// numbers), so differences between policies are not blurred by sampling noise.
func Decision(expSeed uint64, replicate, agent, round, trial int, scenario string) uint64 {
	return Replicate(expSeed, replicate).Agent(agent).Decision(round, trial, scenario)
}

// Replicate is the part of Decision's derivation shared by every decision of a replicate, so
// Replicate(s, rep).Agent(agent).Decision(round, trial, sc) == Decision(s, rep, agent, round,
// trial, sc); a study asking every agent round after round keeps each agent's prefix.
func Replicate(expSeed uint64, replicate int) Hash {
	return Start(expSeed).String("decision").Int(replicate)
}

// Agent extends a replicate's prefix (Replicate) with the agent.
func (h Hash) Agent(agent int) Hash { return h.Int(agent) }

// Decision completes a decision seed from its agent's prefix (Replicate(...).Agent(...)).
func (h Hash) Decision(round, trial int, scenario string) uint64 {
	return h.Int(round).Int(trial).String(scenario).Sum()
}
