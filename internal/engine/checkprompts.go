package engine

import (
	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// playPlaceholders plays the study to its end with placeholder answers (see placeholder),
// building every request of every step, each handed to seen, until seen returns false;
// nothing is asked or written.
func (r *Runner) playPlaceholders(seen func(t *study.Task) bool) error {
	r.estimating = true
	r.env.Estimate = true
	// Placeholders stand in for recorded replies, for a study that reads them back
	// (Env.Reply): kept for batches without Absorb only, so that an estimate of a study that
	// learns its replies through Absorb holds none of them.
	rec := r.recorded() && !r.isStreamed()
	r.placeheld = map[store.Key]backend.Reply{}
	for {
		b, err := r.study.Next()
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		for i := 0; i < b.Len(); i++ {
			t, err := b.Task(i)
			if err != nil {
				return err
			}
			if !seen(&t) {
				return nil
			}
			replies := r.placeholder(&t)
			if rec && b.Absorb == nil {
				for j, k := range t.Keys {
					r.placeheld[k] = replies[j]
				}
			}
			if b.Absorb != nil {
				if err := b.Absorb(i, &t, replies); err != nil {
					return err
				}
			}
		}
	}
}

// MaxCheckedRequests bounds how many requests CheckPrompts builds: the first 200,000 of a
// larger design (Study 3 at a million agents asks 60 million, which would take minutes to
// build). Every template is still rendered unless the design only reaches it after them.
const MaxCheckedRequests = 200_000

// CheckPrompts builds the requests the run would make (up to MaxCheckedRequests), so that the
// scenario and policy templates are rendered with the parameters each decision gives them
// (game terms, schedules, wordings, the currency): a template that fails (an undefined
// parameter, a division by zero) fails here, not after the run has created its folder. Steps
// that depend on replies are played with placeholder answers, as estimates are. It returns the
// number of requests built and whether that is all of them. The runner is spent: prepare
// another to run.
func (r *Runner) CheckPrompts() (built int, all bool, err error) {
	all = true
	err = r.playPlaceholders(func(*study.Task) bool {
		if built == MaxCheckedRequests {
			all = false
			return false
		}
		built++
		return true
	})
	return built, all, err
}
