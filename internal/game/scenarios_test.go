package game_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/goccy/go-yaml"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/scenario"
)

const libDir = "../scenario/library"

// The fields the behavioural model is written against, per scenario id.
var wantFields = map[string][]string{
	"tpp":                 {"valence_before", "arousal_before", "choice", "valence_after", "arousal_after"},
	"tpp_graded":          {"points"},
	"dictator":            {"give"},
	"ultimatum_proposer":  {"offer"},
	"ultimatum_responder": {"choice"},
	"ultimatum_mao":       {"min_accept"},
	"public_goods":        {"contribute"},
	"public_goods_punish": {"points"},
	"trust_sender":        {"send"},
	"trust_returner":      {"return"},
}

var wantParams = map[string]map[string]float64{
	"tpp":                 {"x": -1, "y": -1, "pie": 30, "judge": 10},
	"tpp_graded":          {"transfer": -1, "endowment": 50, "ratio": 3},
	"dictator":            {"endowment": 100},
	"ultimatum_proposer":  {"endowment": 100},
	"ultimatum_responder": {"endowment": 100, "offer": -1},
	"ultimatum_mao":       {"endowment": 100},
	"public_goods": {"endowment": 20, "multiplier": 1.6, "group_size": 4, "round": 1, "rounds": 10,
		"punishment": 0, "others_prev": -1, "own_prev": -1, "punished_prev": 0},
	"public_goods_punish": {"endowment": -1, "own": -1, "target": -1, "ratio": 3},
	"trust_sender":        {"endowment": 10, "multiplier": 3},
	"trust_returner":      {"endowment": 10, "multiplier": 3, "sent": -1},
}

func loadGames(t *testing.T) map[string]scenario.Scenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(libDir, "game_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no game scenarios in %s: %v", libDir, err)
	}
	out := map[string]scenario.Scenario{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sc scenario.Scenario
		if err := yaml.UnmarshalWithOptions(data, &sc, yaml.Strict()); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := "game_" + sc.ID + ".yaml"; filepath.Base(f) != want {
			t.Errorf("%s: id %q belongs in %s", f, sc.ID, want)
		}
		// The library loader's own checks, too.
		if _, err := scenario.Load(data, f); err != nil {
			t.Errorf("scenario.Load: %v", err)
		}
		out[sc.ID] = sc
	}
	return out
}

func TestGameScenariosMatchContract(t *testing.T) {
	scs := loadGames(t)
	for _, id := range game.Scenarios() {
		sc, ok := scs[id]
		if !ok {
			t.Errorf("no scenario %s", id)
			continue
		}
		if sc.Kind != "game" || sc.Game != game.GameOf(id) || !slices.Contains(game.Games(), sc.Game) {
			t.Errorf("%s: kind %q game %q, want game %q", id, sc.Kind, sc.Game, game.GameOf(id))
		}
		if err := sc.Response.Check(); err != nil {
			t.Errorf("%s: schema: %v", id, err)
		}
		var names []string
		for _, f := range sc.Response.Fields {
			names = append(names, f.Name)
		}
		if !slices.Equal(names, wantFields[id]) {
			t.Errorf("%s: fields %v, want %v", id, names, wantFields[id])
		}
		for k, v := range wantParams[id] {
			got, ok := sc.Params[k]
			if !ok || (v >= 0 && got != v) {
				t.Errorf("%s: param %s = %v (present %v), want %v", id, k, got, ok, v)
			}
		}
		if sc.Cost == "" || sc.Title == "" {
			t.Errorf("%s: title and cost are required", id)
		}
		// The schema max of a parameter-dependent field agrees with the defaults.
		if field, max, ok := game.SchemaMax(id, sc.Params); ok {
			f, _ := sc.Response.Field(field)
			if f.Max != max || f.Min != 0 {
				t.Errorf("%s: field %s is %g..%g, SchemaMax says max %g", id, field, f.Min, f.Max, max)
			}
		}
	}
	if len(scs) != len(game.Scenarios()) {
		t.Errorf("%d game_*.yaml scenarios, %d known to package game", len(scs), len(game.Scenarios()))
	}
	tpp := scs["tpp"]
	for _, n := range []string{"valence_before", "valence_after"} {
		if f, _ := tpp.Response.Field(n); f.Kind != scenario.Likert || f.Min != -4 || f.Max != 4 {
			t.Errorf("tpp %s: %+v", n, f)
		}
	}
	for _, n := range []string{"arousal_before", "arousal_after"} {
		if f, _ := tpp.Response.Field(n); f.Kind != scenario.Likert || f.Min != 1 || f.Max != 9 {
			t.Errorf("tpp %s: %+v", n, f)
		}
	}
	if f, _ := tpp.Response.Field("choice"); !slices.Equal(f.Options, []string{"accept", "punish"}) ||
		f.Options[game.ChoiceAccept] != "accept" || f.Options[game.ChoicePunish] != "punish" {
		t.Errorf("tpp choice options %v", f.Options)
	}
	if f, _ := scs["ultimatum_responder"].Response.Field("choice"); !slices.Equal(f.Options, []string{"accept", "reject"}) ||
		f.Options[game.ChoiceReject] != "reject" {
		t.Errorf("ultimatum_responder options %v", f.Options)
	}
	amounts := map[string][3]float64{"tpp_graded": {0, 50, 1}, "dictator": {0, 100, 1}, "public_goods": {0, 20, 1},
		"public_goods_punish": {0, game.PGMaxPoints, 1}, "trust_sender": {0, 10, 1}}
	for id, r := range amounts {
		f := scs[id].Response.Fields[0]
		if f.Kind != scenario.Amount || f.Min != r[0] || f.Max != r[1] || f.Step != r[2] {
			t.Errorf("%s: %+v, want amount %v", id, f, r)
		}
	}
}

// render executes a text with plain text/template (missingkey=error) and the library's
// functions, on float64 parameters plus currency; and with the library's own renderer.
func render(t *testing.T, sc scenario.Scenario, params map[string]float64) string {
	t.Helper()
	data := map[string]any{"currency": "$"}
	for k, v := range sc.Params {
		data[k] = v
	}
	for k, v := range params {
		data[k] = v
	}
	var out []string
	for _, text := range []string{sc.Text, sc.Question} {
		tm, err := template.New(sc.ID).Option("missingkey=error").Funcs(scenario.Funcs).Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", sc.ID, err)
		}
		var b strings.Builder
		if err := tm.Execute(&b, data); err != nil {
			t.Fatalf("%s: %v", sc.ID, err)
		}
		out = append(out, b.String())
	}
	lib, err := scenario.Compose(sc, params, "$", "")
	if err != nil {
		t.Fatalf("%s: library render: %v", sc.ID, err)
	}
	return strings.Join(out, "\n") + "\n" + lib
}

func TestGameTemplatesRender(t *testing.T) {
	scs := loadGames(t)
	for id, sc := range scs {
		s := render(t, sc, nil)
		if strings.Contains(s, "<no value>") || strings.Contains(s, "{{") {
			t.Errorf("%s renders badly:\n%s", id, s)
		}
	}
	// TPP with a schedule trial.
	tr := game.TPPSchedule(1)[0]
	s := render(t, scs["tpp"], tr.Params())
	for _, want := range []string{"$30", "$10", "gave Player 2 $" + strconv.Itoa(tr.X), "pay $" + strconv.Itoa(tr.Y), "kept $" + strconv.Itoa(30-tr.X)} {
		if !strings.Contains(s, want) {
			t.Errorf("tpp text lacks %q:\n%s", want, s)
		}
	}
	// Public goods: no history in round 1; history (and punishment) later.
	pg := scs["public_goods"]
	if s := render(t, pg, nil); strings.Contains(s, "Last round") || strings.Contains(s, "punishment points") {
		t.Errorf("round 1 shows history:\n%s", s)
	}
	s = render(t, pg, map[string]float64{"round": 3, "punishment": 1, "own_prev": 12, "others_prev": 7.333333, "punished_prev": 4})
	for _, want := range []string{"Last round", "you put in 12 tokens", "7.3 tokens on average", "received 4 punishment points", "takes 3 tokens away"} {
		if !strings.Contains(s, want) {
			t.Errorf("public goods round 3 lacks %q:\n%s", want, s)
		}
	}
	s = render(t, pg, map[string]float64{"round": 2, "own_prev": -1, "others_prev": -1})
	if !strings.Contains(s, "you did not take part") || strings.Contains(s, "punishment points") {
		t.Errorf("public goods round 2 after an invalid reply:\n%s", s)
	}
	// QA15 F2, F3: the rules the game computes are the rules stated: an unrecorded decision
	// sits the round out, punishment stops at the target's earnings before it, and the next
	// round says how many contributions were counted (only when some were not).
	for _, want := range []string{"sits the round out and the project is shared among the others", "never take away more than that member earned"} {
		if !strings.Contains(render(t, pg, map[string]float64{"punishment": 1}), want) {
			t.Errorf("public goods lacks %q", want)
		}
	}
	if s := render(t, pg, map[string]float64{"round": 2, "own_prev": 5, "others_prev": 4, "counted_prev": 3}); !strings.Contains(s, "Only 3 of the 4 members' decisions could be counted, and the project was shared among those 3.") {
		t.Errorf("public goods round 2 after another member's invalid reply:\n%s", s)
	}
	if s := render(t, pg, map[string]float64{"round": 2, "own_prev": 5, "others_prev": 4}); strings.Contains(s, "Only") {
		t.Errorf("public goods round 2 with every contribution counted:\n%s", s)
	}
	if s := render(t, scs["public_goods_punish"], nil); !strings.Contains(s, "never take away more than a member earned") || !strings.Contains(s, "all members who took part") {
		t.Errorf("public goods punishment stage:\n%s", s)
	}
	if s := render(t, scs["trust_returner"], map[string]float64{"sent": 4}); !strings.Contains(s, "you now have 12 tokens") {
		t.Errorf("trust_returner:\n%s", s)
	}
}

// Every built-in game has at least three paraphrases (the wording factor's p1..p3), each of
// which renders with the game's terms and states the same numbers as the original wording:
// the same stakes, costs and options, in other words.
func TestGameVariantsStateTheSameGame(t *testing.T) {
	num := regexp.MustCompile(`\d+(\.\d+)?`)
	numbers := func(s string) []string {
		out := num.FindAllString(s, -1)
		slices.Sort(out)
		return slices.Compact(out)
	}
	probes := []map[string]float64{
		{"x": 12, "y": 3, "transfer": 15, "offer": 35, "sent": 4, "own": 7, "target": 2, "endowment": 20},
		{"round": 3, "punishment": 1, "own_prev": 12, "others_prev": 7.333333, "punished_prev": 4},
		{"round": 2, "own_prev": -1, "others_prev": -1},
		{"round": 2, "own_prev": 6, "others_prev": 3, "counted_prev": 2, "punishment": 1},
	}
	for id, sc := range loadGames(t) {
		if len(sc.Variants) < 3 {
			t.Errorf("%s has %d paraphrases, want at least 3", id, len(sc.Variants))
		}
		for _, p := range probes {
			params := map[string]float64{}
			for k, v := range p {
				if _, ok := sc.Params[k]; ok {
					params[k] = v
				}
			}
			orig := render(t, sc, params)
			for _, v := range sc.Variants {
				w, ok := sc.Worded(v.ID)
				if !ok {
					t.Fatalf("%s: no wording %s", id, v.ID)
				}
				got := render(t, w, params)
				if strings.Contains(got, "<no value>") || got == orig {
					t.Errorf("%s %s renders badly or as the original:\n%s", id, v.ID, got)
				}
				if a, b := numbers(got), numbers(orig); !slices.Equal(a, b) {
					t.Errorf("%s %s with %v states the numbers %v, the original %v", id, v.ID, params, a, b)
				}
			}
		}
	}
}
