package games_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/engine"
)

// With an odd endowment of whole tokens no gift is exactly half: "gave exactly half" is not
// applicable, not 0% beside Engel's 16.74%, and the scorecard leaves it out (QA15 F4).
func TestDictatorHalfNotApplicableWhenNoGiftIsHalf(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	src := "name: half\nstudy: games\nseed: 1\npopulation: {source: sample, n: 8}\ngames:\n  - {game: dictator}\n  - {game: dictator, name: odd, endowment: 51}\n"
	res, err := engine.Run(context.Background(), load(t, src, 2), engine.Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	st := readRows(t, filepath.Join(out, "results", "games_stats.csv"))
	seen := 0
	for _, r := range st.rows {
		if st.get(r, "measure") != "gave exactly half, share of dictators" {
			continue
		}
		seen++
		mean, human, ref := st.get(r, "mean"), st.get(r, "human"), st.get(r, "human_reference")
		switch st.get(r, "game") {
		case "odd":
			if mean != "" || human != "" || ref != "not applicable: half the endowment of 51 is not a possible gift (steps of 1)" {
				t.Errorf("odd endowment: mean %q human %q reference %q", mean, human, ref)
			}
		case "dictator":
			if mean == "" || human == "" || !strings.Contains(ref, "Engel") {
				t.Errorf("even endowment: mean %q human %q reference %q", mean, human, ref)
			}
		}
	}
	if seen != 2 {
		t.Errorf("%d rows of %q, want 2", seen, "gave exactly half, share of dictators")
	}
	sc := readRows(t, filepath.Join(out, "results", "scorecard.csv"))
	var measures []string
	for _, r := range sc.rows {
		measures = append(measures, sc.get(r, "measure"))
	}
	if !slices.Contains(measures, "dictator_give_half") || slices.Contains(measures, "odd:dictator_give_half") || !slices.Contains(measures, "odd:dictator_give_nothing") {
		t.Errorf("scorecard measures %v", measures)
	}
	var sum strings.Builder
	if err := res.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	if want := "Not scored, dictator_give_half of odd (endowment 51): no gift can be exactly half the endowment."; !strings.Contains(sum.String(), want) {
		t.Errorf("the summary does not say %q:\n%s", want, sum.String())
	}
}
