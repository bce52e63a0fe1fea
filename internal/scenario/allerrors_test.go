package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/yamlx"
)

// Every independent problem of a scenario file is reported at once, in file order, each at
// its line; an undefined parameter is found without rendering.
func TestEveryProblemOfAFile(t *testing.T) {
	src := `- id: food_bank
  kind: vignete
  text: You could help at the food bank for {{.hours}} hours.
  question: How willing are you {{.nope}?
  params: {hours: 3}
  variants:
    - {id: p1, text: "Help for {{.hours}} hours."}
    - {id: p2, text: "Help for {{.hourz}} hours, {{$.minutes}} minutes each."}
  response:
    fields:
      - {name: willingness, kind: likert, min: 1, max: 0, low_label: no, high_label: yes}
- id: Bad
  kind: vignette
  text: x
  question: y
  response:
    fields:
      - {name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}
  model: {base: 9}
`
	_, err := Load([]byte(src), "scen.yaml")
	var es *yamlx.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want *yamlx.Errors, got %T %v", err, err)
	}
	want := []string{
		`scen.yaml:2:9: field [0].kind: unknown kind "vignete"`,
		`scen.yaml:4:33: field [0].question: "{{.nope}" is not closed: write {{.nope}}`,
		`scen.yaml:8:22: field [0].variants[1].text: {{.hourz}}, {{.minutes}} are not parameters of scenario food_bank (it has {{.currency}}, {{.hours}})`,
		`scen.yaml:11:9: field [0].response.fields[0]: field "willingness": likert needs integer min < max (got 1..0)`,
		`scen.yaml:12:7: field [1].id: id "Bad" must be lower case`,
		`scen.yaml:19:17: field [1].model.base: 9 is outside 1..7`,
	}
	if len(es.Errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(es.Errs), len(want), err)
	}
	for i, w := range want {
		if got := es.Errs[i].Error(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got, w)
		}
	}
}

// A game scenario may use the parameters its game gives (those of the built-in scenarios of
// the game), a vignette only its own.
func TestGameParametersAreDefined(t *testing.T) {
	game := "id: charity\nkind: game\ngame: dictator\ntext: You have {{.endowment}} tokens.\nquestion: How many do you give?\n" +
		"response: {fields: [{name: give, kind: amount, min: 0, max: 100, step: 1}]}\n"
	if _, err := Load([]byte(game), "g.yaml"); err != nil {
		t.Fatal(err)
	}
	vig := strings.Replace(strings.Replace(game, "kind: game\ngame: dictator", "kind: vignette", 1), "name: give, kind: amount, min: 0, max: 100, step: 1", "name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes", 1)
	if _, err := Load([]byte(vig), "v.yaml"); err == nil || !strings.Contains(err.Error(), "v.yaml:3:7: field text: {{.endowment}} is not a parameter of scenario charity") {
		t.Fatalf("vignette: %v", err)
	}
}

// What only rendering finds is reported at the line of the template that fails (the
// variant's when the scenario is worded by it), without naming the scenario twice.
func TestRenderErrorIsLocated(t *testing.T) {
	src := "- id: g\n  kind: vignette\n  text: You have {{.x}}.\n  question: Give?\n  params: {x: 2}\n" +
		"  variants:\n    - {id: alt, text: \"You hold {{div .x 0}}.\"}\n" +
		"  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}\n"
	scs, err := Load([]byte(src), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compose(scs[0], scs[0].Params, "yuan", ""); err != nil {
		t.Fatal(err)
	}
	alt, _ := scs[0].Worded("alt")
	_, err = Compose(alt, alt.Params, "yuan", "")
	var e *yamlx.Error
	if !errors.As(err, &e) || e.Line != 7 || e.Field != "[0].variants[0].text" {
		t.Fatalf("got %v", err)
	}
	if want := `s.yaml:7:23: field [0].variants[0].text: at <div .x 0>: error calling div: division by zero`; err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestRefs(t *testing.T) {
	tm, err := Template("t", `{{.a}} {{sub .b .c}} {{if .d}}{{.e}}{{end}} {{with .f}}{{.notaparam}} {{$.g}}{{else}}{{.h}}{{end}} {{range .i}}{{.x}}{{end}} {{.a.b}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Refs(tm), ","); got != "a,b,c,d,e,f,g,h,i" {
		t.Errorf("Refs = %s", got)
	}
}

// A template mistake is told in words a YAML author reads and placed at the mistake, where
// the file holds the text as written (QA: "bad character U+007D '}'" at the value's column).
func TestTemplateMistakeAtItsColumn(t *testing.T) {
	src := `- id: a
  kind: vignette
  text: "Help for {{.hours} hours"
  question: |
    For {{.hours}} hours.
    How willing {{ .nope are you?
  params: {hours: 3}
  variants:
    - id: p1
      text: |-
        ok
        {{if .hours}}x
      question: >
        folded
        {{.x}
    - {id: p2, text: "\u0048elp {{.x}"}
  response:
    fields:
      - {name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}
`
	_, err := Load([]byte(src), "scen.yaml")
	want := []string{
		`scen.yaml:3:19: field [0].text: "{{.hours}" is not closed: write {{.hours}}`,
		`scen.yaml:6:17: field [0].question: "{{ .nope" is not closed: write {{ .nope}}`,
		// Another mistake keeps its words, at its line within a literal block.
		`scen.yaml:12:9: field [0].variants[0].text: bad template: the text ends inside an {{if}}, {{range}} or {{with}}: close it with {{end}}`,
		// A folded block joins lines, an escape changes columns: the value's place.
		`scen.yaml:13:17: field [0].variants[0].question: "{{.x}" is not closed: write {{.x}}`,
		`scen.yaml:16:22: field [0].variants[1].text: "{{.x}" is not closed: write {{.x}}`,
	}
	var es *yamlx.Errors
	if !errors.As(err, &es) || len(es.Errs) != len(want) {
		t.Fatalf("want %d problems, got %v", len(want), err)
	}
	for i, w := range want {
		if got := es.Errs[i].Error(); got != w {
			t.Errorf("problem %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

// A game scenario's game must be one whose payoff rules exist: an unknown one is told at its
// line with the games there are, and the templates' parameters (which the game gives) are not
// blamed for it (QA9 repro-5: accepted, or a misleading template error).
func TestUnknownGame(t *testing.T) {
	src := "- id: trust_big\n  kind: game\n  game: trust_sender\n  text: You have {{.endowment}} tokens, x{{.multiplier}}.\n  question: How much do you send?\n" +
		"  response:\n    fields:\n      - {name: send, kind: amount, min: 0, max: 500, step: 1}\n"
	_, err := Load([]byte(src), "g3.yaml")
	want := `g3.yaml:3:9: field [0].game: unknown game "trust_sender" (want tpp, tpp_graded, dictator, ultimatum, public_goods, trust); trust_sender is a scenario of game trust`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if _, err := Load([]byte(strings.Replace(src, "trust_sender", "trust", 1)), "g3.yaml"); err != nil {
		t.Errorf("game trust: %v", err)
	}
}

// A scenario id, variant id or response field name that R or pandas read as a missing value
// (they land in results CSVs' columns) is refused at its line (QA9 repro-10).
func TestIDsReadAsMissing(t *testing.T) {
	src := "id: nan\nkind: vignette\ntext: t\nquestion: q\nvariants: [{id: \"null\", text: u}]\n" +
		"response:\n  fields:\n    - {name: NA, kind: amount, min: 0, max: 1}\n"
	_, err := Load([]byte(src), "s.yaml")
	const why = "R's read.csv and pandas' read_csv read it as a missing value in the results CSVs: choose another name"
	for _, w := range []string{
		`s.yaml:1:5: field id: id "nan": ` + why,
		`s.yaml:5:17: field variants[0].id: variant id "null": ` + why,
		`s.yaml:8:14: field response.fields[0].name: field name "NA": ` + why,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
}

// A misspelt model key is told as such in the first pass, even when its value is a word (QA9
// repro-7: it was "expected a number", and the misspelling came only once that was fixed).
func TestMisspeltModelKeyWithAWordValue(t *testing.T) {
	src := "- id: blood_drive\n  kind: vignette\n  text: t\n  question: q\n" +
		"  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}\n" +
		"  model:\n    base: 4\n    visibilty: high\n    colour: 0.3\n"
	_, err := Load([]byte(src), "s.yaml")
	wantLines := []string{
		"s.yaml: 2 problems:",
		`  s.yaml:8:5: field [0].model.visibilty: unknown model parameter "visibilty" (did you mean visibility?); want base, cost, money, need, visibility`,
		`  s.yaml:9:5: field [0].model.colour: unknown model parameter "colour"; want base, cost, money, need, visibility`,
	}
	if err == nil || err.Error() != strings.Join(wantLines, "\n") {
		t.Fatalf("error:\n%v\nwant:\n%s", err, strings.Join(wantLines, "\n"))
	}
	// With a number, the same: the key is reported, whatever its value.
	_, err = Load([]byte(strings.Replace(src, "visibilty: high", "visibilty: 0.8", 1)), "s.yaml")
	if err == nil || err.Error() != strings.Join(wantLines, "\n") {
		t.Errorf("with a number:\n%v", err)
	}
}

// A model value out of range is told in the pass that finds type errors, since it decodes;
// it used to wait until the type errors were fixed.
func TestModelRangeWithTypeErrors(t *testing.T) {
	src := "- id: blood_drive\n  kind: vignette\n  text: t\n  question: q\n  params: {hours: two}\n" +
		"  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}\n" +
		"  model:\n    base: 4\n    need: 2\n- id: b\n  kind: vignette\n  text: t\n  question: q\n" +
		"  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}\n" +
		"  model:\n    money: 0.5\n"
	_, err := Load([]byte(src), "s.yaml")
	for _, w := range []string{
		`s.yaml:5:19: field [0].params.hours: expected a number`,
		`s.yaml:9:11: field [0].model.need: 2 is outside 0..1`,
		`s.yaml:16:12: field [1].model.money: money is 1 (the cost is money) or 0 (time or effort), got 0.5`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	// Once the type error is fixed, the same range errors, once each.
	_, err = Load([]byte(strings.Replace(src, "hours: two", "hours: 2", 1)), "s.yaml")
	want := "s.yaml: 2 problems:\n" +
		"  s.yaml:9:11: field [0].model.need: 2 is outside 0..1\n" +
		"  s.yaml:16:12: field [1].model.money: money is 1 (the cost is money) or 0 (time or effort), got 0.5"
	if err == nil || err.Error() != want {
		t.Errorf("without the type error:\n%v\nwant:\n%s", err, want)
	}
}

// A game takes no model block: it is an error at the block's key, in either pass, in place
// of any problem inside it (it was accepted and ignored).
func TestGameWithModelBlock(t *testing.T) {
	src := "id: charity\nkind: game\ngame: dictator\ntext: You have {{.endowment}} tokens.\nquestion: How many do you give?\n" +
		"response: {fields: [{name: give, kind: amount, min: 0, max: 100, step: 1}]}\nmodel:\n  base: 4\n"
	want := "g.yaml:7:1: field model: a game takes no model block"
	for _, s := range []string{src, strings.Replace(src, "base: 4", "base: high", 1), src + "params: {endowment: lots}\n"} {
		_, err := Load([]byte(s), "g.yaml")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "base") {
			t.Errorf("got %v\nwant %s... (and nothing about base) for\n%s", err, want, s)
		}
	}
}

// A game's quoted "model" block is refused like an unquoted one (it was accepted and ignored).
func TestGameWithQuotedModelBlock(t *testing.T) {
	game := "- id: g\n  kind: game\n  game: dictator\n  text: t\n  question: q\n" +
		"  response: {fields: [{name: w, kind: amount, min: 0, max: 1}]}\n  \"model\": {base: 3}\n"
	_, err := Load([]byte(game), "g.yaml")
	if w := "g.yaml:7:3: field [0].model: a game takes no model block"; err == nil || !strings.HasPrefix(err.Error(), w) {
		t.Errorf("got %v\nwant %s...", err, w)
	}
}

// An amount's range and its step are independent problems: both are told in one pass, the
// step's at its key (QA14 F5: the step came two rounds after the range).
func TestAmountRangeAndStepAtOnce(t *testing.T) {
	src := "- id: a\n  kind: vignette\n  text: t\n  question: q\n  response:\n    fields:\n" +
		"      - {name: amt, kind: amount, min: 10, max: 0, step: -1}\n"
	_, err := Load([]byte(src), "s.yaml")
	var es *yamlx.Errors
	if !errors.As(err, &es) || len(es.Errs) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	want := []string{
		`s.yaml:7:9: field [0].response.fields[0]: field "amt": amount needs min < max (got 10..0)`,
		`s.yaml:7:58: field [0].response.fields[0].step: field "amt": step must be >= 0`,
	}
	for i, w := range want {
		if got := es.Errs[i].Error(); got != w {
			t.Errorf("problem %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

// Values of the wrong type are told with the checks of the rest of the file (errs3 #4: the
// kind of the second entry, and the first's own other problems, waited for params.minutes),
// and no check reads a value left out: the text's {{.snow}} is not checked against params of
// which one is unknown, an entry that is not a mapping is not "id is required", a game whose
// game is not known has its templates' parameters unchecked, and a response with a wrong
// value is not checked against itself.
func TestTypeErrorsBesideTheChecks(t *testing.T) {
	src := `- id: snow_shovel
  kind: vignette
  text: "The path is covered in {{.snow}}. Shovel it?"
  question: How willing are you?
  params: {minutes: thirty}
  response: {fields: [{name: w, kind: likert, min: [1], max: 0}]}
- id: bake_sale
  kind: vignete
  text: Bake for the school sale?
  question: How willing are you?
  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}
- wrong
- id: Bad Id
  kind: game
  game: [tpp]
  text: "{{.foo}}"
  question: [x]
`
	_, err := Load([]byte(src), "scen.yaml")
	want := []string{
		`scen.yaml: 8 problems:`,
		`  scen.yaml:5:21: field [0].params.minutes: expected a number, got a string "thirty"`,
		`  scen.yaml:6:52: field [0].response.fields[0].min: expected a number, got a list`,
		`  scen.yaml:8:9: field [1].kind: unknown kind "vignete" (want vignette or game)`,
		`  scen.yaml:12:3: field [2]: expected a mapping`,
		`  scen.yaml:13:3: field [3].response: schema has no fields`,
		`  scen.yaml:13:7: field [3].id: id "Bad Id" must be lower case`,
		`  scen.yaml:15:9: field [3].game: expected a string, got a list`,
		`  scen.yaml:17:13: field [3].question: expected a string, got a list`,
	}
	if err == nil {
		t.Fatal("no error")
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
	// LoadFileSound still adds none of the entries with a problem.
	scs, _ := load([]byte(src), "scen.yaml", builtinGameParams, nil)
	if len(scs) != 0 {
		t.Errorf("sound entries %d, want none", len(scs))
	}
}

// FileIDs reads what each entry of a file with problems may define: an id written right, the
// words of an id of the wrong type or of an entry that is not a mapping; an entry without an
// id may define any (complete is false).
func TestFileIDsOfEntriesWithProblems(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		src      string
		ids      []string
		complete bool
	}{
		{"- id: a\n- id: [b]\n- id: {name: c}\n- id: 4\n", []string{"a", "b", "c", "4"}, true},
		{"- snow_shovel\n- id: raking\n", []string{"snow_shovel", "raking"}, true},
		{"- id: a\n- kind: vignette\n", []string{"a"}, false},
		{"- id: a\n- id:\n", []string{"a"}, false},
		{"id: [bonus]\nchannel: economic\n", []string{"bonus"}, true},
	} {
		p := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		ids, complete := FileIDs(p)
		if !slices.Equal(ids, c.ids) || complete != c.complete {
			t.Errorf("%q: %q %v, want %q %v", c.src, ids, complete, c.ids, c.complete)
		}
	}
}
