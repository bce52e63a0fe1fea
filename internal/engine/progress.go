package engine

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a run is: a bar on a terminal, plain periodic lines otherwise (logs,
// CI, nohup), so long runs never look hung.
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int
	done  int
	start time.Time
	last  time.Time
	every time.Duration
}

func newProgress(w io.Writer, total int, what string) *progress {
	p := &progress{w: w, total: total, start: time.Now(), last: time.Now(), every: 5 * time.Second}
	if w == nil {
		return p
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
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
	fmt.Fprintf(w, "%s: %d decisions to make\n", what, total)
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

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
		return
	}
	if p.w != nil {
		fmt.Fprintf(p.w, "  %d/%d decisions in %s\n", p.done, p.total, time.Since(p.start).Round(time.Millisecond))
	}
}
