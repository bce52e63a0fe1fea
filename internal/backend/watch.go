package backend

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Watch keeps what a run's provider calls are waiting for: calls in flight (since when) and
// back-offs before a retry (until when, and whether a server asked for it with Retry-After).
// Retry reports into it; the progress output reads it, so that a run held by a slow server or
// a long Retry-After says so instead of looking hung. A nil *Watch records nothing.
type Watch struct {
	mu    sync.Mutex
	next  int
	calls map[int]time.Time
	waits map[int]wait
	held  map[int]limitWait // calls held by a rate limit
	// last is the last failure that a call backs off after, said briefly (Reason).
	last string
	now  func() time.Time
}

// limitWait is a call held by a rate limit (what) until when.
type limitWait struct {
	what  string
	until time.Time
}

type wait struct {
	until      time.Time
	retryAfter time.Duration // what the server asked for (0: our own back-off)
}

// NewWatch makes an empty Watch.
func NewWatch() *Watch {
	return &Watch{calls: map[int]time.Time{}, waits: map[int]wait{}, held: map[int]limitWait{}, now: time.Now}
}

// call records a call in flight until the returned function is called.
func (w *Watch) call() func() {
	if w == nil {
		return func() {}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return keep(w, w.calls, w.now())
}

// backoff records a wait of d before a retry after failure err (retryAfter: what the server
// asked for, 0 when the wait is our own back-off) until the returned function is called.
func (w *Watch) backoff(d, retryAfter time.Duration, err error) func() {
	if w == nil {
		return func() {}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = Reason(err)
	return keep(w, w.waits, wait{until: w.now().Add(d), retryAfter: retryAfter})
}

// limited records a call held by the rate limit what until until, until the returned function
// is called.
func (w *Watch) limited(what string, until time.Time) func() {
	if w == nil {
		return func() {}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return keep(w, w.held, limitWait{what: what, until: until})
}

// keep puts v in m (one of w's maps) under a new id, with w.mu held, and returns the function
// that takes it out.
func keep[T any](w *Watch, m map[int]T, v T) func() {
	id := w.next
	w.next++
	m[id] = v
	return func() {
		w.mu.Lock()
		delete(m, id)
		w.mu.Unlock()
	}
}

// Waiting describes, in a few words, what calls have waited on for at least slow: calls in
// flight that long (a slow or hung server) and retries waiting out a back-off, with the last
// failure backed off after. It is "" when nothing waits.
func (w *Watch) Waiting(slow time.Duration) string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	var s string
	n, oldest := 0, time.Duration(0)
	for _, t := range w.calls {
		if a := now.Sub(t); a >= slow {
			n++
			oldest = max(oldest, a)
		}
	}
	if n > 0 {
		s = fmt.Sprintf("%d call(s) in flight for %s or more, the oldest %s", n, slow.Round(time.Second), oldest.Round(time.Second))
	}
	b, ra, left := 0, time.Duration(0), time.Duration(0)
	for _, x := range w.waits {
		b++
		ra = max(ra, x.retryAfter)
		left = max(left, x.until.Sub(now))
	}
	if b > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%d call(s) backing off before a retry, %s left", b, max(left, 0).Round(time.Second))
		if ra > 0 {
			s += fmt.Sprintf(" (Retry-After: a server asked for %s)", ra.Round(time.Second))
		}
		s += "; last error: " + w.last
	}
	// Calls held by a rate limit, by limit (sorted: the line must not flicker between orders).
	held := map[string]int{}
	heldLeft := map[string]time.Duration{}
	for _, x := range w.held {
		held[x.what]++
		heldLeft[x.what] = max(heldLeft[x.what], x.until.Sub(now))
	}
	for _, what := range slices.Sorted(maps.Keys(held)) {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%d call(s) held by %s, %s left", held[what], what, max(heldLeft[what], 0).Round(time.Second))
	}
	return s
}
