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
