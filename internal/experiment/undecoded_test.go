package experiment

import (
	"strings"
	"testing"
)

// QA's f3: values of the wrong type and unknown fields no longer stop the checks of the rest
// of the file. All five problems come in one run, sorted by line (two runs, three then two).
func TestDecodingAndCheckingProblemsAtOnce(t *testing.T) {
	src := `name: f3
study: vignettes
replicates: "two"
population: {source: sampled, n: 20, seed: 1}
backend: {type: builtin}
conditions:
  - {name: c1, policy: nosuchpolicy}
  - {name: c1, policy: none}
`
	_, err := Parse([]byte(src), "a.yaml")
	wantLines(t, err,
		`a.yaml: 5 problems:`,
		`  a.yaml:3:13: field replicates: expected a whole number, got a string "two"`,
		`  a.yaml:4:22: field population.source: unknown source "sampled" (want sample, prosim104 or file)`,
		`  a.yaml:5:11: field backend.type: unknown field (did you mean provider?)`,
		`  a.yaml:7:24: field conditions[0].policy: unknown policy "nosuchpolicy"`,
		`  a.yaml:8:12: field conditions[1].name: condition name "c1" is used twice`,
	)
	// LoadChecking keeps the experiment, so that the engine's checks join these.
	e, err := LoadChecking(writer(t, t.TempDir())("a.yaml", src))
	if e == nil || err == nil {
		t.Fatalf("experiment %v, problems %v: want both", e, err)
	}
	if e.Sound("replicates") || e.Sound("backend") || !e.Sound("scenarios") {
		t.Errorf("replicates sound %v, backend %v, scenarios %v: want false, false, true", e.Sound("replicates"), e.Sound("backend"), e.Sound("scenarios"))
	}
	// The engine's checks do not read the provider the misspelt key was meant for.
	if e.SoundField("backend.provider") {
		t.Error("backend.provider sound beside backend.type (did you mean provider?)")
	}
}

// A check never reports a consequence of a value that could not be decoded: the field is left
// out, and its zero value would read as a second problem. Each file has one problem of
// decoding, and a check of the rest still reports its own beside it (max_repairs).
func TestNoConsequenceOfAnUndecodedField(t *testing.T) {
	const rest = "seed: 1\nmax_repairs: 11\n"
	for _, c := range []struct{ name, src, want string }{
		{"replicates", "name: s\nstudy: vignettes\nreplicates: \"two\"\npopulation: {source: sample, n: 3}\n",
			`field replicates: expected a whole number, got a string "two"`}, // not "out of range 1..10000"
		{"name", "name: [s]\nstudy: vignettes\npopulation: {source: sample, n: 3}\n",
			`field name: expected a string`}, // not "required"
		{"study", "name: s\nstudy: {vignettes: 1}\npopulation: {source: sample, n: 3}\n",
			`field study: expected a string`},
		{"population", "name: s\nstudy: vignettes\npopulation: prosim104\n",
			`field population: expected a mapping`}, // not "population.source: required"
		{"population.n", "name: s\nstudy: vignettes\npopulation: {source: sample, n: ten}\n",
			`field population.n: expected a whole number`}, // not "required for source sample"
		{"population.source", "name: s\nstudy: vignettes\npopulation: {source: [prosim104], n: 20}\n",
			`field population.source: expected a string`}, // nor population.n against prosim104
		{"population.sourc", "name: s\nstudy: vignettes\npopulation: {sourc: prosim104, n: 20}\n",
			`field population.sourc: unknown field (did you mean source?)`},
		{"population.file", "name: s\nstudy: vignettes\npopulation: {source: file, file: [p.csv]}\n",
			`field population.file: expected a string`}, // not "required for source file"
		{"conditions[0]", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nconditions: [moral, {name: m, policy: moral}]\ncontrasts: [{condition: m, against: moral}]\n",
			`field conditions[0]: expected a mapping`}, // not "policy required", nor the contrast
		{"conditions[1].name", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nconditions: [{policy: moral}, {name: [moral], policy: moral}]\n",
			`field conditions[1].name: expected a string`}, // not "moral" used twice
		{"scenarios[0]", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nscenarios: [[volunteering], volunteering]\n",
			`field scenarios[0]: expected a string`}, // not unknown scenario ""
		{"scenario_files[0]", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nscenario_files: [[s.yaml]]\nscenarios: [snow_shovel]\n",
			`field scenario_files[0]: expected a string`}, // the file may define snow_shovel
		{"budget.usd", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nbudget: {usd: ten}\n",
			`field budget.usd: expected a number`}, // not "want a positive amount"
		{"backend.type", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nbackend: {type: builtin}\n",
			`field backend.type: unknown field (did you mean provider?)`}, // not unknown provider ""
		{"backends[0].modle", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nbackends: [{provider: openai, modle: gpt-4o}]\n",
			`field backends[0].modle: unknown field (did you mean model?)`}, // not "model: required"
		{"backends[1]", "name: s\nstudy: vignettes\npopulation: {source: sample, n: 3}\nbackends: [{provider: builtin}, builtin]\n",
			`field backends[1]: expected a mapping`}, // nor two backends labelled builtin
	} {
		_, err := Parse([]byte(c.src+rest), "exp.yaml")
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		got := strings.Split(err.Error(), "\n")
		if len(got) != 3 || !strings.Contains(got[1], c.want) || !strings.Contains(got[2], "field max_repairs: 11 is out of range") {
			t.Errorf("%s: want %q and max_repairs, got\n%v", c.name, c.want, err)
		}
	}
}

// An unknown key without a hint (colour: red) stands for no field: a required field its
// mapping leaves out is told missing in the same pass, not once the key is fixed (errs3 #1).
func TestUnhintedUnknownKeyBesideAMissingField(t *testing.T) {
	src := `colour: red
population:
  n: 104
  colour: red
scenarios: [volunteering]
conditions:
  - {name: none, colour: red}
backends:
  - colour: red
  - {provider: openai, xyzzy: gpt-4o}
`
	_, err := Parse([]byte(src), "a.yaml")
	wantLines(t, err,
		`a.yaml: 11 problems:`,
		`  a.yaml: field name: required: a short name for the experiment, e.g. study1`,
		`  a.yaml: field study: required: one of vignettes, tpp, network, games (or a study of your own)`,
		`  a.yaml:1:1: field colour: unknown field (check its spelling and indentation)`,
		`  a.yaml:2:1: field population.source: required: sample, prosim104 or file`,
		`  a.yaml:4:3: field population.colour: unknown field (check its spelling and indentation)`,
		`  a.yaml:7:5: field conditions[0].policy: required: a policy frame id such as none, moral, social, enforce or economic`,
		`  a.yaml:7:18: field conditions[0].colour: unknown field (check its spelling and indentation)`,
		`  a.yaml:9:5: field backends[0].colour: unknown field (check its spelling and indentation)`,
		`  a.yaml:9:5: field backends[0].provider: required: one of builtin, openai, anthropic, gemini, vllm, ollama`,
		`  a.yaml:10:5: field backends[1].model: required for provider openai`,
		`  a.yaml:10:24: field backends[1].xyzzy: unknown field (check its spelling and indentation)`,
	)
}

// replicates: "3" is a quoted string where a number belongs: an error at its line (it was read
// as 3), told with the other problems, and no check reads it (errs3 #5).
func TestQuotedReplicates(t *testing.T) {
	_, err := Parse([]byte("name: s\nstudy: vignettes\nreplicates: \"3\"\npopulation: {source: sample, n: '10'}\nscenarios: [volunteering]\nmax_repairs: 11\n"), "a.yaml")
	wantLines(t, err,
		`a.yaml: 3 problems:`,
		`  a.yaml:3:13: field replicates: expected a whole number, not the string "3" (write it without quotes)`,
		`  a.yaml:4:33: field population.n: expected a whole number, not the string "10" (write it without quotes)`,
		`  a.yaml:6:14: field max_repairs: 11 is out of range 0..10`,
	)
}
