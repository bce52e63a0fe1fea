package experiment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/yamlx"
)

// wantLines checks that err's message is want, line for line.
func wantLines(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want\n%s", strings.Join(want, "\n"))
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s...", i+1, got[i], want[i])
		}
	}
}

// Every independent problem of an experiment file is reported at once, in file order.
func TestEveryProblemOfTheFile(t *testing.T) {
	src := `name: bad name
study: vignettes
seed: 1
replicates: -2
population: {source: sample, n: 0}
scenarios: [helping, nosuch]
conditions:
  - {name: none, policy: none}
  - {name: m, policy: moralz}
concurrency: 99999
backends:
  - {provider: openai, temperature: 3}
`
	_, err := Parse([]byte(src), "exp.yaml")
	wantLines(t, err,
		`exp.yaml: 8 problems:`,
		`  exp.yaml:1:7: field name: "bad name": use ASCII letters`,
		`  exp.yaml:4:13: field replicates: -2 is out of range 1..10000`,
		`  exp.yaml:5:33: field population.n: required for source sample`,
		`  exp.yaml:6:22: field scenarios[1]: unknown scenario "nosuch"`,
		`  exp.yaml:9:23: field conditions[1].policy: unknown policy "moralz"`,
		`  exp.yaml:10:14: field concurrency: 99999 is out of range 1..4096`,
		`  exp.yaml:12:5: field backends[0].model: required for provider openai`,
		`  exp.yaml:12:37: field backends[0].temperature: 3 is out of range 0..2 (provider openai)`,
	)
	// errors.As still finds the first.
	var e *yamlx.Error
	if !errors.As(err, &e) || e.Line != 1 {
		t.Errorf("errors.As: %v", e)
	}
}

// Values of the wrong type are reported together (the study's block too), with the checks of
// the rest of the file (concurrency); those that would read them wait.
func TestEveryTypeProblem(t *testing.T) {
	src := "name: s\nstudy: probe\nreplicates: many\npopulation: {source: sample, n: ten}\nprobe: {file: [1], fiel: x}\nconcurrency: -1\n"
	_, err := Parse([]byte(src), "exp.yaml")
	wantLines(t, err,
		`exp.yaml: 5 problems:`,
		`  exp.yaml:3:13: field replicates: expected a whole number, got a string "many"`,
		`  exp.yaml:4:33: field population.n: expected a whole number, got a string "ten"`,
		`  exp.yaml:5:15: field probe.file: expected a string`,
		`  exp.yaml:5:20: field probe.fiel: unknown field`,
		`  exp.yaml:6:14: field concurrency: -1 is out of range 1..4096`,
	)
}

// QA7 repro-4: the problems that do not depend on each other come in one validate. A
// misspelt scenario id in the experiment is unknown whatever the scenario file's problems
// (its wrong types included); an id the file would define once its own id is written right
// ("Snow Shovel" for snow_shovel) waits; a clash with a built-in id is placed at the id.
func TestUnknownIDsBesideBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	const second = `- id: helping
  kind: vignette
  text: dup id
  question: q
  response:
    fields:
      - {name: willingness, kind: likert, min: 1, max: 7, low_label: a, high_label: b}
`
	for _, c := range []struct{ name, first, want string }{
		{"checks", "- id: Snow Shovel\n  kind: vignete\n  text: t\n  question: q\n  response: {fields: [{name: w, kind: amount, min: 0, max: 1}]}\n",
			"scen.yaml:6:7: field [1].id: id \"helping\" is already a built-in scenario"},
		{"types", "- id: Snow Shovel\n  kind: vignette\n  text: t\n  question: q\n  params: {minutes: forty}\n  response: {fields: [{name: w, kind: amount, min: 0, max: 1}]}\n",
			"scen.yaml:5:21: field [0].params.minutes"},
	} {
		write("scen.yaml", c.first+second)
		exp := write("exp.yaml", "name: e\nstudy: vignettes\npopulation: {source: sample, n: 2}\nscenario_files: [scen.yaml]\nscenarios: [snow_shovel, helpin]\nconditions: [{name: none, policy: none}]\n")
		_, err := Load(exp)
		for _, w := range []string{exp + `:5:26: field scenarios[1]: unknown scenario "helpin"`, c.want} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: missing %q in\n%v", c.name, w, err)
			}
		}
		if err != nil && strings.Contains(err.Error(), `"snow_shovel"`) {
			t.Errorf("%s: snow_shovel reported before the file's id is fixed:\n%v", c.name, err)
		}
	}
}

// The ids of the files with problems are read once for all the ids asked (each unknown id
// parsed every file again): removed after the first, the file still answers.
func TestDefinedInReadsTheFilesOnce(t *testing.T) {
	scen := writer(t, t.TempDir())("scen.yaml", "- id: Snow Shovel\n  kind: vignete\n- id: raking\n")
	defined := definedIn([]string{scen})
	if !defined("snow_shovel") {
		t.Fatal(`"Snow Shovel" does not define snow_shovel`)
	}
	if err := os.Remove(scen); err != nil {
		t.Fatal(err)
	}
	// Read again, the missing file would define every id (its ids cannot be read).
	if !defined("raking") || defined("helpin") {
		t.Errorf("raking %v, helpin %v: want true, false", defined("raking"), defined("helpin"))
	}
}

// The files an experiment names are read with it: its own problems first, then each file's,
// a bad file hiding neither the experiment's nor another file's.
func TestEveryFilesProblems(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	scen := write("scen.yaml", `- id: food_bank
  kind: vignete
  text: You could help at the food bank for {{.hours}} hours.
  question: How willing are you {{.nope}?
  params: {hours: 3}
  response:
    fields:
      - {name: willingness, kind: likert, min: 1, max: 0, low_label: no, high_label: yes}
`)
	pol := write("pol.yaml", "id: bonus\nchannel: bribe\namount: -5\ndefault: You get {{.amount}} {{.currency}}.\n")
	people := write("people.csv", "id,gender\n1,robot\n")
	exp := write("exp.yaml", `name: e
study: vignettes
replicates: -2
population: {source: file, file: people.csv}
scenario_files: [scen.yaml]
policy_files: [pol.yaml]
scenarios: [food_bank]
conditions: [{policy: moralz}]
`)
	_, err := Load(exp)
	for _, w := range []string{
		exp + ":3:13: field replicates: -2 is out of range",
		scen + ": 3 problems:",
		scen + ":2:9: field [0].kind: unknown kind \"vignete\"",
		scen + `:4:33: field [0].question: "{{.nope}" is not closed: write {{.nope}}`,
		scen + ":8:9: field [0].response.fields[0]: field \"willingness\": likert needs integer min < max",
		pol + ": 2 problems:",
		pol + ":2:10: field channel: unknown channel \"bribe\"",
		pol + ":3:9: field amount: amount must be a number >= 0",
		people + ":",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	// food_bank is defined in the scenario file, which did not load: not unknown. moralz is in
	// neither library nor the policy file (which defines bonus): unknown now, not once the
	// files are fixed (QA7 repro-4).
	if strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("a scenario of a file with problems reported unknown:\n%v", err)
	}
	if w := exp + `:8:23: field conditions[0].policy: unknown policy "moralz"`; !strings.Contains(err.Error(), w) {
		t.Errorf("missing %q in\n%v", w, err)
	}
	// In order: the experiment's, the scenario file's, the policy file's, the population's.
	msg := err.Error()
	if !(strings.Index(msg, exp+":3") < strings.Index(msg, scen) && strings.Index(msg, scen) < strings.Index(msg, pol) &&
		strings.Index(msg, pol) < strings.Index(msg, people)) {
		t.Errorf("not in order:\n%s", msg)
	}
}

// A sampled or prosim104 population is in yuan: another population.currency is refused at its
// line with the file's other problems, in the user's words (QA: it came alone, unlocated,
// after every other problem was fixed, naming the Go field QuintileIncome).
func TestPopulationCurrencyWithTheOtherProblems(t *testing.T) {
	for _, pop := range []string{"{source: sample, n: 3, currency: euro}", "{source: prosim104, currency: euro}"} {
		src := "name: s\nstudy: vignettes\nseed: 1\npopulation: " + pop + "\nscenarios: [helping, nosuch]\nconditions: [{name: none, policy: none}]\n"
		_, err := Parse([]byte(src), "exp.yaml")
		wantLines(t, err,
			`exp.yaml: 2 problems:`,
			`  exp.yaml:4:`+fmt.Sprint(strings.Index(pop, "euro")+13)+`: field population.currency: "euro": `,
			`  exp.yaml:5:22: field scenarios[1]: unknown scenario "nosuch"`,
		)
		if msg := err.Error(); !strings.Contains(msg, "in yuan; leave population.currency out or write yuan") || strings.Contains(msg, "QuintileIncome") {
			t.Errorf("%s: %s", pop, msg)
		}
	}
	for _, pop := range []string{"{source: sample, n: 3, currency: Yuan}", "{source: prosim104, currency: yuan}"} {
		e, err := Parse([]byte("name: s\nstudy: vignettes\nseed: 1\npopulation: "+pop+"\nscenarios: [helping]\nconditions: [{name: none, policy: none}]\n"), "exp.yaml")
		if err != nil {
			t.Errorf("%s: %v", pop, err)
		} else if e.Population.Currency != "yuan" {
			t.Errorf("%s: currency %q, want yuan", pop, e.Population.Currency)
		}
	}
}

// A population file's currency that population.currency contradicts is reported with the
// experiment's other problems too, when Load reads the file for them.
func TestFileCurrencyWithTheOtherProblems(t *testing.T) {
	dir := t.TempDir()
	people := "id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n" +
		"1,female,33,married,52000,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n"
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(people), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "exp.yaml")
	src := "name: s\nstudy: vignettes\nseed: 1\npopulation: {source: file, file: people.csv, currency: EUR}\nscenarios: [helping, nosuch]\nconditions: [{name: none, policy: none}]\n"
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(exp)
	wantLines(t, err,
		exp+`: 2 problems:`,
		`  `+exp+`:4:56: field population.currency: EUR, but every persona in `,
		`  `+exp+`:5:22: field scenarios[1]: unknown scenario "nosuch"`,
	)
}

// A list of 20,000 scenarios, most listed before (QA: 900,000 in 15 MB took 47 s and 1.5 GB)
// is checked up to yamlx.MaxProblems: the first ones are reported, the rest not checked.
// Distinct unknown ids are not compared pairwise (the twice check was quadratic).
func TestManyDuplicateScenariosStopAtTheCap(t *testing.T) {
	for _, id := range []func(int) string{
		func(int) string { return "volunteering" },
		func(i int) string { return fmt.Sprintf("s%d", i%10_000) },
	} {
		var b strings.Builder
		b.WriteString("name: h\nstudy: vignettes\npopulation: {source: sample, n: 10}\nscenarios:\n")
		for i := range 20_000 {
			b.WriteString("  - " + id(i) + "\n")
		}
		_, err := Parse([]byte(b.String()), "big.yaml")
		var es *yamlx.Errors
		if !errors.As(err, &es) || !es.Stopped || len(es.Errs)+es.More != yamlx.MaxProblems {
			t.Fatalf("got %.300v", err)
		}
		if !strings.HasSuffix(err.Error(), "... and more problems not checked (checking stops after 1000)") {
			t.Errorf("the message does not say the rest was not checked:\n...%s", err.Error()[len(err.Error())-200:])
		}
	}
}

// writer writes files into dir, returning each one's path.
func writer(t *testing.T, dir string) func(name, data string) string {
	return func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// A vignette whose template fails only when rendered (a division by zero) is told with the
// experiment's other problems, in each wording the design shows, each file's in turn: validate
// rendered the prompts only once every other problem was fixed.
func TestRenderProblemsWithTheOthers(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	const vignette = `- id: %s
  kind: vignette
  text: %s
  question: How willing are you?
  params: {budget: 10}
  variants:
    - {id: alt, text: "%s"}
  response:
    fields:
      - {name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}
`
	a := write("a.yaml", fmt.Sprintf(vignette, "giving", "You have {{.budget}}.", "You hold {{div .budget 0}}."))
	b := write("b.yaml", fmt.Sprintf(vignette, "taking", "You have {{div 1 0}}.", "You hold {{.budget}}."))
	src := "name: e\nstudy: vignettes\nreplicates: -1\npopulation: {source: sample, n: 2}\nscenario_files: [b.yaml, a.yaml]\n" +
		"scenarios: [giving, taking]\nfactors: {wording: [original, alt]}\n"
	exp := write("exp.yaml", src)
	_, err := Load(exp)
	wantLines(t, err,
		exp+`:3:13: field replicates: -1 is out of range 1..10000`,
		b+`:3:9: field [0].text: at <div 1 0>: error calling div: division by zero`,
		a+`:7:23: field [0].variants[0].text: at <div .budget 0>: error calling div: division by zero`,
	)
}

// A population file's problems come with the experiment file's values of the wrong type
// (QA12 #9: people.csv's bad rows came a run after the file's "concurrency: many"); not when
// the population block has a problem itself.
func TestPopulationFileBesideWrongTypes(t *testing.T) {
	dir := t.TempDir()
	head := "id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(head+"a,female,sixty,married,52000,EUR,college,nurse,3,3,3,3,3,3,3,3,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "exp.yaml")
	write := func(src string) {
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const src = "name: p\nstudy: vignettes\nseed: 1\nconcurrency: many\npopulation: {source: file, file: people.csv}\nscenarios: [volunteering]\n"
	write(src)
	e, err := LoadChecking(f)
	if e == nil {
		t.Fatal("no experiment of a file with values of the wrong type: the rest is not checked")
	}
	wantLines(t, err,
		f+`:4:14: field concurrency: expected a whole number, got a string "many"`,
		filepath.Join(dir, "people.csv")+`:2:10: field age: "sixty" is not a whole number`,
	)
	// The population block's own problems, placed, beside the others.
	write(strings.Replace(src, "people.csv", "nope.csv", 1))
	_, err = LoadChecking(f)
	wantLines(t, err, f+": 2 problems:",
		"  "+f+":4:14: field concurrency: expected a whole number",
		"  "+f+":5:34: field population.file: cannot read")
	// A population block of the wrong type waits.
	write(strings.Replace(src, "source: file", "source: [file]", 1))
	_, err = LoadChecking(f)
	wantLines(t, err, f+": 2 problems:",
		"  "+f+":4:14: field concurrency: expected a whole number",
		"  "+f+":5:22: field population.source: expected a string")
}

// A scenario file with a value of the wrong type is checked beside it, and the experiment's
// ids against it in the same pass (errs3 #4): the other entry's kind, and an id close to an
// entry of the file (which is not in the library while the file has problems) hints at it.
func TestScenarioFileTypeErrorInOnePass(t *testing.T) {
	w := writer(t, t.TempDir())
	w("scen.yaml", `- id: snow_shovel
  kind: vignette
  text: Shovel the path?
  question: How willing are you?
  params: {minutes: thirty}
  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}
- id: bake_sale
  kind: vignete
  text: Bake for the sale?
  question: How willing are you?
  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}
`)
	exp := w("exp.yaml", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nscenario_files: [scen.yaml]\nscenarios: [snow_shovel, bake_sale, snow_shovle]\n")
	_, err := LoadChecking(exp)
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		`field scenarios[2]: unknown scenario "snow_shovle" (did you mean snow_shovel?)`,
		`scen.yaml: 2 problems:`,
		`field [0].params.minutes: expected a number, got a string "thirty"`,
		`field [1].kind: unknown kind "vignete"`,
	}
	if len(got) != len(want) {
		t.Fatalf("got\n%v\nwant lines with\n%s", err, strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// An entry of a scenario or policy file whose id has the wrong type (id: [snow_shovel]) holds
// back only the ids it may define once written right, not every unknown id of the experiment:
// helpin and moralz are reported in the same pass as the files' problems.
func TestUnknownIDsBesideAnIDOfTheWrongType(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	const entry = "  kind: vignette\n  text: t\n  question: q\n  response: {fields: [{name: w, kind: amount, min: 0, max: 1}]}\n"
	scen := write("scen.yaml", "- id: [snow_shovel]\n"+entry+"- id: raking\n"+entry)
	pol := write("pol.yaml", "id: {name: bonus}\nchannel: economic\namount: 5\ndefault: You get {{.amount}} {{.currency}}.\n")
	// A policy file's texts are keyed by scenario ids.
	pol2 := write("pol2.yaml", "id: fine\nchannel: economic\namount: 5\ndefault: d\ntexts: {snow_shovel: s, rakin: r}\n")
	exp := write("exp.yaml", "name: e\nstudy: vignettes\npopulation: {source: sample, n: 2}\nscenario_files: [scen.yaml]\npolicy_files: [pol.yaml, pol2.yaml]\n"+
		"scenarios: [snow_shovel, helpin]\nconditions: [{name: a, policy: bonus}, {name: b, policy: moralz}]\n")
	_, err := Load(exp)
	for _, w := range []string{
		pol2 + `:5:25: field texts.rakin: no scenario rakin in the library or the scenario files (did you mean raking?)`,
		exp + `:6:26: field scenarios[1]: unknown scenario "helpin" (did you mean helping?)`,
		exp + `:7:58: field conditions[1].policy: unknown policy "moralz"`,
		scen + `:1:7: field [0].id: expected a string`,
		pol + `:1:5: field id: expected a string`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	// snow_shovel and bonus are what the entries define once their ids are written right.
	for _, id := range []string{`"snow_shovel"`, `"bonus"`} {
		if err != nil && strings.Contains(err.Error(), id) {
			t.Errorf("%s reported before its file's id is fixed:\n%v", id, err)
		}
	}
}
