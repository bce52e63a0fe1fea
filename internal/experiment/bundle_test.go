package experiment

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Bundle copies every input into RUN_DIR/inputs (base names kept, a clash numbered), records
// them relative to the run directory, makes the cache absolute and leaves e alone; the config
// it returns loads from the run directory wherever that is.
func TestBundle(t *testing.T) {
	src := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("scen.yaml", "a")
	write("more/scen.yaml", "b")
	write("pol.yaml", "c")
	write("people.csv", "d")
	exp := `name: b
study: vignettes
seed: 1
population: {source: file, file: people.csv}
scenarios: [helping]
scenario_files: [scen.yaml, more/scen.yaml, ./scen.yaml]
policy_files: [pol.yaml]
cache: cache.db
`
	write("exp.yaml", exp)
	e, err := loadOwn(filepath.Join(src, "exp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(e.ScenarioFiles)
	popBefore, cacheBefore := e.Population.File, e.Cache

	run := filepath.Join(t.TempDir(), "run")
	cfg, err := e.Bundle(run)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.ScenarioFiles, before) || e.Population.File != popBefore || e.Cache != cacheBefore {
		t.Errorf("Bundle changed the experiment: %v %s %s", e.ScenarioFiles, e.Population.File, e.Cache)
	}
	for name, want := range map[string]string{"scen.yaml": "a", "2-scen.yaml": "b", "pol.yaml": "c", "people.csv": "d"} {
		got, err := os.ReadFile(filepath.Join(run, InputsDir, name))
		if err != nil || string(got) != want {
			t.Errorf("inputs/%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(run, InputsDir)); len(ents) != 4 {
		t.Errorf("inputs: %v (scen.yaml listed twice is copied once)", ents)
	}

	// Move the run directory; its config still loads, pointing at the copies.
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(run, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(moved, "config.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	e2, err := loadOwn(filepath.Join(moved, "config.yaml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, cfg)
	}
	in := func(n string) string { return filepath.Join(moved, InputsDir, n) }
	if want := []string{in("scen.yaml"), in("2-scen.yaml"), in("scen.yaml")}; !slices.Equal(e2.ScenarioFiles, want) {
		t.Errorf("scenario_files %v, want %v", e2.ScenarioFiles, want)
	}
	if !slices.Equal(e2.PolicyFiles, []string{in("pol.yaml")}) || e2.Population.File != in("people.csv") {
		t.Errorf("policy_files %v, population.file %s", e2.PolicyFiles, e2.Population.File)
	}
	if want := filepath.Join(src, "cache.db"); e2.Cache != want {
		t.Errorf("cache %s, want %s", e2.Cache, want)
	}
}

// An experiment reading no files makes no inputs folder.
func TestBundleNoInputs(t *testing.T) {
	e, err := Parse([]byte(good), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	if _, err := e.Bundle(run); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(run, InputsDir)); !os.IsNotExist(err) {
		t.Errorf("inputs folder made: %v", err)
	}
}

// loadOwn loads an experiment without reading the files it names (placeholders here).
func loadOwn(path string) (*Experiment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	e, _, err := parse(data, path)
	return e, err
}
