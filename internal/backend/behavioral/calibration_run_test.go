package behavioral_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/study/games"
)

// gameStat is one row of the games' statistics table (results/games_stats.csv).
type gameStat struct {
	Game, Measure, Unit, HumanText string
	Mean                           float64
	N                              int
}

// TestCalibrationGamesRun plays the games of examples/games.yaml through the engine with the
// behavioural model, as `prosim run` does (the engine's population sampler, matching, prompts'
// Situation parameters, public goods rounds built from earlier replies), and compares the
// games summary's figures with the published human ones (game.Human*). The example's 200
// agents are too few for tight tolerances (100 ultimatum pairs, of which about 20 offer less
// than 20%), so the one-shot games are played by 3,000 agents and the public goods games by
// 400 (100 groups); the example's seed is replaced, the games are the example's.
func TestCalibrationGamesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("plays about 30,000 decisions through the engine")
	}
	oneShot := runGames(t, 3000, 101, func(g games.Game) bool { return g.Game != "public_goods" })
	pg := runGames(t, 400, 102, func(g games.Game) bool { return g.Game == "public_goods" })
	stats := append(oneShot, pg...)
	get := func(gameName, measure string) gameStat {
		t.Helper()
		i := slices.IndexFunc(stats, func(s gameStat) bool {
			return s.Game == gameName && strings.HasPrefix(s.Measure, measure)
		})
		if i < 0 {
			t.Fatalf("no statistic %s / %s in the games summary", gameName, measure)
		}
		return stats[i]
	}
	for _, s := range stats {
		t.Logf("%-20s %-42s %6.3f  (n %d %s)  human %s", s.Game, s.Measure, s.Mean, s.N, s.Unit, s.HumanText)
	}
	within := func(s gameStat, human, tol float64) {
		t.Helper()
		if math.IsNaN(s.Mean) || math.Abs(s.Mean-human) > tol {
			t.Errorf("%s %s: model %.3f, human %.3f (tolerance %.2f)", s.Game, s.Measure, s.Mean, human, tol)
		}
	}
	between := func(s gameStat, lo, hi float64) {
		t.Helper()
		if math.IsNaN(s.Mean) || s.Mean < lo || s.Mean > hi {
			t.Errorf("%s %s: model %.3f, want %.2f-%.2f", s.Game, s.Measure, s.Mean, lo, hi)
		}
	}
	hd, hu, ht, hp := game.HumanDictator, game.HumanUltimatum, game.HumanTrust, game.HumanPublicGoods
	within(get("dictator", "given"), hd.MeanShare, .03)
	within(get("dictator", "gave nothing"), hd.GiveNothing, .08)
	within(get("dictator", "gave exactly half"), hd.GiveHalf, .08)
	within(get("ultimatum", "offer,"), hu.MeanOffer, .03)
	within(get("ultimatum", "offers rejected"), hu.RejectAll, .04)
	between(get("ultimatum", "offers below"), .4, .6)
	within(get("trust", "sent"), ht.Sent, .05)
	within(get("trust", "returned"), ht.Returned, .05)
	for _, name := range []string{"public_goods", "public_goods_punish"} {
		between(get(name, "round 1 contribution"), hp.FirstLo, hp.FirstHi)
	}
	r1, r10 := get("public_goods", "round 1 contribution"), get("public_goods", "round 10 contribution")
	if r10.Mean > .5*r1.Mean {
		t.Errorf("without punishment contributions should decay towards 0: round 1 %.3f, round 10 %.3f", r1.Mean, r10.Mean)
	}
	within(get("public_goods", "contributed nothing"), hp.LastZeroNoPunish, .1)
	p1, p10 := get("public_goods_punish", "round 1 contribution"), get("public_goods_punish", "round 10 contribution")
	if p10.Mean < p1.Mean+.2 {
		t.Errorf("with punishment contributions should rise and stay high: round 1 %.3f, round 10 %.3f", p1.Mean, p10.Mean)
	}
	within(get("public_goods_punish", "contributed everything"), hp.LastAllPunish, .1)
	within(get("public_goods_punish", "punished at least once"), hp.PunishedOnce, .08)
}

// runGames runs examples/games.yaml's games that keep selects, with n sampled agents and the
// given seed, and returns the games summary's statistics.
func runGames(t *testing.T, n int, seed uint64, keep func(games.Game) bool) []gameStat {
	t.Helper()
	exp, err := experiment.Load(filepath.Join("..", "..", "..", "examples", "games.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if exp.Study != games.Name || exp.Population.Source != "sample" || len(exp.Backends) != 1 || exp.Backends[0].Provider != "builtin" {
		t.Fatalf("examples/games.yaml is no longer a games study of a sampled population with the builtin backend")
	}
	exp.Population.N, exp.Seed, exp.Replicates = n, &seed, 1
	cfg := games.ConfigOf(exp)
	*cfg = slices.DeleteFunc(*cfg, func(g games.Game) bool { return !keep(g) })
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	a, err := engine.Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tb, ok := a.Analysis.Table(games.StatsSchema.Name)
	if !ok {
		t.Fatalf("the games' analysis has no table %s", games.StatsSchema.Name)
	}
	col := map[string]int{}
	for i, c := range tb.Columns {
		col[c.Name] = i
	}
	var out []gameStat
	groups := map[[2]string]bool{}
	err = tb.Rows(func(row []any) error {
		groups[[2]string{row[col["backend"]].(string), row[col["condition"]].(string)}] = true
		out = append(out, gameStat{Game: row[col["game"]].(string), Measure: row[col["measure"]].(string), Unit: row[col["unit"]].(string),
			HumanText: row[col["human_reference"]].(string), Mean: row[col["mean"]].(float64), N: row[col["n"]].(int)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 {
		t.Fatalf("%d backend x condition groups, want 1", len(groups))
	}
	return out
}
