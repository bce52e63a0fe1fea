package engine

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

// The example's "done when" of Study 3 (issue 10), on examples/study3-network.yaml as shipped:
// the placebo (what noise alone gives the contagion label) marks at most 5% of any group on
// any day; at least half of the victims are affected on the last day in both presets; the
// victims' and the distance-1 effects on willingness are negative with 95% CIs below 0 on
// the last day. A validation check of the label and the design: nothing here is fitted to it.
func TestNetworkExampleDoneWhen(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 58,240 decisions of the example")
	}
	exp, err := experiment.Load(filepath.Join("..", "..", "examples", "study3-network.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	rows := func(name string) []map[string]string { return csvByName(t, filepath.Join(dir, "results", name)) }
	num := func(m map[string]string, c string) float64 {
		v, err := strconv.ParseFloat(m[c], 64)
		if err != nil {
			t.Fatalf("%s = %q in %v", c, m[c], m)
		}
		return v
	}
	last := strconv.Itoa(netstudy.ConfigOf(exp).Rounds)
	victims := map[string]float64{}
	cells := 0
	for _, m := range rows("network_contagion.csv") {
		if m["placebo_affected_share"] == "" {
			continue
		}
		cells++
		if p := num(m, "placebo_affected_share"); p > 0.05 {
			t.Errorf("%s, group %s, round %s: placebo affected share %.3f > 0.05", m["condition"], m["exposure_group"], m["round"], p)
		}
		if m["exposure_group"] == "victims" && m["round"] == last {
			victims[m["condition"]] = num(m, "affected_share")
		}
	}
	if cells == 0 {
		t.Fatal("no placebo share")
	}
	for _, c := range []string{"reward_inequity", "burden_inequity"} {
		if v, ok := victims[c]; !ok || v < 0.5 {
			t.Errorf("%s: %.3f of the victims affected on the last day (present %v), want >= 0.5", c, v, ok)
		}
	}
	found := 0
	for _, m := range rows("network_effects.csv") {
		if m["round"] != last || m["outcome"] != "willingness" || (m["exposure_group"] != "victims" && m["exposure_group"] != "distance_1") {
			continue
		}
		found++
		if e, hi := num(m, "effect"), num(m, "ci_high"); !(e < 0 && hi < 0) {
			t.Errorf("%s, group %s, last day: willingness effect %.3f, CI high %.3f, want both < 0", m["condition"], m["exposure_group"], e, hi)
		}
	}
	if found != 4 {
		t.Errorf("%d last-day effects of victims and distance 1, want 4", found)
	}
}
