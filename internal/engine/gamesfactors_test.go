package engine

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// factorLevelsOf reads results/name of the run in dir: its last len(want) header columns,
// which must be want, and each run_id's values of them (one set per run_id).
func factorLevelsOf(t *testing.T, dir, name string, want []string) map[string][]string {
	t.Helper()
	rows := readCSV(t, filepath.Join(dir, "results", name))
	head, n := rows[0], len(want)
	if len(head) < n+1 || !slices.Equal(head[len(head)-n:], want) {
		t.Fatalf("%s header %q: want it to end in %q", name, head, want)
	}
	by := map[string][]string{}
	for _, r := range rows[1:] {
		lv := r[len(r)-n:]
		if old, ok := by[r[0]]; ok && !slices.Equal(old, lv) {
			t.Fatalf("%s: run %s has levels %q and %q", name, r[0], old, lv)
		}
		by[r[0]] = slices.Clone(lv)
	}
	return by
}

// sameLevels checks that every run of table has the levels decisions.csv gives it, and that
// the run_id names them, and that there are runs runs.
func sameLevels(t *testing.T, table string, got, decisions map[string][]string, runs int) {
	t.Helper()
	if len(got) != runs {
		t.Errorf("%d runs in %s, want %d", len(got), table, runs)
	}
	for run, lv := range got {
		if !slices.Equal(decisions[run], lv) || !strings.Contains(run, "."+strings.Join(lv, ".")+".") {
			t.Errorf("run %s: %s levels %q, decisions.csv %q", run, table, lv, decisions[run])
		}
	}
}

// TestGamesHaveFactorColumns: with factors:, games.csv has decisions.csv's factor columns,
// the same names in the same order, last, and each run_id's levels in games.csv are its
// levels in decisions.csv.
func TestGamesHaveFactorColumns(t *testing.T) {
	src := `name: gfactors
study: games
seed: 11
replicates: 1
population: {source: sample, n: 6}
games:
  - {game: dictator, endowment: 100}
  - {game: ultimatum, endowment: 50}
factors:
  wording: [original, p1]
  option_order: [original, reversed]
conditions: [{name: none, policy: none}]
backend: {provider: builtin}
`
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), load(t, src, 4), Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	cols := []string{"wording", "option_order"}
	sameLevels(t, "games.csv", factorLevelsOf(t, dir, "games.csv", cols), factorLevelsOf(t, dir, "decisions.csv", cols), 4)
}

// TestRoundsHaveFactorColumns: the same for Study 3's rounds.csv.
func TestRoundsHaveFactorColumns(t *testing.T) {
	src := `name: s3factors
study: network
seed: 5
replicates: 1
population: {source: sample, n: 12}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 3
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 2, from: 2}
factors:
  wording: [original, p1]
  persona: [levels, third_person]
backend: {provider: builtin}
`
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), load(t, src, 4), Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	cols := []string{"wording", "persona"}
	sameLevels(t, "rounds.csv", factorLevelsOf(t, dir, "rounds.csv", cols), factorLevelsOf(t, dir, "decisions.csv", cols), 2*4)
}
