package engine

import (
	"hash/maphash"

	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// keySet holds the keys of recorded decisions as 64-bit hashes, so that a resumed run of
// millions of decisions knows which are made without holding them (16 bytes a decision, not
// a key's strings). Two keys of one run share a hash with a chance of about n^2/2^65 (1 in
// 450,000 for 9 million decisions). A task whose replies a study absorbs is read back from
// the store, so such a decision is found missing there and asked; one nobody absorbs is
// skipped, and for a streamed study the finish pass, which counts the decisions it reads,
// then says the run is incomplete.
type keySet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
}

func newKeySet() *keySet { return &keySet{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}} }

func (s *keySet) add(k store.Key) { s.m[maphash.Comparable(s.seed, k)] = struct{}{} }

// len is how many keys s holds (0 for none): the decisions a resume found saved.
func (s *keySet) len() int {
	if s == nil {
		return 0
	}
	return len(s.m)
}

func (s *keySet) has(k store.Key) bool {
	_, ok := s.m[maphash.Comparable(s.seed, k)]
	return ok
}

// streamedStudy is the run's study as a study.Streamed, when it is one and records its
// decisions.
func (r *Runner) streamedStudy() (study.Streamed, bool) {
	s, ok := r.study.(study.Streamed)
	return s, ok && r.recorded()
}

func (r *Runner) isStreamed() bool {
	_, ok := r.streamedStudy()
	return ok
}
