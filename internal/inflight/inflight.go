// Package inflight keeps a set of files in use (being read, being written), each until its
// user says it is done: a Ctrl-C handler that exits in the middle of a stage asks it which.
package inflight

import "sync"

// Files is a set of file paths in use; the zero value is empty and ready.
type Files struct {
	mu    sync.Mutex
	files map[int]string
	next  int
}

// Begin records that path is in use, until the returned function is called.
func (s *Files) Begin(path string) (end func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[int]string{}
	}
	id := s.next
	s.next++
	s.files[id] = path
	return func() {
		s.mu.Lock()
		delete(s.files, id)
		s.mu.Unlock()
	}
}

// Any is a file in use, or "" when none is.
func (s *Files) Any() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		return f
	}
	return ""
}

// Final calls f with each file in use and keeps the set locked for good, so that no use
// begins after it (for a process about to exit).
func (s *Files) Final(f func(path string)) {
	s.mu.Lock()
	for _, p := range s.files {
		f(p)
	}
}
