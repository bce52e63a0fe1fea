package serve

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

// A complete games run made fewer decisions than its design's upper bound (an unpaired agent,
// a trust returner sent nothing): the pages say "at most" and "complete", not a share of the
// bound that reads as an unfinished run (QA15 F7: "940 of 1084 (86.7%)").
func TestCompleteRunBelowItsBound(t *testing.T) {
	src := `name: g
study: games
seed: 3
replicates: 1
population: {source: sample, n: 5}
games:
  - {game: trust, endowment: 10, multiplier: 3}
conditions:
  - {name: none, policy: none}
`
	path := filepath.Join(t.TempDir(), "g.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	res, err := engine.Run(context.Background(), e, engine.Options{Out: filepath.Join(root, "g"), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	list := get(t, s, "/").Body.String()
	m := regexp.MustCompile(`href="/runs/([^"/]+)"`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("no run in the list: %s", list)
	}
	if !strings.Contains(list, "/ at most ") {
		t.Errorf("the runs list does not say the count is a bound: %s", list)
	}
	page := get(t, s, "/runs/"+m[1]).Body.String()
	done := regexp.MustCompile(`data-k="Done">(\d+)</span> of at most <span data-k="Expected">(\d+)</span> \(<span id="percent" data-k="Percent">complete</span>\)`).FindStringSubmatch(page)
	if done == nil {
		t.Fatalf("the run page's decisions row does not say \"of at most ... (complete)\": %s", page)
	}
	if done[1] == done[2] || done[1] != strconv.Itoa(res.Decisions) {
		t.Errorf("decisions %s of at most %s; want the run's %d, below the bound", done[1], done[2], res.Decisions)
	}
}
