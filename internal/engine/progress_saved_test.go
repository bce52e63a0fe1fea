package engine

import (
	"strings"
	"testing"
)

// A resume's first progress line says how many decisions are saved and how many are left,
// not the whole run's count as if none were (QA11: "1296 decisions to make" with 84 saved).
func TestResumedProgressLine(t *testing.T) {
	for _, c := range []struct {
		total, saved int
		atMost       bool
		want         string
	}{
		{1296, 0, false, "sig2: 1296 decisions to make\n"},
		{1296, 84, false, "sig2: 1296 decisions, 84 saved, 1212 to make\n"},
		{1296, 84, true, "sig2: at most 1296 decisions, 84 saved, at most 1212 to make\n"},
	} {
		var out strings.Builder
		newProgress(&out, c.total, c.saved, "sig2", c.atMost)
		if out.String() != c.want {
			t.Errorf("total %d, saved %d: %q, want %q", c.total, c.saved, out.String(), c.want)
		}
	}
	// Later lines count the saved too: 84 saved and 3 made are 87 of 1296.
	var out strings.Builder
	p := newProgress(&out, 1296, 84, "sig2", false)
	p.add(3)
	p.finish(nil)
	if !strings.Contains(out.String(), "  87/1296 decisions (3 asked now) in ") {
		t.Errorf("resumed progress %q: want 87/1296, 3 made now", out.String())
	}
	var s *keySet
	if s.len() != 0 {
		t.Errorf("no key set: len %d", s.len())
	}
}
