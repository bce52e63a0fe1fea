package engine

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// spreadTestExp is the example's reward design (prosim104, 5 victims from day 2, 30% of the
// edges a day, 7 days; 6 replicates, the example has 20) with the observation OBS: grounded tells each agent its
// neighbours' ratings, so the behavioural model's social influence pulls it toward them;
// message tells it only that teammates were treated unfairly (no ratings: no influence, the
// only path past distance 1 is cut).
const spreadTestExp = `name: spreadtest
study: network
seed: 20250521
replicates: 6
population: {source: prosim104}
network:
  graph: {type: prosim104}
  rounds: 7
  scenario: volunteering
  activation: {fraction: 0.3}
  observation: OBS
  history: 3
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 5, from: 2}
backend: {provider: builtin}
`

// spreadP runs the design and reads the permutation p-values of network_contagion.csv by
// group and round.
func spreadP(t *testing.T, obs string) map[string]map[int]float64 {
	t.Helper()
	exp, err := experiment.Parse([]byte(strings.Replace(spreadTestExp, "OBS", obs, 1)), "spreadtest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "results", "network_contagion.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	out := map[string]map[int]float64{}
	for _, r := range recs[1:] {
		if r[col["p_value"]] == "" {
			continue
		}
		round, _ := strconv.Atoi(r[col["round"]])
		p, err := strconv.ParseFloat(r[col["p_value"]], 64)
		if err != nil {
			t.Fatal(err)
		}
		g := r[col["exposure_group"]]
		if out[g] == nil {
			out[g] = map[int]float64{}
		}
		out[g][round] = p
	}
	return out
}

// The permutation test of spread on the behavioural model itself: without social influence
// nothing spreads beyond distance 1 (p > 0.05 at 2 and 3+ in every round), with it the spread
// at distance 2 is found by the last day (p < 0.05); distance 1 is found either way (the
// neighbours hear of the unfairness).
func TestNetworkSpreadTestOnModel(t *testing.T) {
	off, on := spreadP(t, "message"), spreadP(t, "grounded")
	for _, g := range []string{"distance_2", "distance_3plus"} {
		for r := 2; r <= 7; r++ {
			if p, ok := off[g][r]; !ok || !(p > 0.05) {
				t.Errorf("no social influence, distance %s, round %d: p = %v (present %v), want > 0.05", g, r, p, ok)
			}
		}
	}
	for _, m := range []map[string]map[int]float64{off, on} {
		if p := m["distance_1"][7]; !(p < 0.05) {
			t.Errorf("distance 1, last round: p = %v, want < 0.05", p)
		}
	}
	if p := on["distance_2"][7]; !(p < 0.05) {
		t.Errorf("social influence on, distance 2, last round: p = %v, want < 0.05", p)
	}
	t.Logf("distance 2 by round, influence off: %v; on: %v", off["distance_2"], on["distance_2"])
}
