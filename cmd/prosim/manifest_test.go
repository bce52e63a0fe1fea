package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/manifest"
)

// manifestExperiment writes an experiment reading a scenario file and a population file into
// a new folder and returns the experiment's path.
func manifestExperiment(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	files := map[string]string{
		"scen.yaml": `id: blood
kind: vignette
text: A blood drive is at your workplace today.
question: How likely are you to donate blood?
response:
  fields:
    - {name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}
model: {base: 4.0, cost: 0.4, money: 0, visibility: 0.5, need: 0.8}
`,
		"people.csv": `id,gender,age,age_bracket,marital,income_quintile,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion
1,male,50,50-54,married,4,50220,yuan,junior_high,migrant worker,3.23,2.99,2.75,2.78,3.89,2.22,2.51,3.84,2.75
2,female,67,65-69,married,1,9215,yuan,primary,retired,3.44,2.81,3.67,2.82,4.36,2.89,2.8,3.51,3.14
`,
		"exp.yaml": `name: manifested
study: vignettes
seed: 3
population: {source: file, file: people.csv}
scenario_files: [scen.yaml]
scenarios: [blood, volunteering]
conditions: [{name: none, policy: none}, {name: moral, policy: moral}]
cache: "off"
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(src, "exp.yaml")
}

func readManifest(t *testing.T, dir string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A run writes manifest.json with the hashes of its inputs, the build and the model versions;
// prosim verify passes on the untouched folder and names each changed, missing or added file.
func TestManifestAndVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if out, err := prosim(t, "run", manifestExperiment(t), "--out", dir, "-q"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	m := readManifest(t, dir)
	var got []string
	for _, f := range m.Files {
		got = append(got, f.Path+" "+f.Role)
		if len(f.SHA256) != 64 || f.Bytes == 0 {
			t.Errorf("file %+v", f)
		}
	}
	if strings.Join(got, "; ") != "config.yaml config; inputs/people.csv population; inputs/scen.yaml scenarios" {
		t.Errorf("files %q", got)
	}
	if m.Status != "complete" || m.Experiment != "manifested" || m.Study != "vignettes" || m.Prosim.Go != runtime.Version() || m.Prosim.Version == "" {
		t.Errorf("manifest %+v", m)
	}
	if len(m.Backends) != 1 || m.Backends[0].Label != "builtin" || strings.Join(m.Backends[0].ModelVersions, ",") != behavioral.Version {
		t.Errorf("backends %+v", m.Backends)
	}
	if len(m.Builtin) != 2 || m.Builtin[0].Path != "builtin:scenarios" || m.Builtin[1].Path != "builtin:policies" {
		t.Errorf("builtin %+v", m.Builtin)
	}
	if m.SpentUSD != nil {
		t.Errorf("spent_usd %v for a run of the behavioural model alone, want none", *m.SpentUSD)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, manifest.File))
	if strings.Contains(string(raw), filepath.Dir(dir)) {
		t.Errorf("the manifest holds an absolute path:\n%s", raw)
	}

	out, err := prosim(t, "verify", dir)
	if err != nil || !strings.Contains(out, "ok: 3 files of the manifest unchanged") || !strings.Contains(out, "manifest.json: sha256 ") {
		t.Fatalf("verify of an untouched run: %v\n%s", err, out)
	}

	// Change the scenario file, delete the population, add a file.
	in := filepath.Join(dir, "inputs")
	if err := os.WriteFile(filepath.Join(in, "scen.yaml"), []byte("id: blood\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(in, "people.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "extra.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = prosim(t, "verify", dir)
	if err == nil || !strings.Contains(err.Error(), "3 of the run's files differ from its manifest") {
		t.Fatalf("verify of a changed run: %v\n%s", err, out)
	}
	for _, want := range []string{"added: inputs/extra.txt", "missing: inputs/people.csv (population;", "changed: inputs/scen.yaml (scenarios; sha256 was "} {
		if !strings.Contains(out, want) {
			t.Errorf("verify does not say %q:\n%s", want, out)
		}
	}
	old := t.TempDir() // a run folder without a manifest
	if err := os.WriteFile(filepath.Join(old, "config.yaml"), []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := prosim(t, "verify", old); err == nil || !strings.Contains(err.Error(), "manifest.json does not exist") {
		t.Errorf("verify of a run folder without a manifest: %v", err)
	}
}

// Two runs of one config write the same manifest: it holds no time and no absolute path.
func TestManifestIsDeterministic(t *testing.T) {
	exp := manifestExperiment(t)
	var want []byte
	for i := range 2 {
		dir := filepath.Join(t.TempDir(), "run")
		if out, err := prosim(t, "run", exp, "--out", dir, "-q"); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, manifest.File))
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = b
		} else if string(b) != string(want) {
			t.Fatalf("manifests differ:\n%s\n%s", want, b)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := prosim(t, "--version")
	if err != nil || !strings.HasPrefix(out, "prosim version ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("--version: %v %q", err, out)
	}
}

// A run folder written by the previous prosim (schema 1 run database: no model_version; no
// manifest.json) still reports, exports and resumes; resuming writes its manifest.
func TestRunOfPreviousVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if out, err := prosim(t, "run", manifestExperiment(t), "--out", dir, "-q"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	// Make it what the previous prosim left: the decisions table without model_version (nor
	// failed_calls and unusable_calls, which came later).
	db, err := sql.Open("sqlite", filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`ALTER TABLE decisions DROP COLUMN model_version`, `ALTER TABLE decisions DROP COLUMN failed_calls`, `ALTER TABLE decisions DROP COLUMN unusable_calls`, `ALTER TABLE decisions DROP COLUMN no_usage_calls`, `UPDATE meta SET value = '1' WHERE key = 'schema_version'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if err := os.Remove(filepath.Join(dir, manifest.File)); err != nil {
		t.Fatal(err)
	}
	if out, err := prosim(t, "report", dir); err != nil {
		t.Fatalf("report of a previous version's run: %v\n%s", err, out)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(page), "(not reported)") {
		t.Errorf("the report does not say the versions are unknown")
	}
	if out, err := prosim(t, "export", dir, "--format", "csv", "--out", filepath.Join(t.TempDir(), "x")); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if out, err := prosim(t, "resume", dir, "-q"); err != nil {
		t.Fatalf("resume of a previous version's run: %v\n%s", err, out)
	}
	m := readManifest(t, dir)
	if len(m.Resumed) != 1 || m.Status != "complete" || len(m.Files) != 3 {
		t.Errorf("manifest after resume %+v", m)
	}
}

// The run folder of a real earlier build (testdata/v1run) still reports and exports, and
// resuming it upgrades its database, rewrites its results and writes its manifest.
func TestRunOfPreviousBuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v1run")
	if err := os.CopyFS(dir, os.DirFS("testdata/v1run")); err != nil {
		t.Fatal(err)
	}
	if out, err := prosim(t, "report", dir); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if page, _ := os.ReadFile(filepath.Join(dir, "report.html")); !strings.Contains(string(page), "(not reported)") {
		t.Errorf("the report does not say the versions are unknown")
	}
	if msg, err := prosim(t, "export", dir, "--format", "parquet", "--out", t.TempDir()); err != nil {
		t.Fatalf("export: %v\n%s", err, msg)
	}
	if _, err := prosim(t, "verify", dir); err == nil {
		t.Errorf("verify passed on a run without manifest")
	}
	if msg, err := prosim(t, "resume", dir, "-q"); err != nil {
		t.Fatalf("resume: %v\n%s", err, msg)
	}
	if msg, err := prosim(t, "verify", dir); err != nil {
		t.Errorf("verify after resume: %v\n%s", err, msg)
	}
	// The resumed run's results are rewritten with the version column, empty: unknown.
	b, err := os.ReadFile(filepath.Join(dir, "results", "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if !strings.HasPrefix(lines[0], "run_id,backend,model,model_version,") || !strings.HasPrefix(lines[1], "none.r1,builtin,behavioral-v2,,") {
		t.Errorf("decisions.csv of the earlier run:\n%s\n%s", lines[0], lines[1])
	}
}
