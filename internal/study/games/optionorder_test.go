package games_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/study/games"
)

// A reply is the index of the option shown: reordered, index k means the option shown k-th,
// recoded to the scenario's index of that option.
func TestReorderAndRecode(t *testing.T) {
	sc := scenario.Schema{Fields: []scenario.Field{{Name: "n", Kind: scenario.Likert, Min: 1, Max: 7},
		{Name: "c", Kind: scenario.Choice, Options: []string{"a", "b", "c"}}}}
	rev, shown := games.Reorder(sc, "reversed", 1)
	if !slices.Equal(rev.Fields[1].Options, []string{"c", "b", "a"}) || !slices.Equal(sc.Fields[1].Options, []string{"a", "b", "c"}) {
		t.Fatalf("reversed options %v (scenario's %v)", rev.Fields[1].Options, sc.Fields[1].Options)
	}
	got := games.Recode(backend.Reply{Values: map[string]float64{"n": 2, "c": 0}}, rev, shown)
	if got.Values["c"] != 2 || got.Values["n"] != 2 {
		t.Errorf("recoded %v, want c 2 (option c) and n unchanged", got.Values)
	}
	seenOrders := map[string]bool{}
	for sd := uint64(0); sd < 40; sd++ {
		sh, shown := games.Reorder(sc, "shuffled", sd)
		seenOrders[strings.Join(sh.Fields[1].Options, "")] = true
		for k := range 3 {
			r := games.Recode(backend.Reply{Values: map[string]float64{"c": float64(k)}}, sh, shown)
			if sc.Fields[1].Options[int(r.Values["c"])] != sh.Fields[1].Options[k] {
				t.Fatalf("seed %d: shown %v, answer %d recoded to %v", sd, sh.Fields[1].Options, k, r.Values["c"])
			}
		}
	}
	if len(seenOrders) != 6 {
		t.Errorf("shuffling drew %d of the 6 orders in 40 seeds", len(seenOrders))
	}
	if o, sh := games.Reorder(sc, "original", 1); sh != nil || !slices.Equal(o.Fields[1].Options, sc.Fields[1].Options) {
		t.Error("original order changed the options")
	}
}

// Responders that always reject, by the option's position as shown: decisions.csv records
// "reject" whatever order the options were shown in.
func TestOptionOrderRecodedInTheRun(t *testing.T) {
	src := "name: o\nstudy: games\nseed: 3\nreplicates: 1\npopulation: {source: sample, n: 6}\ngames:\n  - {game: ultimatum}\n" +
		"factors:\n  option_order: [original, reversed, shuffled]\n"
	var mu sync.Mutex
	orders := map[string]bool{}
	be := func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if sitOf(req).Scenario == game.ScenarioUltimatumProposer {
				return backend.Reply{Raw: `{"offer": 20}`, Provider: "fake", Model: "m"}, nil
			}
			opts := req.Schema.Fields[0].Options
			mu.Lock()
			orders[strings.Join(opts, ",")] = true
			mu.Unlock()
			k := slices.Index(opts, "reject")
			return backend.Reply{Raw: `{"choice": ` + string(rune('0'+k)) + `}`, Values: map[string]float64{"choice": float64(k)}, Provider: "fake", Model: "m"}, nil
		}), 0), nil
	}
	dir := runGamesExp(t, src, 2, be)
	if !orders["accept,reject"] || !orders["reject,accept"] {
		t.Errorf("orders shown %v, want both", orders)
	}
	d := readRows(t, filepath.Join(dir, "results", "decisions.csv"))
	n := 0
	for _, r := range d.rows {
		if d.get(r, "field") == "choice" {
			n++
			if d.get(r, "value_label") != "reject" || d.get(r, "value") != "1" || d.get(r, "option_order") == "" {
				t.Errorf("responder row %v: want reject (1) with its level", r)
			}
		}
	}
	if n != 9 { // 3 pairs x 3 levels
		t.Errorf("%d responder decisions, want 9", n)
	}
}
