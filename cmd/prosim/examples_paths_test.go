package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A file of the repository named in an example's comments exists: games.yaml pointed to
// shared/reference/human_games.md, which users do not have (QA14 F10). results/... are the
// run's own files.
func TestExamplePathsExist(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples (%v)", err)
	}
	pathRE := regexp.MustCompile(`[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+\.(md|go|csv|yaml|json)`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pathRE.FindAllString(string(src), -1) {
			if strings.HasPrefix(p, "results/") {
				continue
			}
			if _, err := os.Stat(filepath.Join("../..", p)); err != nil {
				t.Errorf("%s names %s, which is not in the repository", filepath.Base(f), p)
			}
		}
	}
}
