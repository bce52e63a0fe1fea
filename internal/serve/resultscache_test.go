package serve

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A run's results page is rendered once and served from a cache until the run's files change
// (a resume: its database, manifest): an 800,000-decision run's page took 75 s on every load
// (QA14 F8).
func TestResultsPageCached(t *testing.T) {
	root := t.TempDir()
	dir := builtinRun(t, root, "s1")
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	renders := 0
	defer func(f func(string) ([]byte, bool)) { currentReport = f }(currentReport)
	currentReport = func(string) ([]byte, bool) { return nil, false } // every page rendered: the cache is tested
	defer func(f func(io.Writer, []string, []string) error) { renderReport = f }(renderReport)
	render := renderReport
	renderReport = func(w io.Writer, ids, dirs []string) error { renders++; return render(w, ids, dirs) }
	first := get(t, s, "/runs/s1/results")
	second := get(t, s, "/runs/s1/results")
	if first.Code != 200 || second.Body.String() != first.Body.String() || !strings.Contains(first.Body.String(), "Validity and cost") {
		t.Fatalf("results: %d, %d\n%.300s", first.Code, second.Code, second.Body.String())
	}
	if renders != 1 {
		t.Fatalf("%d renderings for two loads of an unchanged run, want 1", renders)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(dir, "manifest.json"), later, later); err != nil {
		t.Fatal(err)
	}
	if get(t, s, "/runs/s1/results").Code != 200 || renders != 2 {
		t.Fatalf("%d renderings after the run's manifest changed, want 2", renders)
	}
}

// At most maxCachedPages results pages are kept: the oldest cached goes first.
func TestResultsCacheBounded(t *testing.T) {
	s := &Server{resultsCache: map[string]cachedPage{}}
	for i := range maxCachedPages + 3 {
		s.cacheResults(fmt.Sprintf("r%02d", i), cachedPage{page: []byte("x")})
	}
	if len(s.resultsCache) != maxCachedPages {
		t.Fatalf("%d pages cached, want %d", len(s.resultsCache), maxCachedPages)
	}
	for i := range 3 {
		if _, ok := s.resultsCache[fmt.Sprintf("r%02d", i)]; ok {
			t.Errorf("r%02d, among the oldest, is still cached", i)
		}
	}
	if _, ok := s.resultsCache[fmt.Sprintf("r%02d", maxCachedPages+2)]; !ok {
		t.Error("the newest page is not cached")
	}
}
