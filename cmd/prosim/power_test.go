package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A synthetic effects table with known answers: SE = CI width / (2 x 1.96), MDE = 2.8016 SE,
// and the sample factor (MDE/target)^2.
func TestPowerRowsKnownAnswer(t *testing.T) {
	recs := [][]string{
		{"backend", "condition", "exposure_group", "round", "outcome", "effect", "ci_low", "ci_high", "n_agents", "n_replicates"},
		{"builtin", "reward", "victims", "2", "willingness", "-0.2", "-0.4", "0", "40", "4"},
		{"builtin", "reward", "victims", "3", "willingness", "-0.5", "-0.5", "-0.10800", "40", "4"}, // width 0.392: SE 0.1
		{"builtin", "reward", "victims", "3", "unfairness", "1", "0.5", "1.5", "40", "4"},
		{"builtin", "reward", "distance_1", "3", "willingness", "0", "0", "0", "360", "4"}, // no variation
		{"builtin", "reward", "distance_2_changed", "3", "willingness", "-1", "-2", "0", "3", "1"},
	}
	// A run written before the groups' spelling was unified (and its column named group) reads
	// the same.
	legacy := map[string]string{"victims": "victim", "distance_1": "1", "distance_2_changed": "2|1 changed", "exposure_group": "group"}
	var old [][]string
	for _, r := range recs {
		r = slices.Clone(r)
		if k, ok := legacy[r[2]]; ok {
			r[2] = k
		}
		old = append(old, r)
	}
	if a, b := mustPower(t, recs), mustPower(t, old); len(a) != 2 || len(b) != 2 || a[0].MDE != b[0].MDE || a[1].Pairs != b[1].Pairs {
		t.Errorf("legacy spelling: %+v, want %+v", b, a)
	}
	rows, err := powerRows(recs, 4, -0.14, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want the last round's willingness of victim and 1: %+v", len(rows), rows)
	}
	v := rows[0]
	if math.Abs(v.SE-0.1) > 1e-4 || math.Abs(v.MDE-0.28016) > 1e-4 {
		t.Errorf("victim: SE %v MDE %v, want 0.1 and 0.2802", v.SE, v.MDE)
	}
	// (0.28016/0.14)^2 = 4.0046: four times (and a bit) the replicates.
	if math.Abs(v.Factor-4.0046) > 1e-3 || v.Agents != 100 {
		t.Errorf("victim: factor %v agents %d, want 4.005 and 100 (400 agent x replicate pairs / 4 replicates)", v.Factor, v.Agents)
	}
	if rows[1].SE != 0 {
		t.Errorf("a group without variation has SE %v", rows[1].SE)
	}
	// --sd fills it: SE = sd / sqrt(agent x replicate pairs).
	rows, _ = powerRows(recs, 4, -0.14, 1.2)
	if math.Abs(rows[1].SE-0.0632456) > 1e-6 || !rows[1].Assumed {
		t.Errorf("--sd 1.2 over 360 agent x replicate pairs: SE %v, want 0.0632", rows[1].SE)
	}
}

func TestPowerCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(`name: pw
study: network
seed: 5
replicates: 2
population: {source: sample, n: 40}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.1}
  rounds: 3
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
  - {name: reward, policy: economic, inequity: {preset: reward, k: 4}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := prosim(t, "power", file, "--out", filepath.Join(dir, "run"), "--effect", "-0.5")
	if err != nil {
		t.Fatal(err, out)
	}
	recs, err := readPowerCSV(filepath.Join(dir, "run", "results", "network_effects.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := powerRows(recs, 2, -0.5, 0)
	if err != nil || len(rows) == 0 {
		t.Fatal(err, rows)
	}
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "reward" && f[1] == "victims" {
			line = l
		}
	}
	if !strings.Contains(line, " "+f3(rows[0].MDE)+" ") || !strings.Contains(out, "-0.50 points") {
		t.Errorf("power output lacks the victims' MDE %s:\n%s", f3(rows[0].MDE), out)
	}
	if _, err := prosim(t, "power", "../../examples/study1.yaml"); err == nil || !strings.Contains(err.Error(), "study network") {
		t.Errorf("power on study 1: %v", err)
	}
}

func mustPower(t *testing.T, recs [][]string) []powerRow {
	t.Helper()
	rows, err := powerRows(recs, 4, -0.14, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
