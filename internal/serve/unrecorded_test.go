package serve

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/store"
)

// The live view counts the calls that no recorded decision holds (a call cut off by Ctrl-C
// after it was sent), as the run's summary and report do: they were paid.
func TestLiveCountsUnrecordedCalls(t *testing.T) {
	root := t.TempDir()
	dir := builtinRun(t, root, "u")
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	before := s.snapshot("u", dir, false)
	st, err := store.Open(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddUnrecorded([]store.Unrecorded{{Backend: "openai", Calls: 2, UnusableCalls: 2, InputTokens: 7, CostUSD: 0.5}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	after := s.snapshot("u", dir, false)
	if after.Calls != before.Calls+2 || after.Done != before.Done {
		t.Errorf("calls %d -> %d, decisions %d -> %d; want 2 calls more, the same decisions", before.Calls, after.Calls, before.Done, after.Done)
	}
}
