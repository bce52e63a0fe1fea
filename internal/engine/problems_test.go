package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/yamlx"
)

// checkFile is what validate, run and estimate report of an experiment file: Load's
// problems and the engine's checks', in one list.
func checkFile(t *testing.T, src string) (string, error) {
	return checkFileWith(t, src, Options{Offline: true})
}

func checkFileWith(t *testing.T, src string, opt Options) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.LoadChecking(path)
	if exp == nil {
		return path, err
	}
	r, err := Prepare(exp, opt)
	if err == nil {
		r.Close()
	}
	return path, err
}

// wantProblems checks that err lists exactly want (prefixes of its lines after the header,
// the file's path left out), in order.
func wantProblems(t *testing.T, path string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d problems", len(want))
	}
	got := strings.Split(strings.ReplaceAll(err.Error(), path, "exp.yaml"), "\n")
	if len(want) > 1 {
		if got[0] != fmt.Sprintf("exp.yaml: %d problems:", len(want)) {
			t.Errorf("header %q, want %d problems:\n%s", got[0], len(want), err)
		}
		got = got[1:]
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(strings.TrimSpace(got[i]), want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i+1, got[i], want[i])
		}
	}
}

// Independent mistakes of the file and of the engine's checks come in one list (QA: a
// contrast, an unpriced model under a budget and cache: nats took three runs of validate).
func TestFileAndEngineProblemsAtOnce(t *testing.T) {
	const t3 = `name: t3
study: vignettes
seed: 1
replicates: 2
population: {source: sample, n: 4}
scenarios: [volunteering]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
contrasts: [{condition: moral, against: nonee}]
budget: {usd: 20}
cache: nats
backends:
  - provider: openai
    model: my-model
`
	path, err := checkFile(t, t3)
	wantProblems(t, path, err,
		`exp.yaml:10:41: field contrasts[0].against: unknown condition "nonee"`,
		`exp.yaml:12:8: field cache: nats: the shared cache lives on a NATS broker`,
		`exp.yaml:15:12: field backends[0].model: no price is known for openai model "my-model"`,
	)
	// A missing API key too, at its backend (validate and run make the clients).
	t.Setenv("OPENAI_API_KEY", "")
	path, err = checkFileWith(t, t3, Options{})
	wantProblems(t, path, err,
		`exp.yaml:10:41: field contrasts[0].against: unknown condition "nonee"`,
		`exp.yaml:12:8: field cache: nats: the shared cache lives on a NATS broker`,
		`exp.yaml:14:5: field backends[0]: openai: no API key: set the environment variable OPENAI_API_KEY`,
		`exp.yaml:15:12: field backends[0].model: no price is known for openai model "my-model"`,
	)
	// Decided on a broker's workers (execution.nats), the coordinator needs no key (the
	// workers' are theirs) and has its shared cache (validate has no --nats to say so).
	path, err = checkFileWith(t, strings.Replace(t3, "cache: nats\n", "cache: nats\nexecution: {nats: \"nats://127.0.0.1:4222\"}\n", 1), Options{})
	wantProblems(t, path, err,
		`exp.yaml:10:41: field contrasts[0].against: unknown condition "nonee"`,
		`exp.yaml:16:12: field backends[0].model: no price is known for openai model "my-model"`,
	)
	// A backend's other mistake does not hide its missing price, nor a scenario's.
	path, err = checkFile(t, `name: t4
study: vignettes
seed: 1
population: {source: sample, n: 4}
scenarios: [volunteering, nosuch]
budget: {usd: 20}
execution: {mode: batch}
backends:
  - {provider: ollama, model: llama3, extra_body: {seed: 3}}
  - {provider: openai, model: gpt-4o-mini, endpoints: ["http://a/v1", "http://b/v1"]}
`)
	wantProblems(t, path, err,
		`exp.yaml:5:27: field scenarios[1]: unknown scenario "nosuch"`,
		`exp.yaml:9:31: field backends[0].model: no price is known for ollama model "llama3"`,
		`exp.yaml:9:58: field backends[0].extra_body.seed: "seed" is a field prosim sets itself`,
		`exp.yaml:10:55: field backends[1].endpoints: batch mode sends one job to one endpoint`,
	)
}

// A backend's missing API key is told with the backend's other problems, of which no client is
// made (QA12 #9: a temperature out of range on an anthropic backend, ANTHROPIC_API_KEY unset:
// the key came a run later), and with another backend's. A backend whose provider or
// api_key_env has a problem is not looked at: which key is meant is unknown, and an
// api_key_env holding the key itself is not echoed.
func TestMissingKeyWithTheBackendsOtherProblems(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "")
	t.Setenv("GEMINI_API_KEY", "")
	t.Setenv("GOOGLE_API_KEY", "")
	t.Setenv("OPENAI_API_KEY", "")
	const head = `name: k
study: vignettes
seed: 1
population: {source: sample, n: 4}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
`
	path, err := checkFileWith(t, head+`backends:
  - provider: anthropic
    model: claude-haiku-4-5
    temperature: 1.5
  - {provider: gemini, model: gemini-2.5-flash}
  - {provider: antropic, model: claude-haiku-4-5}
  - {provider: openai, model: gpt-4o-mini, api_key_env: sk-abc123}
  - {provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:9/v1", label: local}
`, Options{})
	wantProblems(t, path, err,
		`exp.yaml:8:5: field backends[0]: anthropic: no API key: set the environment variable ANTHROPIC_API_KEY`,
		`exp.yaml:10:18: field backends[0].temperature: 1.5 is out of range 0..1 (provider anthropic)`,
		`exp.yaml:11:5: field backends[1]: gemini: no API key: set the environment variable GEMINI_API_KEY or GOOGLE_API_KEY`,
		`exp.yaml:12:16: field backends[2].provider: unknown provider "antropic"`,
		`exp.yaml:13:57: field backends[3].api_key_env: give the NAME of an environment variable`,
	)
	// The file's single backend: block, likewise.
	path, err = checkFileWith(t, head+"backend: {provider: anthropic, model: claude-haiku-4-5, temperature: 1.5}\n", Options{})
	wantProblems(t, path, err,
		`exp.yaml:7:1: field backend: anthropic: no API key: set the environment variable ANTHROPIC_API_KEY`,
		`exp.yaml:7:70: field backend.temperature: 1.5 is out of range 0..1 (provider anthropic)`,
	)
	// Offline (estimate) needs no key.
	path, err = checkFile(t, head+"backend: {provider: anthropic, model: claude-haiku-4-5, temperature: 1.5}\n")
	wantProblems(t, path, err, `exp.yaml:7:70: field backend.temperature: 1.5 is out of range 0..1 (provider anthropic)`)
}

// A file with values of the wrong type has its backends' missing keys listed with those
// problems, where the fields naming the key are sound: QA12's exp.yaml (timeout: 5 minutes,
// ANTHROPIC_API_KEY unset) got the key a run later. The rest of the file is checked (an
// api_key_env holding a key); WithMissingKeys lists the keys beside the decoding problems of a
// file whose rest cannot be decoded (LoadChecking gives no experiment).
func TestMissingKeyWithTheFilesDecodingProblems(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "")
	t.Setenv("OPENAI_API_KEY", "")
	const src = `name: k
study: vignettes
seed: 1
concurrency: many
population: {source: sample, n: 4}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
backends:
  - {provider: anthropic, model: claude-haiku-4-5, timeout: 5 minutes}
  - {provider: openai, model: gpt-4o-mini, api_key_env: [OPENAI_API_KEY]}
  - {provider: openai, model: gpt-4o-mini, api_key_env: sk-abc123}
  - {provider: ollama, model: llama3}
`
	path, err := checkFileWith(t, src, Options{})
	err = WithMissingKeys(path, err)
	wantProblems(t, path, err,
		`exp.yaml:4:14: field concurrency: expected a whole number, got a string "many"`,
		`exp.yaml:9:5: field backends[0]: anthropic: no API key: set the environment variable ANTHROPIC_API_KEY`,
		`exp.yaml:9:61: field backends[0].timeout: "5 minutes" is not a duration`,
		`exp.yaml:10:57: field backends[1].api_key_env: expected a string`,
		`exp.yaml:11:57: field backends[2].api_key_env: give the NAME of an environment variable`,
	)
	decoding := yamlx.DecodeAll([]byte(src), path, new(experiment.Experiment))
	wantProblems(t, path, WithMissingKeys(path, decoding),
		`exp.yaml:4:14: field concurrency: expected a whole number, got a string "many"`,
		`exp.yaml:9:5: field backends[0]: anthropic: no API key: set the environment variable ANTHROPIC_API_KEY`,
		`exp.yaml:9:61: field backends[0].timeout: "5 minutes" is not a duration`,
		`exp.yaml:10:57: field backends[1].api_key_env: expected a string`,
	)
	// With a population file's problems after the file's own.
	people := filepath.Join(filepath.Dir(path), "people.csv")
	if err := os.WriteFile(people, []byte("id,age\na,sixty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path, err = checkFileWith(t, strings.Replace(src, "{source: sample, n: 4}", "{source: file, file: "+people+"}", 1), Options{})
	err = WithMissingKeys(path, err)
	got := strings.ReplaceAll(err.Error(), path, "exp.yaml")
	if !strings.Contains(got, "exp.yaml:9:5: field backends[0]: anthropic: no API key") || !strings.Contains(got, "\n"+people+":") {
		t.Errorf("with the population file's problems:\n%s", got)
	}
	// A syntax error is left alone, as is a file whose decisions go to a broker's workers.
	path, err = checkFileWith(t, strings.Replace(src, "seed: 1", "seed: [1", 1), Options{})
	if again := WithMissingKeys(path, err); again != err {
		t.Errorf("syntax error: %v", again)
	}
	path, err = checkFileWith(t, strings.Replace(src, "seed: 1", "seed: 1\nexecution: {nats: \"nats://127.0.0.1:4222\"}", 1), Options{})
	if again := WithMissingKeys(path, err); again != err {
		t.Errorf("execution.nats: %v", again)
	}
}

// Every mistake of a factors: block at once, the file's own (levels), the study's design's
// (a factor it does not vary) and its scenarios' (a wording they lack) (QA: four runs).
func TestEveryFactorProblemAtOnce(t *testing.T) {
	path, err := checkFile(t, `name: ferr
study: vignettes
seed: 1
population: {source: sample, n: 4, show_scores: true}
scenarios: [volunteering]
conditions: [{name: none, policy: none}, {name: moral, policy: moral}]
prompt: {mode: joint}
factors: {wording: [original, p4], scale: [ascending], temperature: [0, 2.5], prompt: [separate, joint], option_order: [original, reversed]}
`)
	wantProblems(t, path, err,
		`exp.yaml:8:31: field factors.wording[1]: scenario volunteering has no wording "p4"`,
		`exp.yaml:8:43: field factors.scale: a factor needs at least two levels to compare (got 1)`,
		`exp.yaml:8:73: field factors.temperature[1]: 2.5 is out of range 0..2`,
		`exp.yaml:8:87: field factors.prompt: the prompt factor sets the prompt mode: leave prompt.mode out`,
		`exp.yaml:8:120: field factors.option_order: study vignettes does not vary the option_order factor`,
	)
	// Joint prompts and factors are checked against the study's design, and the study's own
	// checks made, beside each other.
	path, err = checkFile(t, `name: g
study: tpp
seed: 1
population: {source: sample, n: 2}
prompt: {mode: joint}
factors: {scale: [ascending, descending], wording: [original, p9]}
`)
	wantProblems(t, path, err,
		`exp.yaml:5:16: field prompt.mode: study tpp does not put its scenarios in one prompt`,
		`exp.yaml:6:18: field factors.scale: study tpp does not vary the scale factor`,
		`exp.yaml:6:63: field factors.wording[1]: scenario tpp has no wording "p9"`,
	)
}

// A study's own checks report every factor level's problem (tpp and network: each wording
// missing) beside the design's (the persona factor beside show_scores).
func TestStudyChecksEveryLevel(t *testing.T) {
	path, err := checkFile(t, `name: g
study: tpp
seed: 1
population: {source: sample, n: 2, show_scores: true}
factors: {wording: [original, p8, p9], persona: [levels, scores]}
`)
	wantProblems(t, path, err,
		`exp.yaml:4:49: field population.show_scores: the persona factor sets how personas are shown`,
		`exp.yaml:5:31: field factors.wording[1]: scenario tpp has no wording "p8"`,
		`exp.yaml:5:35: field factors.wording[2]: scenario tpp has no wording "p9"`,
	)
}

// The persona factor beside show_averages is told once, at show_averages's line, for every
// study that varies it (each study checked it, at show_scores's line).
func TestPersonaFactorBesideShowAverages(t *testing.T) {
	for _, st := range []string{"vignettes\nscenarios: [volunteering]", "tpp", "network\nnetwork: {graph: {type: erdos_renyi, p: 0.5}, rounds: 1, scenario: donating}", "games\ngames: [{game: dictator}]"} {
		path, err := checkFile(t, `name: g
seed: 1
population: {source: sample, n: 8, show_averages: true}
factors: {persona: [levels, scores]}
study: `+st+`
`)
		wantProblems(t, path, err,
			`exp.yaml:3:51: field population.show_averages: the persona factor sets how personas are shown`,
		)
	}
}

// The study waits for the fields it reads: with a wrong population its scenarios' checks
// (a wording they lack) are left until it is fixed; the design's are not.
func TestStudyWaitsForAWrongPopulation(t *testing.T) {
	path, err := checkFile(t, `name: w
study: vignettes
seed: 1
population: {source: sample, n: 0}
scenarios: [volunteering]
factors: {wording: [original, p4], option_order: [original, reversed]}
`)
	wantProblems(t, path, err,
		`exp.yaml:4:33: field population.n: required for source sample`,
		`exp.yaml:6:50: field factors.option_order: study vignettes does not vary`,
	)
}
