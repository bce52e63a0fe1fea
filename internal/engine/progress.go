package engine

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/study"
)

// progress shows how far a run is: a bar on a terminal, plain periodic lines otherwise (logs,
// CI, nohup), so long runs never look hung.
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int
	done  int // saved by an earlier invocation, and made since
	saved int // of done, saved by an earlier invocation
	start time.Time
	last  time.Time
	every time.Duration
	what  string
	// atMost says total is an upper bound: some decisions are asked only when earlier
	// replies call for them (study.Contingent).
	atMost bool
	// stop ends the ticker that shows what calls wait for (watching); nil without one.
	stop    chan struct{}
	stopped chan struct{}
	waiting string // the waiting state last shown on the bar
	// halted says why decisions stopped being made ("" while they are).
	halted string
}

// newProgress shows the progress of total decisions (at most, when atMost) of what. saved
// are those a resume found saved already: its first line says how many of the total are
// saved and how many are left to make (it said "1296 decisions to make" with 84 saved: QA11).
func newProgress(w io.Writer, total, saved int, what string, atMost bool) *progress {
	return newProgressAgain(w, total, saved, what, atMost, reaskBound{})
}

// newProgressAgain is newProgress for a resume that will also ask again some of the saved
// (resume --retry-invalid: those that observed a decision asked again), which its first line
// says.
func newProgressAgain(w io.Writer, total, saved int, what string, atMost bool, again reaskBound) *progress {
	// done counts the saved too, so that "N/total" is the run's count, as the first line's
	// (QA12 #13: a resume of 4 saved that stopped at its cap printed "1/24").
	p := &progress{w: w, total: total, done: saved, saved: saved, start: time.Now(), last: time.Now(), every: 5 * time.Second, what: what, atMost: atMost}
	if w == nil {
		return p
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		// The bar counts what is left to make (its rate and time left are this invocation's).
		p.bar = progressbar.NewOptions(max(total-saved, 0),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("decisions"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return p
	}
	bound := ""
	if atMost {
		bound = "at most "
	}
	if saved > 0 {
		more := ""
		switch {
		case again.n > 0 && again.exact:
			more = fmt.Sprintf(", and %d of the saved asked again", again.n)
		case again.n > 0:
			more = fmt.Sprintf(", and at most %d of the saved asked again", again.n)
		}
		fmt.Fprintf(w, "%s: %s%s, %d saved, %s%d to make%s\n", what, bound, plural.Count(total, "decision"), saved, bound, max(total-saved, 0), more)
		return p
	}
	fmt.Fprintf(w, "%s: %s%s to make\n", what, bound, plural.Count(total, "decision"))
	return p
}

func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.bar != nil {
		p.bar.Add(n)
		return
	}
	if p.w != nil && time.Since(p.last) >= p.every {
		p.last = time.Now()
		fmt.Fprintf(p.w, "  %d/%d decisions (%.0f%%), %s elapsed\n", p.done, p.total, 100*float64(p.done)/float64(max(p.total, 1)), time.Since(p.start).Round(time.Second))
	}
}

// watching shows, every p.every while decisions are being made, what provider calls have
// waited on for two periods or more (a slow or hung server, a Retry-After back-off): as a
// "waiting: ..." line, or in the bar's description on a terminal. Without it a run held by a
// server prints nothing until a decision ends, which can be minutes. also, if not nil, adds
// to a waiting line (the refusals in a row that will stop the run).
func (p *progress) watching(w *backend.Watch, also func() string) *progress {
	if w == nil || p.w == nil {
		return p
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				s := w.Waiting(2 * p.every)
				if s != "" && also != nil {
					if x := also(); x != "" {
						s += "; " + x
					}
				}
				p.showWaiting(s)
			}
		}
	}()
	return p
}

func (p *progress) showWaiting(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		if s != p.waiting {
			p.waiting = s
			if s == "" {
				p.bar.Describe(p.what)
			} else {
				p.bar.Describe(p.what + " (waiting: " + s + ")")
			}
		}
		return
	}
	if s != "" {
		p.last = time.Now()
		fmt.Fprintf(p.w, "  %d/%d decisions, %s elapsed; waiting: %s\n", p.done, p.total, time.Since(p.start).Round(time.Second), s)
	}
}

// stopping records why decisions stopped being made, for the last progress line.
func (p *progress) stopping(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.halted == "" {
		p.halted = why
	}
}

// finish ends the progress output with the decisions made, and those of the total that were
// not needed (study.Contingent), so that a complete run's count adds up.
func (p *progress) finish(notAsked []study.NotAsked) {
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var why []string
	n := 0
	for _, x := range notAsked {
		n += x.N
		why = append(why, fmt.Sprintf("%s (%s)", plural.Count(x.N, x.Who), x.Why))
	}
	note := ""
	if n > 0 {
		note = fmt.Sprintf("; %d not needed: %s", n, strings.Join(why, ", "))
	}
	if p.halted != "" {
		note += "; stopped: " + p.halted
	}
	if p.bar != nil {
		p.bar.Finish() // the bar is cleared: the note, if any, is said on a line of its own
		if note != "" {
			fmt.Fprintf(p.w, "%s: %d/%d decisions%s\n", p.what, p.done, p.total, note)
		}
		return
	}
	if p.w != nil {
		now := ""
		if p.saved > 0 {
			now = fmt.Sprintf(" (%d asked now)", p.done-p.saved)
		}
		fmt.Fprintf(p.w, "  %d/%d decisions%s in %s%s\n", p.done, p.total, now, time.Since(p.start).Round(time.Millisecond), note)
	}
}
