package engine

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
)

const factorStudy = `name: fx
study: vignettes
seed: 5
replicates: 1
population: {source: sample, n: 4}
scenarios: [volunteering, sharing]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
factors:
`

// rows reads a run's decisions.csv as maps by column name.
func rows(t *testing.T, dir string) []map[string]string {
	t.Helper()
	return csvByName(t, filepath.Join(dir, "results", "decisions.csv"))
}

// An LLM that always answers 2 on whatever scale it is shown: on the descending scale 2
// means "6 on the canonical scale", which decisions.csv must record, with the raw 2 beside it.
func TestFactorsRecodeReversedScaleAndShowEachLevel(t *testing.T) {
	exp := load(t, factorStudy+`  wording: [original, p2]
  scale: [ascending, descending]
  persona: [levels, third_person]
  system: [plain, forget_ai]
`, 4)
	var mu sync.Mutex
	seen := map[string][]backend.Request{} // by a prompt/system feature
	opt := Options{Backends: func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, k := range []string{`1 means "extremely willing"`, `1 means "not at all willing"`, "She is", "He is", "You are", "Forget that you are an AI",
				"Walking home", "Your friend is going away on a trip", "A friend is going on a trip"} {
				if strings.Contains(req.Prompt, k) || strings.Contains(req.System, k) {
					seen[k] = append(seen[k], req)
				}
			}
			return backend.Reply{Raw: `{"willingness": 2}`, Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}}
	exp.Backends = []experiment.Backend{{Provider: "openai", Model: "fake-1"}}
	dir := filepath.Join(t.TempDir(), "run")
	opt.Out = dir
	if _, err := Run(context.Background(), exp, opt); err != nil {
		t.Fatal(err)
	}
	// 4 agents x 2 scenarios x 2 conditions x 16 cells of levels, each of 2 equal halves.
	for k, want := range map[string]int{`1 means "extremely willing"`: 128, `1 means "not at all willing"`: 128,
		"Forget that you are an AI": 128, "Your friend is going away on a trip": 64, "A friend is going on a trip": 64} {
		if got := len(seen[k]); got != want {
			t.Errorf("%d requests show %q, want %d", got, k, want)
		}
	}
	if n := len(seen["She is"]) + len(seen["He is"]); n != 128 {
		t.Errorf("%d third-person personas, want 128", n)
	}
	for name, want := range map[string]int{"sensitivity.csv": 1 + 2*4*3, "robustness.csv": 1 + 2*8} { // scenarios x factors x terms; conclusions x levels
		b, err := os.ReadFile(filepath.Join(dir, "results", name))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n != want {
			t.Errorf("%s has %d lines, want %d", name, n, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "report.html")); err != nil || !strings.Contains(string(b), "robust to wording") {
		t.Errorf("report.html lacks the robustness table (%v)", err)
	}
	rs := rows(t, dir)
	if len(rs) != 512 { // 256 decisions x (willingness, willingness_raw)
		t.Fatalf("%d rows, want 512", len(rs))
	}
	for _, r := range rs {
		for _, c := range []string{"wording", "scale", "persona", "system"} {
			if r[c] == "" {
				t.Fatalf("row without its %s level: %v", c, r)
			}
		}
		if !strings.Contains(r["run_id"], "."+r["scale"]+".") {
			t.Fatalf("run %s in a row of scale %s", r["run_id"], r["scale"])
		}
		want := "2"
		if r["field"] == "willingness" && r["scale"] == "descending" {
			want = "6"
		}
		if r["value"] != want {
			t.Fatalf("%s = %s on the %s scale, want %s (row %v)", r["field"], r["value"], r["scale"], want, r)
		}
	}
}

// A cell's seeds derive from its own levels: the cells that two designs share give the same
// decisions, whatever else each design crosses.
func TestFactorCellReproducibleOnItsOwn(t *testing.T) {
	one := rows(t, dirOf(t, run2(t, load(t, factorStudy+"  wording: [original, p1]\n  scale: [ascending, descending]\n", 2))))
	two := rows(t, dirOf(t, run2(t, load(t, factorStudy+"  wording: [p1, p3]\n  scale: [descending, ascending]\n", 3))))
	key := func(r map[string]string) string {
		return strings.Join([]string{r["condition"], r["agent_id"], r["scenario"], r["field"], r["wording"], r["scale"]}, "|")
	}
	a := map[string]string{}
	for _, r := range one {
		a[key(r)] = r["value"]
	}
	shared, differ := 0, 0
	for _, r := range two {
		if v, ok := a[key(r)]; ok {
			shared++
			if v != r["value"] {
				t.Errorf("%s: %s in one design, %s in the other", key(r), v, r["value"])
			}
		} else if r["wording"] == "p1" {
			t.Errorf("%s: missing from the first design", key(r))
		}
	}
	for _, r := range one {
		if r["wording"] == "original" && r["field"] == "willingness" {
			q := map[string]string{}
			for k, v := range r {
				q[k] = v
			}
			q["wording"] = "p1"
			if a[key(q)] != r["value"] {
				differ++
			}
		}
	}
	if shared != 64 { // the p1 cells: 4 agents x 2 scenarios x 2 conditions x 2 scales x 2 fields
		t.Errorf("%d shared rows, want 64", shared)
	}
	if differ == 0 {
		t.Error("wordings original and p1 drew the same ratings everywhere: their seeds do not depend on the level")
	}
}

func run2(t *testing.T, exp *experiment.Experiment) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func dirOf(_ *testing.T, dir string) string { return dir }

func TestFactorErrorsAreLocated(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{factorStudy + "  wording: [original, p9]\n", "factors.wording[1]: scenario volunteering has no wording \"p9\""},
		{factorStudy + "  temperature: [0, 2.5]\n", "factors.temperature[1]: 2.5 is out of range 0..2"},
		// Anthropic's API takes 0..1 (QA9: 1.8 validated, then each call met HTTP 400).
		{factorStudy + "  temperature: [0, 1.8]\nbackend: {provider: anthropic, model: claude-haiku-4-5}\n", "factors.temperature[1]: 1.8 is out of range 0..1 of provider anthropic (backend anthropic:claude-haiku-4-5)"},
		{factorStudy + "  temperature: [0, 0.5]\nbackend: {provider: anthropic, model: claude-haiku-4-5, temperature: 1.5}\n", "backend.temperature: 1.5 is out of range 0..1 (provider anthropic)"},
		{factorStudy + "  prompt: [separate, both]\n", "factors.prompt[1]: unknown prompt level \"both\""},
		{factorStudy + "  temperature: [0.5, 0.50]\n", "factors.temperature[1]: level \"0.5\" is listed twice"},
		{factorStudy + "  scale: [ascending, sideways]\n", "factors.scale[1]: unknown scale level \"sideways\""},
		{factorStudy + "  persona: [levels]\n", "factors.persona: a factor needs at least two levels"},
		{"name: g\nstudy: tpp\nseed: 1\npopulation: {source: sample, n: 2}\nfactors:\n  scale: [ascending, descending]\n", "factors.scale: study tpp does not vary the scale factor (it varies wording, persona, system, temperature)"},
		{"name: g\nstudy: tpp\nseed: 1\npopulation: {source: sample, n: 2}\nfactors:\n  wording: [original, p9]\n", "factors.wording[1]: scenario tpp has no wording \"p9\""},
	} {
		path := filepath.Join(t.TempDir(), "exp.yaml")
		if err := os.WriteFile(path, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, err := experiment.Load(path)
		if err == nil {
			var r *Runner
			r, err = Prepare(exp, Options{Offline: true})
			if err == nil {
				r.Close()
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "exp.yaml:") {
			t.Errorf("got %v, want a located error with %q", err, c.want)
		}
	}
}

// The temperature level is sent as the request's temperature, and the joint level puts both
// scenarios in one call whose ratings, shown on a descending scale, are recoded like the
// separate calls'.
func TestFactorsTemperatureAndJointPrompt(t *testing.T) {
	exp := load(t, factorStudy+"  temperature: [0, 0.7]\n  prompt: [separate, joint]\n  scale: [ascending, descending]\n", 4)
	var mu sync.Mutex
	temps := map[string]int{}
	joint := 0
	opt := Options{NoCache: true, Backends: func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			mu.Lock()
			defer mu.Unlock()
			temps[fmt.Sprint(*req.Sampling.Temperature)]++
			if len(req.Schema.Fields) == 2 {
				joint++
				return backend.Reply{Raw: `{"volunteering.willingness": 2, "sharing.willingness": 2}`, Provider: "fake", Model: "fake-1", Calls: 1}, nil
			}
			return backend.Reply{Raw: `{"willingness": 2}`, Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}}
	exp.Backends = []experiment.Backend{{Provider: "openai", Model: "fake-1"}}
	dir := filepath.Join(t.TempDir(), "run")
	opt.Out = dir
	if _, err := Run(context.Background(), exp, opt); err != nil {
		t.Fatal(err)
	}
	// Per temperature: 2 conditions x 2 scales x 4 agents x (2 separate calls + 1 joint call).
	if temps["0"] != 48 || temps["0.7"] != 48 || len(temps) != 2 {
		t.Errorf("requests by temperature %v, want 48 at 0 and 48 at 0.7", temps)
	}
	if joint != 32 {
		t.Errorf("%d joint calls, want 32", joint)
	}
	rs := rows(t, dir)
	if len(rs) != 2*128 {
		t.Fatalf("%d rows, want 256", len(rs))
	}
	for _, r := range rs {
		want := "2"
		if r["field"] == "willingness" && r["scale"] == "descending" {
			want = "6"
		}
		if r["value"] != want || r["temperature"] == "" || r["prompt"] == "" {
			t.Fatalf("row %v: value want %s, and every level", r, want)
		}
	}
}

// On the behavioural model a joint prompt is answered part by part: every decision valid.
func TestFactorJointPromptOnBehaviouralModel(t *testing.T) {
	for _, r := range rows(t, run2(t, load(t, factorStudy+"  prompt: [separate, joint]\n", 2))) {
		if r["valid"] != "1" {
			t.Fatalf("invalid decision %v", r)
		}
	}
}

// A temperature level is written "t0p7" in run ids (a "." would read as a separator), and a
// run recorded by an older build with "none.0.7.r1" still resumes and reports its decisions.
func TestTemperatureRunIDsAndLegacyRuns(t *testing.T) {
	dir := run2(t, load(t, factorStudy+"  temperature: [0, 0.7]\n", 2))
	before := rows(t, dir)
	ids := map[string]bool{}
	for _, r := range before {
		ids[r["run_id"]] = true
	}
	for _, want := range []string{"none.t0.r1", "none.t0p7.r1", "moral.t0p7.r1"} {
		if !ids[want] {
			t.Errorf("run ids %v: want %s", ids, want)
		}
	}
	// Make it an old run: the ids as older builds wrote them.
	db, err := sql.Open("sqlite", filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE runs SET run_id = replace(replace(run_id, '.t0p7.', '.0.7.'), '.t0.', '.0.')`,
		`UPDATE decisions SET run_id = replace(replace(run_id, '.t0p7.', '.0.7.'), '.t0.', '.0.')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if err := os.RemoveAll(filepath.Join(dir, "results")); err != nil {
		t.Fatal(err)
	}
	res, err := Resume(context.Background(), dir, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Asked != 0 {
		t.Errorf("resuming the old run asked %d decisions, want 0", res.Asked)
	}
	after := rows(t, dir)
	if len(after) != len(before) {
		t.Fatalf("%d rows after, %d before", len(after), len(before))
	}
	for i := range after {
		old := strings.NewReplacer(".t0p7.", ".0.7.", ".t0.", ".0.").Replace(before[i]["run_id"])
		if after[i]["run_id"] != old || after[i]["value"] != before[i]["value"] || after[i]["temperature"] != before[i]["temperature"] {
			t.Fatalf("row %d: %v, was %v", i, after[i], before[i])
		}
	}
}
