package games_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/plural"
)

// The games ask second movers and punishments only when earlier replies call for them: the
// progress says "at most" up front, and the last line says how many were not needed and why,
// so that with the decisions made they add up to that bound.
func TestGamesProgressAddsUp(t *testing.T) {
	// Senders with ids 0 mod 4 send nothing; agent 4's offer is invalid; agent 3's round-2
	// contribution is invalid (its group's punishments around it are not asked).
	s := &scripted{bad: func(req backend.Request) (string, bool) {
		sit := sitOf(req)
		switch {
		case req.AgentID == 4 && sit.Scenario == game.ScenarioUltimatumProposer:
			return `{"offer": 150}`, true
		case req.AgentID == 3 && sit.Scenario == game.ScenarioPublicGoods && sit.Params["round"] == 2:
			return `{"contribute": 99}`, true
		}
		return "", false
	}}
	src := strings.Replace(gamesExp, "punishment: off}", "punishment: on}", 1)
	exp := load(t, src, 4)
	dir := filepath.Join(t.TempDir(), "run")
	var out bytes.Buffer
	res, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, Backends: s.backends(), Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	head := regexp.MustCompile(`g1: at most (\d+) decisions to make\n`).FindStringSubmatch(out.String())
	last := regexp.MustCompile(`\n  (\d+)/(\d+) decisions in [^;]*; (\d+) not needed: (.*)\n`).FindStringSubmatch(out.String())
	if head == nil || last == nil {
		t.Fatalf("progress output:\n%s", out.String())
	}
	bound, made, total, unneeded := atoi(head[1]), atoi(last[1]), atoi(last[2]), atoi(last[3])
	if total != bound || made != res.Decisions || made+unneeded != bound {
		t.Fatalf("at most %d; %d/%d made (%d in the run), %d not needed: they do not add up", bound, made, total, res.Decisions, unneeded)
	}
	// Each reason is counted as the rows of games.csv say it.
	g := readRows(t, filepath.Join(dir, "results", "games.csv"))
	nothingSent, badOffer := 0, 0
	for _, r := range g.rows {
		switch reason := g.get(r, "invalid_reason"); {
		case reason == "not asked: nothing was sent, 0 returned by rule":
			nothingSent++
		case reason == "not asked: the proposer's reply was invalid":
			badOffer++
		}
	}
	if nothingSent == 0 || badOffer == 0 {
		t.Fatalf("the script did not skip: %d nothing sent, %d invalid offers", nothingSent, badOffer)
	}
	for _, want := range []string{
		plural.Count(nothingSent, "trust returner") + " (nothing was sent, 0 returned by rule)",
		plural.Count(badOffer, "ultimatum responder") + " (the proposer's reply was invalid)",
		"public goods punishment decisions (the punisher's or the target's contribution was invalid)",
	} {
		if !strings.Contains(last[4], want) {
			t.Errorf("last line %q lacks %q", last[0], want)
		}
	}
	// 2 replicates: agent 3 sits round 2 out in each; its group of 4 (or 5) loses at least
	// 3 x 2 punishments of 12 (or 20) per replicate.
	m := regexp.MustCompile(`(\d+) public goods punishment decisions`).FindStringSubmatch(last[4])
	if n, _ := strconv.Atoi(m[1]); n < 2*6 {
		t.Errorf("%d punishments not needed, want at least 12", n)
	}
}
