package network

// The typed path: with network.store: summary and the behavioural model in this process,
// each round's decisions are rated straight into the world's arrays (study.Batch.Typed),
// without the task, request, reply text, values map and schema check the generic path builds
// for every decision (which for the behavioural model cost several times its arithmetic).
// The values are the same bit for bit (the model's Rater guarantees it; the golden run of
// testdata/golden/study3-summary.yaml pins it).

import (
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/study"
)

// UseTyped implements study.TypedBackends.
func (s *netStudy) UseTyped(of func(c *study.Cell) situation.Typed) { s.typedOf = of }

// typedWorld is a world's typed backend, prepared.
type typedWorld struct {
	rater situation.Rater
	seeds []seed.Hash // each agent's decision-seed prefix in the world's replicate
}

// prepareTyped readies every world for the typed path, or none (then s.typed stays nil and
// the generic path serves): it needs the summary store (the full store journals each reply),
// a typed backend for every world, and a situation that backend models (a Prepare error
// is left to the generic path, which records it as Decide's error for each decision).
func (s *netStudy) prepareTyped() {
	if !s.summary || s.typedOf == nil || s.env.Estimate || s.env.Replay {
		return
	}
	wi, ui := fieldIndex(s.schema.Fields, "willingness"), fieldIndex(s.schema.Fields, "unfairness")
	if wi < 0 || ui < 0 || len(s.schema.Fields) > maxTypedFields {
		return
	}
	type key struct {
		b   situation.Typed
		pol situation.PolicyExposure
	}
	raters := map[key]situation.Rater{}
	seeds := map[int][]seed.Hash{}
	tw := make([]typedWorld, len(s.worlds))
	for i, w := range s.worlds {
		b := s.typedOf(w.cell)
		if b == nil {
			return
		}
		// Worlds differ only in their policy (the persona, scenario and schema are shared):
		// those with the same policy and backend share a Rater and its per-agent terms.
		k := key{b, w.pol}
		r, ok := raters[k]
		if !ok {
			sit := situation.Situation{Scenario: s.sc.ID, Kind: s.sc.Kind, Params: w.params, Policy: w.pol}
			var err error
			if r, err = b.Prepare(s.env.Agents, &sit, &s.schema); err != nil {
				return
			}
			raters[k] = r
		}
		sd, ok := seeds[w.rep]
		if !ok {
			h := seed.Replicate(*s.env.Exp.Seed, w.rep)
			sd = make([]seed.Hash, w.n)
			for u := range sd {
				sd[u] = h.Agent(s.env.Agents[u].ID)
			}
			seeds[w.rep] = sd
		}
		tw[i] = typedWorld{rater: r, seeds: sd}
	}
	s.typed, s.typedW, s.typedU = tw, wi, ui
}

// maxTypedFields bounds the fields a typed round rates (Study 3 asks two).
const maxTypedFields = 8

func fieldIndex(fs []scenario.Field, name string) int {
	for i := range fs {
		if fs[i].Name == name {
			return i
		}
	}
	return -1
}

// typedRound makes decisions lo..hi-1 of round t (batch indices, as Build's) on the typed
// path: what task, the backend and Absorb do, in place.
func (s *netStudy) typedRound(t, lo, hi int) error {
	n := len(s.env.Agents)
	var out [maxTypedFields]float64
	vals := out[:len(s.schema.Fields)]
	var soc situation.Social // one for the chunk: given to an interface, it lives on the heap
	for lo < hi {            // world by world: no division per decision
		wi, u0 := lo/n, lo%n
		u1 := min(n, u0+hi-lo)
		w, tw := s.worlds[wi], &s.typed[wi]
		for u := u0; u < u1; u++ {
			soc = w.social(u)
			tw.rater.Rate(u, &soc, tw.seeds[u].Decision(t, 0, s.sc.ID), vals)
			w.curW[u], w.curU[u], w.curOK[u] = int8(vals[s.typedW]), int8(vals[s.typedU]), true
		}
		lo += u1 - u0
	}
	return nil
}
