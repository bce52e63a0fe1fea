package engine

import (
	"fmt"
	"io"
	"sync"

	"github.com/prosim/prosim/internal/study"
)

// dependents keeps a resume --retry-invalid consistent in studies whose later steps observe
// earlier replies (Study 3's rounds, the games' second movers and public goods rounds): once a
// decision of a cell is asked again in step s, the cell's decisions journaled in steps after s
// answered prompts built from the reply it replaces, so they are asked again too (their rows
// replaced) rather than replayed. A cell is a world of its own (backend x condition x
// replicate): no study's prompts read another cell's replies, so other cells keep theirs.
// Decisions of one step never observe each other (the runner makes a whole step before
// asking for the next), so a cell becomes stale only from the next step on.
//
// Without --retry-invalid no journaled decision can follow an asked one in its cell (a run
// stops within a step, and later steps are never begun), so the runner keeps no such record.
type dependents struct {
	mu      sync.Mutex
	asked   map[string]bool // cells with a decision asked in the current step
	stale   map[string]bool // cells whose journaled decisions of later steps are outdated
	reasked int             // journaled decisions asked again because they were stale
}

func newDependents() *dependents {
	return &dependents{asked: map[string]bool{}, stale: map[string]bool{}}
}

// isStale reports whether the journaled decisions of cell's current step are outdated.
func (d *dependents) isStale(cell string) bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stale[cell]
}

// wasAsked notes that a decision of cell was asked in the current step; replaced counts the
// journaled ones among them (asked again as stale).
func (d *dependents) wasAsked(cell string, replaced int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked[cell] = true
	d.reasked += replaced
}

// endStep makes the cells asked in the step stale for every later step.
func (d *dependents) endStep() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.asked {
		d.stale[c] = true
	}
	clear(d.asked)
}

// note says how many recorded decisions were asked again because they had observed a
// decision asked again.
func (d *dependents) note(w io.Writer) {
	if d == nil || w == nil || d.reasked == 0 {
		return
	}
	fmt.Fprintf(w, "prosim: asked again %d recorded decisions of later steps (rounds, second movers) that had observed a decision asked again, so that every reply answers the prompt as now built\n", d.reasked)
}

// reaskBound is how many recorded decisions resume --retry-invalid will ask again because they
// observed a decision asked again (QA12 #16: it announced 2 decisions, then made 121 calls):
// exact when the study's steps are its rounds (study.RoundSteps), else an upper bound.
type reaskBound struct {
	n     int
	exact bool
}

// dependentBound counts, in each cell with a decision asked again from round first on, the
// recorded decisions of later rounds (study.RoundSteps: each round is a step), else of that
// round and later ones, since a round may hold several steps (a game's first and second
// movers); rounds are asked in increasing order.
func (r *Runner) dependentBound(first map[string]int, byRound map[string]map[int]int) reaskBound {
	rs, ok := r.study.(study.RoundSteps)
	exact := ok && rs.RoundSteps()
	b := reaskBound{exact: exact}
	for cell, f := range first {
		for round, n := range byRound[cell] {
			if round > f || !exact && round == f {
				b.n += n
			}
		}
	}
	return b
}

// recordedCount is how many of a task's decisions are recorded.
func (r *Runner) recordedCount(t *study.Task) int {
	n := 0
	for _, k := range t.Keys {
		if r.done.has(k) {
			n++
		}
	}
	return n
}
