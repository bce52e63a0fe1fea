package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// QA's f3: validate tells a file's values of the wrong type and unknown keys with the checks
// of the rest, in one run: five problems, sorted by line (it took two runs, two then three).
func TestValidateDecodingAndCheckingProblemsAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.yaml")
	src := `name: f3
study: vignettes
replicates: "two"
population: {source: sampled, n: 20, seed: 1}
backend: {type: builtin}
conditions:
  - {name: c1, policy: nosuchpolicy}
  - {name: c1, policy: none}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := prosim(t, "validate", path)
	if err == nil {
		t.Fatal("validate accepted the file")
	}
	want := []string{
		path + ": 5 problems:",
		"  " + path + `:3:13: field replicates: expected a whole number, got a string "two"`,
		"  " + path + `:4:22: field population.source: unknown source "sampled" (want sample, prosim104 or file)`,
		"  " + path + `:5:11: field backend.type: unknown field (did you mean provider?)`,
		"  " + path + `:7:24: field conditions[0].policy: unknown policy "nosuchpolicy"`,
		"  " + path + `:8:12: field conditions[1].name: condition name "c1" is used twice`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("line %d:\n got %s\nwant %s...", i+1, got[i], w)
		}
	}
}
