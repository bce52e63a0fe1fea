package games

import (
	"math"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/termtable"
)

// On an 80-column terminal the games table is split by columns; every block must still say
// which game and which measure each row is, and no line may pass column 80.
func TestGamesSummaryAt80LabelsEveryBlockByMeasure(t *testing.T) {
	nan := math.NaN()
	stat := func(game, measure, ref string) GameStat {
		return GameStat{Game: game, Measure: measure, Mean: 0.3, Lo: 0.28, Hi: 0.32, N: 1000, Unit: "decisions", Human: nan, HumanLo: nan, HumanHi: nan, HumanText: ref}
	}
	r := &results{groups: []Group{{Backend: "builtin", Condition: "none", Stats: []GameStat{
		stat("dictator", "given, share of endowment", "28.35% (Engel 2011)"),
		stat("dictator", "gave exactly half, share of dictators", "16.74% (Engel 2011)"),
		stat("public_goods_punish", "round 10 contribution, share of endowment", "rises and stays high (Fehr & Gächter 2000, 2002)"),
	}, PG: []PGTrajectory{{Game: "public_goods", Mean: []float64{0.46, 0.31, 0.20, 0.13, 0.09, 0.07, 0.07, 0.06, 0.06, 0.05}, Groups: 250}}}}}
	var b strings.Builder
	if err := r.summary(termtable.Fit(&b, 80)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("%d columns: %q", len([]rune(l)), l)
		}
	}
	tbl := out[strings.Index(out, "\ngame ")+1:]
	tbl, _, _ = strings.Cut(tbl, "public_goods:")
	blocks := strings.Split(strings.TrimSpace(tbl), "\n\n")
	if len(blocks) < 2 {
		t.Fatalf("the table was not split at 80 columns:\n%s", out)
	}
	for _, blk := range blocks {
		if !strings.HasPrefix(blk, "game ") || !strings.Contains(strings.Split(blk, "\n")[0], "measure") {
			t.Errorf("a block without the game and measure columns:\n%s", blk)
		}
		// The measures, wrapped between words, are all there.
		words := strings.Join(strings.Fields(blk), " ")
		for _, w := range []string{"given, share of", "gave exactly half", "round 10 contribution,"} {
			if !strings.Contains(words, w) {
				t.Errorf("block without the measure %q:\n%s", w, blk)
			}
		}
	}
	if !strings.Contains(out, "30.0% [28.0, 32.0]") || !strings.Contains(out, "rises and stays high (Fehr &") || !strings.Contains(out, "Gächter 2000, 2002)") {
		t.Errorf("a cell cut or lost:\n%s", out)
	}
}
