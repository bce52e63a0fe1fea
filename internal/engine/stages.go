package engine

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// stageDelay is how long a stage runs before it is announced: quick set-ups print nothing.
const stageDelay = time.Second

// Stage is what a run is doing outside its decisions (building the population, the graph,
// the run directory; analysing). Abandon says the process may exit at once when interrupted
// during it: the stage writes nothing a later `prosim resume` or `prosim report` relies on
// (Note says what to run then).
type Stage struct {
	Name    string
	Abandon bool
	Note    string
}

var current, command atomic.Pointer[Stage]

// CurrentStage is the stage the runner is in, else the command's (CommandStage), or nil while
// it decides or is idle. Set-up code such as sampling a million personas does not poll for
// interrupts; a signal handler uses this to stop within a second instead of waiting for the
// stage to end.
func CurrentStage() *Stage {
	if st := current.Load(); st != nil {
		return st
	}
	return command.Load()
}

// CommandStage makes st the stage of a command whose whole work is one stage (report and
// export replay a run and write files), under the stages of the runner it uses, until end.
func CommandStage(st Stage) (end func()) {
	command.Store(&st)
	return func() { command.CompareAndSwap(&st, nil) }
}

// stager shows stages on w (the progress writer; nil: silent) and records the current one.
type stager struct {
	w     io.Writer
	mu    sync.Mutex
	st    *Stage
	start time.Time
	shown bool
	timer *time.Timer
}

// begin ends the stage in progress and starts st; it is announced if it lasts stageDelay.
func (s *stager) begin(st Stage) {
	s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st, s.start, s.shown = &st, time.Now(), false
	current.Store(s.st)
	if s.w != nil {
		cur := s.st
		s.timer = time.AfterFunc(stageDelay, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.st == cur {
				fmt.Fprintf(s.w, "%s ...\n", cur.Name)
				s.shown = true
			}
		})
	}
}

// end ends the stage in progress, with its time when it was announced.
func (s *stager) end() { s.finish("done in") }

// stopped ends the stage in progress, which an interrupt stopped: it did not get done.
func (s *stager) stopped() { s.finish("stopped after") }

func (s *stager) finish(how string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.shown {
		fmt.Fprintf(s.w, "%s: %s %.1f s\n", s.st.Name, how, time.Since(s.start).Seconds())
	}
	current.CompareAndSwap(s.st, nil)
	s.st, s.timer = nil, nil
}
