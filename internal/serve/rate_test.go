package serve

import (
	"math"
	"testing"
	"time"
)

// After a Resume the live rate counts only the time the run ran again (QA12 #15: true rate
// ~3.4/s, the page showed 1.1 to 2.3/s and an ETA three times too long, its window reaching
// into the pause): whether the page saw the run stopped, or not (resumed from a terminal, by
// another process).
func TestRateLeavesOutThePause(t *testing.T) {
	const perSec = 3.4
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	for _, c := range []struct {
		name         string
		pollsInPause bool
		holder2      int // the process that runs the resumed run
	}{
		{"the page saw the pause", true, 100},
		{"resumed elsewhere, unseen", false, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{history: map[string][]sample{}}
			done := 0.0
			for sec := 0.0; sec <= 20; sec++ { // running, polled every second
				done = perSec * sec
				s.rateAt("run", int(done), "running", 100, at(sec))
			}
			if c.pollsInPause {
				for sec := 21.0; sec < 80; sec++ {
					s.rateAt("run", int(done), "stopped", 0, at(sec))
				}
			}
			var got float64
			for sec := 80.0; sec <= 86; sec++ { // resumed at 80 s
				got = s.rateAt("run", int(done+perSec*(sec-80)), "running", c.holder2, at(sec))
			}
			if math.Abs(got-perSec) > 0.2 {
				t.Fatalf("rate %.2f/s 6 s after the resume, want %.1f/s: the pause counted", got, perSec)
			}
		})
	}
}
