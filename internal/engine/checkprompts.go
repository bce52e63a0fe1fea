package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// playPlaceholders plays the study to its end with placeholder answers (see placeholder),
// building every request of every step, each handed to seen, until seen returns false;
// nothing is asked or written.
func (r *Runner) playPlaceholders(seen func(t *study.Task) bool) error {
	return r.playSteps(func(t *study.Task, _ int, _ bool) bool { return seen(t) })
}

// playSteps is playPlaceholders, also telling seen the step's index (from 0) and whether
// placeholder replies had reached the study before that step.
func (r *Runner) playSteps(seen func(t *study.Task, step int, placeheld bool) bool) error {
	r.estimating = true
	r.env.Estimate = true
	// Placeholders stand in for recorded replies, for a study that reads them back
	// (Env.Reply): kept for batches without Absorb only, so that an estimate of a study that
	// learns its replies through Absorb holds none of them.
	rec := r.recorded() && !r.isStreamed()
	r.placeheld = map[store.Key]backend.Reply{}
	given := false // placeholder replies have reached the study (Absorb, or Env.Reply)
	for step := 0; ; step++ {
		b, err := r.study.Next()
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		before := given
		for i := 0; i < b.Len(); i++ {
			t, err := b.Task(i)
			if err != nil {
				return err
			}
			if !seen(&t, step, before) {
				return nil
			}
			var replies []backend.Reply
			held := false // the run's own replies, from its cache: no placeholder reaches the study
			if r.cachedReplies != nil {
				replies, held = r.cachedReplies(&t)
			}
			if !held {
				replies = r.placeholder(&t)
			}
			if rec && b.Absorb == nil {
				for j, k := range t.Keys {
					r.placeheld[k] = replies[j]
				}
				given = given || !held
			}
			if b.Absorb != nil {
				if err := b.Absorb(i, &t, replies); err != nil {
					return err
				}
				given = given || !held
			}
		}
	}
}

// MaxCheckedRequests bounds how many requests CheckPrompts builds: the first 200,000 of a
// larger design (Study 3 at a million agents asks 60 million, which would take minutes to
// build). Every template is still rendered unless the design only reaches it after them.
const MaxCheckedRequests = 200_000

// PromptCheck is what CheckPrompts found.
type PromptCheck struct {
	// Built is the number of requests built, All whether that is all the run makes.
	Built int
	All   bool
	// Shown are the requests sampled to show, in the order they were built; the experiment's
	// Seed chose them.
	Shown []ShownRequest
	Seed  uint64
	// Placeholders says how the study answers earlier steps with placeholders (its estimate
	// note), when it has any.
	Placeholders string
}

// ShownRequest is a request kept by CheckPrompts, exactly as the run would build it.
type ShownRequest struct {
	Task study.Task
	// Step is the index (from 1) of the study's step that builds it: a round, a game's stage.
	Step int
	// Placeheld is true when earlier steps had been answered with placeholders (see
	// placeholder) before it was built: what it says of earlier or other agents' decisions
	// (neighbours' ratings, a partner's offer, a history) comes from those, not from a run.
	Placeheld bool
}

// CheckPrompts builds the requests the run would make (up to MaxCheckedRequests), so that the
// scenario and policy templates are rendered with the parameters each decision gives them
// (game terms, schedules, wordings, the currency): a template that fails (an undefined
// parameter, a division by zero) fails here, not after the run has created its folder. Steps
// that depend on replies are played with placeholder answers, as estimates are. It keeps show
// of the requests built to show (see sampleShown). The runner is spent: prepare another to
// run.
func (r *Runner) CheckPrompts(show int) (PromptCheck, error) {
	c := PromptCheck{All: true, Seed: *r.exp.Seed}
	if e, ok := r.study.(study.Estimator); ok {
		c.Placeholders = e.EstimateNote()
	}
	s := newShowSampler(show, seed.Derive(c.Seed, "show-prompts"))
	err := r.playSteps(func(t *study.Task, step int, placeheld bool) bool {
		if c.Built == MaxCheckedRequests {
			c.All = false
			return false
		}
		if show > 0 {
			s.add(ShownRequest{Task: *t, Step: step + 1, Placeheld: placeheld}, c.Built)
		}
		c.Built++
		return true
	})
	c.Shown = s.pick()
	return c, err
}

// showSampler keeps up to n requests of each stratum (a step, condition and scenario) by
// reservoir sampling, so that the requests shown are a seeded sample that reaches later
// rounds and every condition without holding every request.
type showSampler struct {
	n      int
	rng    *rand.Rand
	order  []string // strata in the order first built
	strata map[string]*stratum
}

type stratum struct {
	seen int
	kept []ShownRequest
	at   []int // each kept request's index among the requests built (their order)
}

func newShowSampler(n int, s uint64) *showSampler {
	return &showSampler{n: n, rng: rand.New(rand.NewPCG(s, 0x5eed)), strata: map[string]*stratum{}}
}

func (s *showSampler) add(x ShownRequest, built int) {
	key := fmt.Sprint(x.Step)
	if x.Task.Cell != nil {
		key += "\x00" + x.Task.Cell.Condition
	}
	if len(x.Task.Keys) > 0 {
		key += "\x00" + x.Task.Keys[0].Scenario
	}
	st := s.strata[key]
	if st == nil {
		st = &stratum{}
		s.strata[key] = st
		s.order = append(s.order, key)
	}
	st.seen++
	switch {
	case len(st.kept) < s.n:
		st.kept = append(st.kept, x)
		st.at = append(st.at, built)
	default:
		if j := s.rng.IntN(st.seen); j < s.n {
			st.kept[j], st.at[j] = x, built
		}
	}
}

// pick chooses n of the kept requests: with fewer strata than n, every stratum's in turn;
// else one from each of n strata spread evenly from the first to the last (first and last
// round both shown).
func (s *showSampler) pick() []ShownRequest {
	type sel struct{ stratum, i int }
	var picked []sel
	if k := len(s.order); k > 0 && s.n > 0 {
		if k > s.n {
			for j := range s.n {
				at := 0
				if s.n > 1 {
					at = (j*(k-1) + (s.n-1)/2) / (s.n - 1) // j*(k-1)/(n-1), rounded
				}
				picked = append(picked, sel{at, 0})
			}
		} else {
			for pass := 0; len(picked) < s.n; pass++ {
				more := false
				for i, key := range s.order {
					if pass < len(s.strata[key].kept) && len(picked) < s.n {
						picked = append(picked, sel{i, pass})
						more = true
					}
				}
				if !more {
					break
				}
			}
		}
	}
	at := func(x sel) int { return s.strata[s.order[x.stratum]].at[x.i] }
	slices.SortFunc(picked, func(a, b sel) int { return at(a) - at(b) }) // in the order built
	out := make([]ShownRequest, len(picked))
	for i, p := range picked {
		out[i] = s.strata[s.order[p.stratum]].kept[p.i]
	}
	return out
}
