package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/seed"
)

const good = `name: s1
study: vignettes
seed: 7
population: {source: sample, n: 10}
scenarios: [helping]
conditions:
  - {name: none, policy: none}
  - {policy: moral}
`

func TestParseFillsDefaults(t *testing.T) {
	e, err := Parse([]byte(good), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if *e.Seed != 7 || e.Replicates != 1 || e.Concurrency != 8 || *e.MaxRepairs != 2 || e.Prompt.Mode != "separate" {
		t.Errorf("defaults: %+v", e)
	}
	if e.Conditions[1].Name != "moral" {
		t.Errorf("a condition without a name takes its policy's: %q", e.Conditions[1].Name)
	}
	if len(e.Backends) != 1 || e.Backends[0].Provider != "builtin" {
		t.Errorf("default backend: %+v", e.Backends)
	}
	if e.Population.Currency != "yuan" {
		t.Errorf("currency %q", e.Population.Currency)
	}
}

func TestResolvedConfigRoundTrips(t *testing.T) {
	src := strings.Replace(good, "seed: 7\n", "", 1) // no seed: one is chosen and recorded
	e, err := Parse([]byte(src), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Parse(out, "resolved.yaml")
	if err != nil {
		t.Fatalf("resolved config does not parse: %v\n%s", err, out)
	}
	if *e2.Seed != *e.Seed || len(e2.Conditions) != 2 || e2.Backends[0].Provider != "builtin" {
		t.Errorf("round trip lost something:\n%s", out)
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct{ name, edit, want string }{
		{"unknown field", "seed: 7\n+replicatse: 3\n", "exp.yaml:4:1: field replicatse: unknown field"},
		{"wrong type", "seed: 7\n+replicates: many\n", "exp.yaml:4:13: field replicates: expected a whole number"},
		{"negative replicates", "seed: 7\n+replicates: -2\n", "exp.yaml:4:13: field replicates: -2 is out of range"},
		{"bad study name", "study: vignettes\n>study: \"my study\"\n", "exp.yaml:2:8: field study: \"my study\" is not a study name"},
		{"missing n", "population: {source: sample, n: 10}\n>population: {source: sample}\n", "exp.yaml:4:1: field population.n: required for source sample"},
		{"missing file", "population: {source: sample, n: 10}\n>population: {source: file, file: nope.csv}\n", "field population.file: cannot read"},
		{"bad source", "population: {source: sample, n: 10}\n>population: {source: census}\n", "field population.source: unknown source \"census\""},
		{"condition without policy", "  - {policy: moral}\n>  - {name: x}\n", "exp.yaml:8:5: field conditions[1].policy: required"},
		{"duplicate condition", "  - {policy: moral}\n>  - {name: none, policy: moral}\n", "field conditions[1].name: condition name \"none\" is used twice"},
		{"bad provider", "seed: 7\n+backend: {provider: openia, model: x}\n", "field backend.provider: unknown provider \"openia\""},
		{"llm without model", "seed: 7\n+backend: {provider: openai}\n", "field backend.model: required for provider openai"},
		{"key in config", "seed: 7\n+backend: {provider: openai, model: m, api_key_env: sk-abc}\n", "never the key itself"},
		{"bad temperature", "seed: 7\n+backend: {provider: openai, model: m, temperature: 3}\n", "field backend.temperature: 3 is out of range"},
		{"bad timeout", "seed: 7\n+backend: {provider: openai, model: m, timeout: soon}\n", "\"soon\" is not a duration"},
		{"bad url", "seed: 7\n+backend: {provider: openai, model: m, base_url: localhost:8000}\n", "is not an http:// or https:// URL"},
		{"duplicate scenario", "scenarios: [helping]\n>scenarios: [helping, helping]\n", "field scenarios[1]: scenario \"helping\" is listed twice"},
		{"bad name", "name: s1\n>name: my study\n", "field name: \"my study\": use ASCII letters"},
		// Names become run ids and file names: ASCII, which the message says.
		{"arabic condition name", "  - {policy: moral}\n>  - {name: لا_سياسة, policy: moral}\n", "exp.yaml:8:12: field conditions[1].name: \"لا_سياسة\": use ASCII letters (a-z, A-Z), digits, '-', '_' or '.' only, starting with a letter or digit"},
		{"unknown contrast condition", "  - {policy: moral}\n+contrasts:\n  - {condition: moral, against: none}\n  - {condition: social, against: none}\n", "exp.yaml:11:17: field contrasts[1].condition: unknown condition \"social\" (want one of none, moral)"},
		{"unknown contrast reference", "  - {policy: moral}\n+contrasts: [{condition: moral, against: control}]\n", "exp.yaml:9:41: field contrasts[0].against: unknown condition \"control\""},
		{"contrast without reference", "  - {policy: moral}\n+contrasts: [{condition: moral}]\n", "exp.yaml:9:13: field contrasts[0].against: required"},
		{"contrast with itself", "  - {policy: moral}\n+contrasts: [{condition: moral, against: moral}]\n", "field contrasts[0].against: a condition compared with itself"},
		{"builtin labelled like an LLM", "seed: 7\n+backend: {provider: builtin, label: gpt}\n", "exp.yaml:4:37: field backend.label: \"gpt\": a builtin backend's label is builtin or begins with builtin-"},
		{"LLM labelled builtin", "seed: 7\n+backend: {provider: openai, model: m, label: builtin-x}\n", "field backend.label: \"builtin-x\": the labels builtin and builtin-... name the behavioural model"},
		{"duplicate contrast", "  - {policy: moral}\n+contrasts: [{condition: moral, against: none}, {condition: moral, against: none}]\n", "field contrasts[1]: the same contrast as contrasts[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := edit(t, good, c.edit)
			_, err := Parse([]byte(src), filepath.Join(t.TempDir(), "exp.yaml"))
			if err == nil {
				t.Fatalf("no error for:\n%s", src)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// edit applies "old\n+new" (insert new after old) or "old\n>new" (replace old by new).
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

func TestRelativePathsResolveAgainstTheExperimentFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(good, "{source: sample, n: 10}", "{source: file, file: people.csv}", 1)
	e, err := Parse([]byte(src), filepath.Join(dir, "exp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Population.File != filepath.Join(dir, "people.csv") {
		t.Errorf("file resolved to %q", e.Population.File)
	}
}

func TestParseBackendSpec(t *testing.T) {
	for s, want := range map[string]Backend{
		"builtin":            {Provider: "builtin"},
		"openai:gpt-4o-mini": {Provider: "openai", Model: "gpt-4o-mini"},
		"openai:qwen2.5-7b-instruct@http://127.0.0.1:8000/v1": {Provider: "openai", Model: "qwen2.5-7b-instruct", BaseURL: "http://127.0.0.1:8000/v1"},
		"anthropic:claude-sonnet-4-5":                         {Provider: "anthropic", Model: "claude-sonnet-4-5"},
		// A base URL applies to every provider, as base_url does in the file (QA12 #10).
		"anthropic:claude-haiku-4-5@http://127.0.0.1:9101":  {Provider: "anthropic", Model: "claude-haiku-4-5", BaseURL: "http://127.0.0.1:9101"},
		"gemini:gemini-2.5-flash@https://gw.example/v1beta": {Provider: "gemini", Model: "gemini-2.5-flash", BaseURL: "https://gw.example/v1beta"},
		"ollama:llama3.1:8b": {Provider: "ollama", Model: "llama3.1:8b", BaseURL: "http://127.0.0.1:11434/v1"},
	} {
		got, err := ParseBackendSpec(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if got.Provider != want.Provider || got.Model != want.Model || got.BaseURL != want.BaseURL {
			t.Errorf("%s: got %+v, want %+v", s, got, want)
		}
	}
	for _, bad := range []string{"", "openai", "openai:", "gpt4:x", "anthropic:claude@ftp://x", "anthropic:claude@127.0.0.1:9101", "openai:m@localhost"} {
		if _, err := ParseBackendSpec(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestPopulationSeedDerivedRecordedOrGiven(t *testing.T) {
	e, err := Parse([]byte(good), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Without population.seed the population is the one every earlier run sampled.
	if e.Population.Seed == nil || *e.Population.Seed != seed.Derive(7, "population") {
		t.Fatalf("population.seed %v, want Derive(7, population)", e.Population.Seed)
	}
	out, err := e.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Parse(out, "resolved.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if *e2.Population.Seed != *e.Population.Seed {
		t.Errorf("resolved config does not keep population.seed:\n%s", out)
	}
	given := strings.Replace(good, "n: 10}", "n: 10, seed: 18446744073709551615}", 1)
	if e, err = Parse([]byte(given), "exp.yaml"); err != nil || *e.Population.Seed != 1<<64-1 {
		t.Errorf("a given population.seed is kept: %v %v", e, err)
	}
	for _, pop := range []string{"{source: prosim104, seed: 1}", "{source: file, file: experiment_test.go, seed: 1}"} {
		src := strings.Replace(good, "{source: sample, n: 10}", pop, 1)
		if _, err := Parse([]byte(src), "exp.yaml"); err == nil || !strings.Contains(err.Error(), "population.seed") {
			t.Errorf("%s: %v", pop, err)
		}
	}
}

// on_error is record or stop (or left out: record), located when it is neither.
func TestOnErrorChecked(t *testing.T) {
	for v, ok := range map[string]bool{"record": true, "stop": true, "skip": false} {
		f := filepath.Join(t.TempDir(), "e.yaml")
		src := "name: e\nstudy: vignettes\npopulation: {source: prosim104}\nscenarios: [volunteering]\non_error: " + v + "\n"
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(f)
		if ok != (err == nil) || !ok && !strings.Contains(err.Error(), "e.yaml:5") {
			t.Errorf("on_error: %s gave %v", v, err)
		}
	}
}

// A file that is not UTF-8 text is refused in one line naming it, before the YAML parser
// (a UTF-16 file was "string was used where mapping is expected").
func TestLoadRefusesUTF16(t *testing.T) {
	p := filepath.Join(t.TempDir(), "exp.yaml")
	data := []byte{0xFF, 0xFE}
	for _, c := range good {
		data = append(data, byte(c), 0)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if want := p + ": not UTF-8 text (looks like UTF-16: save it as UTF-8)"; err == nil || err.Error() != want {
		t.Errorf("%v, want %s", err, want)
	}
	// validate, run and estimate (LoadChecking) say it alike, a stray character at its place.
	if err := os.WriteFile(p, []byte("name: x\nstudy: vignettes\nseed: 1 \x1b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadChecking(p)
	if want := p + ":3:9: not UTF-8 text (control character U+001B: remove it)"; err == nil || err.Error() != want {
		t.Errorf("%v, want %s", err, want)
	}
}
