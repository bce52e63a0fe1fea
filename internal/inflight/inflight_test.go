package inflight

import "testing"

// A file is in use from Begin until its end is called; Final sees those still in use.
func TestFiles(t *testing.T) {
	var s Files
	if s.Any() != "" {
		t.Fatal("an empty set has a file")
	}
	endA := s.Begin("a")
	endB := s.Begin("b")
	endA()
	if got := s.Any(); got != "b" {
		t.Fatalf("Any = %q, want b", got)
	}
	endB()
	if got := s.Any(); got != "" {
		t.Fatalf("Any = %q after every end", got)
	}
	s.Begin("c")
	var seen []string
	s.Final(func(p string) { seen = append(seen, p) })
	if len(seen) != 1 || seen[0] != "c" {
		t.Fatalf("Final saw %v, want [c]", seen)
	}
}
