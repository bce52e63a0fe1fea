package main

import (
	"os"
	"path/filepath"
	"strings"
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

// What `prosim validate --show-prompts 3` prints: the requests as the engine builds them, for
// one's own people (USD) and scenario file, a game's second step built on a placeholder
// offer, and Study 3 rounds 2 and 3 built on placeholder ratings, each marked as such; a
// bidirectional control in the scenario file is shown escaped
// (testdata/golden/validate-prompts/*.txt; -update rewrites them).
func TestGoldenValidatePrompts(t *testing.T) {
	dir := filepath.Join(goldenDir, "validate-prompts")
	for _, name := range []string{"games", "network"} {
		t.Run(name, func(t *testing.T) {
			out, err := prosim(t, "validate", filepath.Join(dir, name+".yaml"), "--show-prompts", "3")
			if err != nil {
				t.Fatal(err)
			}
			goldenText(t, filepath.Join(dir, name+".txt"), out)
		})
	}
	if _, err := prosim(t, "validate", filepath.Join(dir, "games.yaml"), "--show-prompts", "-1"); err == nil {
		t.Error("--show-prompts -1 was accepted")
	}
}

// A network.store: summary run on the behavioural model builds no prompt text: the shown
// request says so rather than printing an empty system and prompt.
func TestValidateShowPromptsWithoutText(t *testing.T) {
	out, err := prosim(t, "validate", filepath.Join(goldenDir, "study3-summary.yaml"), "--show-prompts", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "=== request 1 of 1: ") || !strings.Contains(out, "(no text: this run builds none for this decision") || strings.Contains(out, "--- system ---") {
		t.Errorf("validate --show-prompts printed\n%s", out)
	}
}
