package main

import (
	"os"
	"path/filepath"
	"testing"
)

// What `prosim validate` prints for a file with mistakes in it and in each file it names:
// every problem at once (the engine's checks' with the file's own), the experiment's list
// first, then each file's, one per line with its line, column and field (testdata/golden/validate-errors/stderr.txt; -update rewrites it).
func TestGoldenValidateErrors(t *testing.T) {
	dir := filepath.Join(goldenDir, "validate-errors")
	t.Setenv("OPENAI_API_KEY", "") // the missing key is one of the problems, whatever the machine's
	_, err := prosim(t, "validate", filepath.Join(dir, "exp.yaml"))
	if err == nil {
		t.Fatal("validate accepted the file")
	}
	got := "prosim: " + err.Error() + "\n" // as main prints it
	want := filepath.Join(dir, "stderr.txt")
	if *update {
		if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(b) {
		t.Errorf("validate printed\n%s\nwant (%s)\n%s", got, want, b)
	}
}
