package engine

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// ErrTooLarge is returned by LiveEstimates for a run with more recorded decisions than its
// limit: its study is stepped over the recorded decisions, read back one by one.
var ErrTooLarge = errors.New("too many decisions recorded to estimate live")

// ErrNoLive is returned by LiveEstimates for a study without live estimates (study.Live) or
// a run that records no decision (network.store: summary).
var ErrNoLive = errors.New("no live estimates for this study")

// LiveEstimates computes a run's main estimates from the decisions recorded so far, while
// the run may be writing them (the database is read read-only). The study is stepped over
// its recorded decisions the way a report replays a run, up to the first step not recorded in
// full, and asked for its estimates (study.Live); a streamed study (study.Streamed) is handed
// every recorded decision instead, as a replay does. Runs of a stepped study with more than
// limit recorded decisions are refused with ErrTooLarge (limit <= 0: no limit): their replies
// are read back one by one, which takes too long for a page.
func LiveEstimates(dir string, limit int) (*study.Estimates, error) {
	r, err := prepareDir(dir, true)
	if err != nil {
		return nil, err
	}
	defer r.close()
	lv, ok := r.study.(study.Live)
	if !ok || !r.recorded() {
		return nil, ErrNoLive
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		return nil, err
	}
	r.st = st // closed by r.close
	if ss, ok := r.streamedStudy(); ok {
		// A streamed study gathers what its analysis needs decision by decision: one pass over
		// the store, nothing held but the study's own sums, so no limit applies.
		if err := st.Decisions(ss.Observe); err != nil {
			return nil, err
		}
		return lv.LiveEstimates()
	}
	if limit > 0 {
		n, err := st.CountDecisions()
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, fmt.Errorf("%w: %d recorded, the live view reads at most %d", ErrTooLarge, n, limit)
		}
	}
	if err := r.loadRecorded(); err != nil {
		return nil, err
	}
step:
	for {
		b, err := r.study.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		for i := 0; i < b.Len(); i++ {
			t, err := b.Task(i)
			if err != nil {
				return nil, err
			}
			if !r.allDone(&t) {
				break step // this step is not recorded in full: the study cannot go on
			}
			if b.Absorb != nil {
				replies, ok, err := r.recordedReplies(&t)
				if err != nil {
					return nil, err
				}
				if !ok {
					break step
				}
				if err := b.Absorb(i, &t, replies); err != nil {
					return nil, err
				}
			}
		}
	}
	return lv.LiveEstimates()
}
