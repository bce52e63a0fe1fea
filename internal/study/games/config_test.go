package games

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

const goodGames = `name: g
study: games
seed: 3
population: {source: sample, n: 20}
games:
  - {game: dictator}
  - {game: ultimatum, responder: mao}
  - {game: trust}
  - {game: public_goods, rounds: 5}
`

func TestGamesDefaultsAndTreatments(t *testing.T) {
	e, err := experiment.Parse([]byte(goodGames), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := ConfigOf(e).Instances()
	var names []string
	for _, g := range in {
		names = append(names, g.Name)
	}
	if strings.Join(names, ",") != "dictator,ultimatum,trust,public_goods,public_goods_punish" {
		t.Fatalf("instances %v", names)
	}
	d, u, tr, pg, pgp := in[0], in[1], in[2], in[3], in[4]
	if d.Endowment != 100 || u.Responder != "mao" || u.Scenarios["responder"] != "ultimatum_mao" || tr.Endowment != 10 || tr.Multiplier != 3 {
		t.Errorf("defaults: %+v %+v %+v", d, u, tr)
	}
	if pg.Punishment || !pgp.Punishment || pg.GroupSize != 4 || pg.Rounds != 5 || pg.Multiplier != 1.6 || pg.Endowment != 20 || pg.Base != pgp.Base {
		t.Errorf("public goods treatments: %+v %+v", pg, pgp)
	}
	if _, ok := pg.Scenarios["punish"]; ok || pgp.Scenarios["punish"] != "public_goods_punish" {
		t.Errorf("punish role: %v / %v", pg.Scenarios, pgp.Scenarios)
	}
	for i, g := range in {
		if g.Index != i+1 {
			t.Errorf("index %d of %s", g.Index, g.Name)
		}
	}
	// The resolved config parses back to the same games (resume reads it).
	out, err := e.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := experiment.Parse(out, "resolved.yaml")
	if err != nil {
		t.Fatalf("resolved config does not parse: %v\n%s", err, out)
	}
	in2 := ConfigOf(e2).Instances()
	if len(in2) != len(in) || in2[4].Name != "public_goods_punish" || !in2[4].Punishment || in2[1].Responder != "mao" {
		t.Errorf("round trip lost something:\n%s", out)
	}
	// punishment: true and false are on and off.
	for v, want := range map[string]bool{"true": true, "on": true, "false": false, "off": false} {
		e, err := experiment.Parse([]byte(strings.Replace(goodGames, "rounds: 5}", "rounds: 5, punishment: "+v+"}", 1)), "g.yaml")
		if err != nil {
			t.Fatalf("punishment %s: %v", v, err)
		}
		in := ConfigOf(e).Instances()
		if len(in) != 4 || in[3].Punishment != want {
			t.Errorf("punishment %s: %+v", v, in[3:])
		}
	}
}

func TestGamesErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct{ name, edit, want string }{
		{"unknown game", "  - {game: dictator}\n>  - {game: dictatr}\n", "exp.yaml:6:12: field games[0].game: unknown game \"dictatr\""},
		{"missing game", "  - {game: dictator}\n>  - {endowment: 5}\n", "exp.yaml:6:5: field games[0].game: required"},
		{"fractional endowment", "  - {game: dictator}\n>  - {game: dictator, endowment: 2.5}\n", "exp.yaml:6:33: field games[0].endowment: 2.5: want a whole number"},
		{"negative endowment", "  - {game: trust}\n>  - {game: trust, endowment: -10}\n", "exp.yaml:8:30: field games[2].endowment: -10"},
		{"multiplier below 1", "  - {game: trust}\n>  - {game: trust, multiplier: 0.5}\n", "exp.yaml:8:31: field games[2].multiplier: 0.5 is out of range 1..100"},
		{"multiplier of a dictator", "  - {game: dictator}\n>  - {game: dictator, multiplier: 2}\n", "field games[0].multiplier: only for trust and public_goods"},
		{"responder of trust", "  - {game: trust}\n>  - {game: trust, responder: mao}\n", "field games[2].responder: only for ultimatum"},
		{"bad responder", "responder: mao}\n>responder: strategy}\n", "exp.yaml:7:34: field games[1].responder: unknown responder task \"strategy\""},
		{"group too small", "rounds: 5}\n>rounds: 5, group_size: 1}\n", "exp.yaml:9:49: field games[3].group_size: 1 is out of range 2..100"},
		{"too many rounds", "rounds: 5}\n>rounds: 500}\n", "exp.yaml:9:34: field games[3].rounds: 500 is out of range 1..100"},
		{"rounds of a one-shot game", "  - {game: dictator}\n>  - {game: dictator, rounds: 3}\n", "field games[0].rounds: only for public_goods"},
		{"bad punishment", "rounds: 5}\n>rounds: 5, punishment: sometimes}\n", "exp.yaml:9:49: field games[3].punishment: \"sometimes\": want on, off or both"},
		{"punishment of a dictator", "  - {game: dictator}\n>  - {game: dictator, punishment: on}\n", "field games[0].punishment: only for public_goods"},
		{"unknown role", "  - {game: dictator}\n>  - {game: dictator, scenarios: {proposer: x}}\n", "exp.yaml:6:44: field games[0].scenarios.proposer: game dictator has no role \"proposer\""},
		{"punish role without punishment", "rounds: 5}\n>rounds: 5, punishment: off, scenarios: {punish: x}}\n", "field games[3].scenarios.punish: this game has no punishment stage"},
		{"duplicate name", "  - {game: trust}\n>  - {game: dictator}\n", "exp.yaml:8:5: field games[2].name: game name \"dictator\" is used twice"},
		{"duplicate treatment name", "  - {game: trust}\n>  - {game: trust, name: public_goods_punish}\n", "exp.yaml:9:5: field games[3].name: game name \"public_goods_punish\" is used twice"},
		{"bad name", "  - {game: trust}\n>  - {game: trust, name: my trust}\n", "field games[2].name: \"my trust\": use ASCII letters"},
		{"name read as missing", "  - {game: trust}\n>  - {game: trust, name: NA}\n", "field games[2].name: \"NA\": R's read.csv and pandas' read_csv read it as a missing value"},
		{"scenarios list", "seed: 3\n+scenarios: [helping]\n", "field scenarios: not used by study: games"},
		{"one agent", "population: {source: sample, n: 20}\n>population: {source: sample, n: 1}\n", "exp.yaml:4:33: field population.n: the games need at least 2 agents"},
		{"games in another study", "study: games\n>study: tpp\n", "exp.yaml:6:3: field games: only for study: games"},
	}
	noGames := goodGames[:strings.Index(goodGames, "games:\n")]
	if _, err := experiment.Parse([]byte(noGames), "exp.yaml"); err == nil || !strings.Contains(err.Error(), "exp.yaml:2:8: field study: study games needs a games: list") {
		t.Errorf("no games: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := edit(t, goodGames, c.edit)
			_, err := experiment.Parse([]byte(src), filepath.Join(t.TempDir(), "exp.yaml"))
			if err == nil {
				t.Fatalf("no error for:\n%s", src)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// edit applies "old\n+new" (insert new after old) or "old\n>new" (replace old by new), as in
// internal/experiment's tests.
func edit(t *testing.T, src, e string) string {
	t.Helper()
	i := strings.Index(e, "\n")
	old, op, repl := e[:i+1], e[i+1], e[i+2:]
	if !strings.Contains(src, old) {
		t.Fatalf("test edit: %q not in source", old)
	}
	if op == '+' {
		return strings.Replace(src, old, old+repl, 1)
	}
	return strings.Replace(src, old, repl, 1)
}

// Every independent problem of the games block is reported at once, in file order.
func TestGamesEveryProblem(t *testing.T) {
	src := `name: g
study: games
seed: 3
population: {source: sample, n: 1}
games:
  - {game: dictator, multiplier: 2, rounds: 3}
  - {game: dictatr}
  - {game: trust, endowment: 2.5, responder: mao}
`
	_, err := experiment.Parse([]byte(src), "exp.yaml")
	want := []string{
		"exp.yaml: 6 problems:",
		"  exp.yaml:4:33: field population.n: the games need at least 2 agents",
		"  exp.yaml:6:34: field games[0].multiplier: only for trust and public_goods",
		"  exp.yaml:6:45: field games[0].rounds: only for public_goods",
		"  exp.yaml:7:12: field games[1].game: unknown game \"dictatr\"",
		"  exp.yaml:8:30: field games[2].endowment: 2.5: want a whole number",
		"  exp.yaml:8:46: field games[2].responder: only for ultimatum",
	}
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// A games list with values of the wrong type is checked without them (errs3 #2): the other
// entries' problems, and the entry's own other fields', come in the same pass; an entry that
// is not a mapping, or whose name was not decoded, is not read against the others.
func TestGamesCheckedBesideTheirTypeErrors(t *testing.T) {
	src := `name: g
study: games
population: {source: sample, n: 20}
games:
  - {game: dictator, endowment: [100], responder: mao}
  - {game: trust, multiplier: 500}
  - dictator
  - {game: ultimatum, responder: maybe}
  - {game: ultimatum, name: [dictator]}
  - {game: dictator, name: ultimatum}
`
	_, err := experiment.Parse([]byte(src), "g.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`g.yaml: 6 problems:`,
		`  g.yaml:5:33: field games[0].endowment: expected a number, got a list`,
		`  g.yaml:5:51: field games[0].responder: only for ultimatum`,
		`  g.yaml:6:31: field games[1].multiplier: 500 is out of range 1..100`,
		`  g.yaml:7:5: field games[2]: expected a mapping`,
		`  g.yaml:8:34: field games[3].responder: unknown responder task "maybe"`,
		`  g.yaml:9:29: field games[4].name: expected a string, got a list`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s...", i+1, got[i], want[i])
		}
	}
}

// The games are checked beside a population of the wrong type, which they read: their problems
// come in the same pass, and "at least 2 agents" waits for population.n.
func TestGamesBesideAPopulationOfTheWrongType(t *testing.T) {
	src := "name: g\nstudy: games\npopulation: {source: sample, n: [20]}\ngames:\n  - {game: trust, multiplier: 500}\n"
	_, err := experiment.Parse([]byte(src), "g.yaml")
	want := "g.yaml: 2 problems:\n" +
		"  g.yaml:3:33: field population.n: expected a whole number, got a list of 1 item\n" +
		"  g.yaml:5:31: field games[0].multiplier: 500 is out of range 1..100 ("
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
