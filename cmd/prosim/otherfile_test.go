package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A problem of a file the experiment names (an edge list, a persona file) that the run finds
// is that file's, located once: not the message of the field naming it
// ("exp.yaml:6:10: field network.graph: edges.csv:3:3: ...", "population: people.csv: ...").
func TestOtherFileProblemsLocatedOnce(t *testing.T) {
	dir := t.TempDir()
	edges, people := filepath.Join(dir, "edges.csv"), filepath.Join(dir, "people.csv")
	os.WriteFile(edges, []byte("source,target\n1,2\n3,3\n1,99\n"), 0o644)
	os.WriteFile(people, []byte("id,gender\n1,robot\n"), 0o644)
	for _, c := range []struct{ exp, want string }{
		{"name: s3\nstudy: network\nseed: 3\npopulation: {source: sample, n: 4}\n" +
			"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n",
			edges + ": 2 problems:\n  " + edges + `:3:3: field target: self-loop on id "3"`},
		{"name: s1\nstudy: vignettes\nseed: 3\npopulation: {source: file, file: people.csv}\nscenarios: [volunteering]\n",
			people + ": 16 problems:\n  " + people + ":1:1: field age: required column missing"},
	} {
		f := filepath.Join(dir, "exp.yaml")
		os.WriteFile(f, []byte(c.exp), 0o644)
		_, err := prosim(t, "validate", f)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("validate: %v\nwant it to begin %s", err, c.want)
		}
	}
}
