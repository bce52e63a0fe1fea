package serve

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/store"
)

// A completed run's results page is its report.html, without a replay, while that is provably
// the replay's page (engine.CurrentReport): exactly the replay's bytes. Once the run's store
// changes, or its folder is renamed (the page names it), the page is the replay's again, never
// the stale report; a folder moved under its name is still its own report's.
func TestResultsPageServesTheRunsOwnReport(t *testing.T) {
	root := t.TempDir()
	dir := builtinRun(t, root, "s1")
	renders := 0
	defer func(f func(io.Writer, []string, []string) error) { renderReport = f }(renderReport)
	render := renderReport
	renderReport = func(w io.Writer, ids, dirs []string) error { renders++; return render(w, ids, dirs) }
	replay := func(id, dir string) []byte {
		t.Helper()
		var b bytes.Buffer
		if err := engine.RenderReportAs(&b, []string{id}, []string{dir}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	load := func(id string, replays int, want []byte) {
		t.Helper()
		s.mu.Lock() // a first load
		clear(s.resultsCache)
		s.mu.Unlock()
		w := get(t, s, "/runs/"+id+"/results")
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want) {
			t.Fatalf("%s: %d, %d bytes, not the replay's %d\n%.300s", id, w.Code, w.Body.Len(), len(want), w.Body.String())
		}
		if renders != replays {
			t.Fatalf("%s: %d replays, want %d", id, renders, replays)
		}
	}
	load("s1", 0, replay("s1", dir))

	// The store changes: a decision recorded after the run (as a hand edit would).
	st, err := store.Open(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	k := store.Key{RunID: "none.r1", AgentID: 1, Scenario: "donating"}
	if err := st.Commit(store.Decision{Key: k, Reply: store.Reply{Raw: "edited", Invalid: "edited after the run", Provider: "builtin", CostUSD: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	stale, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	now := replay("s1", dir)
	if bytes.Equal(now, stale) {
		t.Fatal("the edit did not change the report: the test tests nothing")
	}
	load("s1", 1, now)

	// A fresh run, renamed: replayed (its page names the folder), then moved under its
	// name to another served root: its own report.
	dir2 := builtinRun(t, root, "s2")
	renamed := filepath.Join(root, "s3")
	if err := os.Rename(dir2, renamed); err != nil {
		t.Fatal(err)
	}
	s.rescan()
	load("s3", 2, replay("s3", renamed))
	other := t.TempDir()
	moved := filepath.Join(other, "s2")
	if err := os.Rename(renamed, moved); err != nil {
		t.Fatal(err)
	}
	if s, err = New(context.Background(), Options{Roots: []string{other}, Loopback: true}); err != nil {
		t.Fatal(err)
	}
	load("s2", 2, replay("s2", moved))
}
