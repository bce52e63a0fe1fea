package games_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
)

// The offers below 20% rejected (games_stats.csv) are, when no offer is below 10%, the same
// pairs as the 10-20% band of ultimatum_rejections.csv: one rate with one interval in both
// files (QA had 8 of 21 with [14.5, 68.4] in one and [13.0, 67.6] in the other, two bootstrap
// draws). Every offer here is 10 or 15 of 100, and a responder's answer varies with its
// decision's seed, so the interval is a bootstrap over responders.
func TestRejectionRateOneIntervalInBothFiles(t *testing.T) {
	src := "name: r\nstudy: games\nseed: 9\nreplicates: 3\npopulation: {source: sample, n: 16}\ngames:\n  - {game: ultimatum}\n"
	be := func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			raw := `{"choice": "accept"}`
			switch {
			case sitOf(req).Scenario == game.ScenarioUltimatumProposer:
				raw = fmt.Sprintf(`{"offer": %d}`, 10+5*(req.AgentID%2))
			case req.Seed%3 == 0:
				raw = `{"choice": "reject"}`
			}
			return backend.Reply{Raw: raw, Provider: "fake", Model: "m"}, nil
		}), 0), nil
	}
	dir := runGamesExp(t, src, 2, be)
	st := readRows(t, filepath.Join(dir, "results", "games_stats.csv"))
	var low []string
	for _, r := range st.rows {
		if st.get(r, "measure") == "offers below 20% rejected" {
			low = r
		}
	}
	rj := readRows(t, filepath.Join(dir, "results", "ultimatum_rejections.csv"))
	var band []string
	for _, r := range rj.rows {
		if rj.get(r, "offer_low") == "0.1" {
			band = r
		}
	}
	if low == nil || band == nil {
		t.Fatal("no below-20% row or no 10-20% band")
	}
	if st.get(low, "n") != rj.get(band, "pairs") || st.get(low, "mean") != rj.get(band, "rate") {
		t.Fatalf("below 20%%: %s of n %s; band 10-20%%: %s of %s pairs: want the same pairs", st.get(low, "mean"), st.get(low, "n"), rj.get(band, "rate"), rj.get(band, "pairs"))
	}
	for _, c := range []string{"ci_low", "ci_high", "ci_method"} {
		if a, b := st.get(low, c), rj.get(band, c); a != b {
			t.Errorf("%s: games_stats.csv %s, ultimatum_rejections.csv %s", c, a, b)
		}
	}
	if m := st.get(low, "ci_method"); m != "expanded percentile bootstrap over responders" {
		t.Errorf("ci_method %q, want the bootstrap (the case QA met)", m)
	}
}

// "Punished at least once" counts each agent once per group-run it played: with factors
// crossed that is once per replicate and level, and the unit says so (qa11: n 360 = 60 agents
// x 2 replicates x 3 option_order levels under "agent-replicates (each agent once per
// replicate)"). Without factors the unit stays agent-replicates.
func TestPunishedOnceUnitCountsLevels(t *testing.T) {
	base := "name: p\nstudy: games\nseed: 4\nreplicates: 2\npopulation: {source: sample, n: 8}\ngames:\n  - {game: public_goods, rounds: 2, group_size: 4, punishment: both}\n"
	for _, c := range []struct {
		extra, unit, estimand string
		n                     int
	}{
		{"", "agent-replicates", "share of agent-replicates (each agent once per replicate)", 8 * 2},
		{"factors:\n  option_order: [original, shuffled]\n", "agent-cells", "share of agent-cells (each agent once per replicate and factor level)", 8 * 2 * 2},
	} {
		dir := runGamesExp(t, base+c.extra, 2, (&scripted{}).backends())
		st := readRows(t, filepath.Join(dir, "results", "games_stats.csv"))
		found := false
		for _, r := range st.rows {
			if st.get(r, "measure") != "punished at least once, share of "+c.unit { // the label names the unit (QA15 F9)
				continue
			}
			found = true
			if st.get(r, "unit") != c.unit || st.get(r, "estimand") != c.estimand || atoi(st.get(r, "n")) != c.n {
				t.Errorf("factors %q: n %s %s (%s), want %d %s (%s)", c.extra, st.get(r, "n"), st.get(r, "unit"), st.get(r, "estimand"), c.n, c.unit, c.estimand)
			}
		}
		if !found {
			t.Fatal("no punished-at-least-once row")
		}
	}
}
