package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/manifest"
)

// Resuming a run whose inputs changed since its manifest was written warns, naming the file;
// the manifest then records the resume and the inputs as they are.
func TestResumeWarnsOfChangedInputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), load(t, study1, 2), Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	before, err := manifest.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, configFile)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(b, "# edited after the run\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	var notes strings.Builder
	if _, err := Resume(context.Background(), dir, Options{Notices: &notes}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes.String(), "warning: resuming with an input that differs from the run's manifest: changed: config.yaml (config; sha256 was "+before.Files[0].SHA256) {
		t.Errorf("notices:\n%s", notes.String())
	}
	after, err := manifest.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Resumed) != 1 || after.Status != "complete" || after.Files[0].SHA256 == before.Files[0].SHA256 {
		t.Errorf("manifest after resume: %+v", after)
	}
	// Resumed again with nothing changed: no warning, a second resume recorded.
	notes.Reset()
	if _, err := Resume(context.Background(), dir, Options{Notices: &notes}); err != nil {
		t.Fatal(err)
	}
	if again, _ := manifest.Read(dir); strings.Contains(notes.String(), "warning") || len(again.Resumed) != 2 {
		t.Errorf("second resume: %q, %+v", notes.String(), again)
	}
}
