package engine

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/study"
)

// effectRows are network_effects' willingness rows of the victims, by round, as the run's
// analysis computes them: effect and CI formatted as the live view formats them.
func effectRows(t *testing.T, dir string) map[int][2]string {
	t.Helper()
	a, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tb, ok := a.Analysis.Table("network_effects")
	if !ok {
		t.Fatal("no network_effects table")
	}
	out := map[int][2]string{}
	tb.Rows(func(r []any) error {
		if r[2] == "victims" && r[4] == "willingness" {
			out[r[3].(int)] = [2]string{fmt.Sprintf("%+.2f", r[5]), fmt.Sprintf("[%+.2f, %+.2f]", r[6], r[7])}
		}
		return nil
	})
	return out
}

func victims(t *testing.T, e *study.Estimates) []string {
	t.Helper()
	for _, r := range e.Rows {
		if r[1] == "victims" {
			return r
		}
	}
	t.Fatalf("no victims row in %v", e.Rows)
	return nil
}

// Study 3's live estimates are network_effects' numbers at the last round finished: on the
// complete run its last round; with the last round's decisions gone (a run under way), the
// round before, with the same effect and interval the complete run reports for it.
func TestLiveEstimatesStudy3(t *testing.T) {
	dir := study3Run(t)
	want := effectRows(t, dir)
	e, err := LiveEstimates(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v := victims(t, e); v[2] != "3" || v[4] != want[3][0] || v[5] != want[3][1] {
		t.Fatalf("complete run: victims %v, network_effects round 3 %v", v, want[3])
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	// Keep one decision of round 3: a step recorded in part is not folded.
	if _, err := db.Exec(`DELETE FROM decisions WHERE round = 3 AND agent_id > 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if e, err = LiveEstimates(dir, 0); err != nil {
		t.Fatal(err)
	}
	if v := victims(t, e); v[2] != "2" || v[4] != want[2][0] || v[5] != want[2][1] {
		t.Fatalf("run under way: victims %v, network_effects round 2 %v", v, want[2])
	}
	if _, err := LiveEstimates(dir, 10); err == nil {
		t.Fatal("a run above the limit was estimated")
	}
}

// The games' live estimates are games_stats' headline measures, from the same analysis.
func TestLiveEstimatesGames(t *testing.T) {
	exp, err := experiment.Parse([]byte(`name: g
study: games
seed: 4
replicates: 1
population: {source: sample, n: 8}
games:
  - {game: dictator, endowment: 100}
  - {game: public_goods, endowment: 20, multiplier: 1.6, group_size: 4, rounds: 3}
backend: {provider: builtin}
`), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := a.Analysis.Table("games_stats")
	var stats [][]any
	tb.Rows(func(r []any) error { stats = append(stats, r); return nil })
	a.Close()
	e, err := LiveEstimates(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Rows) == 0 || len(e.Rows) >= len(stats) {
		t.Fatalf("%d headline rows of %d measures", len(e.Rows), len(stats))
	}
	for _, row := range e.Rows {
		found := false
		for _, s := range stats {
			if s[2] == row[1] && s[3] == row[2] {
				found = true
				if want := fmt.Sprintf("%.1f%%", 100*s[5].(float64)); !strings.HasPrefix(row[3], want) {
					t.Fatalf("%s %s: live %q, games_stats %s", row[1], row[2], row[3], want)
				}
			}
		}
		if !found {
			t.Fatalf("live row %v is not in games_stats", row)
		}
	}
}
