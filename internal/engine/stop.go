package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StopFile is the file whose appearance in a run directory stops the process running it, as
// an interrupt (Ctrl-C) does: the decisions in flight end, everything made is committed, and
// the run stays resumable. `prosim serve` stops runs this way, whichever process runs them.
const StopFile = "stop.request"

// ErrInterrupted is why a run stopped at Ctrl-C or at a stop request: the user asked it to
// stop, so the command exits as interrupted, not as failed.
var ErrInterrupted = errors.New("interrupted")

// errStopRequested is the cause of a stop by StopFile.
var errStopRequested = fmt.Errorf("%w by a stop request (%s, as prosim serve's Stop leaves)", ErrInterrupted, StopFile)

// stopPoll is how often a running run looks for StopFile.
var stopPoll = 200 * time.Millisecond

// RequestStop asks the process running dir to stop (RequestStop writes StopFile; the run
// removes it when it starts or resumes).
func RequestStop(dir string) error {
	return os.WriteFile(filepath.Join(dir, StopFile), []byte("stop requested\n"), 0o644)
}

// StopRequested reports whether a stop of dir is pending.
func StopRequested(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, StopFile))
	return err == nil
}

// watchStop returns a context cancelled, with cause errStopRequested, when a stop request
// appears in dir. A request older than since (when this process took the run's lock) was meant
// for a process that is gone: it is removed, not honoured. One made since, even before the run
// began to decide, is honoured.
func watchStop(ctx context.Context, dir string, since time.Time) (context.Context, context.CancelFunc) {
	path := filepath.Join(dir, StopFile)
	ctx, cancel := context.WithCancelCause(ctx)
	check := func() bool {
		fi, err := os.Stat(path)
		if err != nil {
			return false
		}
		os.Remove(path)
		// File times come from a coarse clock that may lag a few milliseconds: a second of slack.
		return !fi.ModTime().Before(since.Add(-time.Second))
	}
	if check() {
		cancel(errStopRequested)
		return ctx, func() { cancel(nil) }
	}
	go func() {
		t := time.NewTicker(stopPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if check() {
					cancel(errStopRequested)
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}
