package games

import (
	"strings"
	"testing"
)

// QA15 F9: each label names what it measures. Round 1 of public goods in the overview (a mean
// of agent means) and in the contributions-by-round chart (a mean of group means) differ, so
// the overview's bars say which; the last ultimatum band's offer_high of 1 includes 1.
func TestGameLabelsNameTheirEstimands(t *testing.T) {
	for _, c := range []struct {
		s    GameStat
		want string
	}{
		{GameStat{Game: "public_goods", Measure: "round 1 contribution, share of endowment", Estimand: estAgentMeans}, "public_goods: r1 (agent means)"},
		{GameStat{Game: "public_goods", Measure: "round 10 contribution, share of endowment", Estimand: estGroupMeans}, "public_goods: r10 (group means)"},
		{GameStat{Game: "dictator", Measure: "given, share of endowment", Estimand: estAgentMeans}, "dictator: give"},
	} {
		if got := headlineLabel(c.s); got != c.want {
			t.Errorf("label %q, want %q", got, c.want)
		}
	}
	if last := rejectBands[len(rejectBands)-1]; last[1] <= 1 {
		t.Errorf("the last band %v leaves out offers of the whole pie", last)
	}
	for _, col := range RejectionsSchema.Columns {
		if col.Name == "offer_high" && !strings.Contains(col.Doc, "includes offers of the whole pie") {
			t.Errorf("offer_high says %q: the last band's 1 is inclusive", col.Doc)
		}
	}
}
