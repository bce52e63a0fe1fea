// Package seed derives every seed of a run from the experiment's seed: a pure function of
// labels, so a decision's seed does not depend on scheduling, concurrency or which decisions
// were already made before a resume.
package seed

import (
	"encoding/binary"
	"hash/fnv"
	"strconv"
)

// Derive makes a child seed from a parent seed and labels (strings and ints).
func Derive(parent uint64, parts ...any) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], parent)
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte{0x1f})
		switch v := p.(type) {
		case string:
			h.Write([]byte(v))
		case int:
			h.Write([]byte(strconv.Itoa(v)))
		default:
			panic("seed.Derive: unsupported part type")
		}
	}
	return mix(h.Sum64())
}

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
	return Derive(expSeed, "decision", replicate, agent, round, trial, scenario)
}
