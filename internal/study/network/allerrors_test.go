package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// lines checks that err's message is want, line for line (each a prefix).
func lines(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want\n%s", strings.Join(want, "\n"))
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s...", i+1, got[i], want[i])
		}
	}
}

// Every independent problem of the network block (and of the inequity conditions it owns) is
// reported at once, with the experiment's own.
func TestNetworkEveryProblem(t *testing.T) {
	src := `name: s3
study: network
seed: 3
replicates: 0
population: {source: prosim104}
network:
  graph: {type: watts_strogatz, k: 5, p: 2}
  activation: {fraction: 1.5}
  observation: rumours
  contagion: {rule: sis}
conditions:
  - {name: r, policy: economic, inequity: {preset: reward, target: degree, k: -1, to: 99, by: unfairness}}
`
	_, err := experiment.Parse([]byte(src), "s3.yaml")
	lines(t, err,
		`s3.yaml: 10 problems:`,
		`  s3.yaml:4:13: field replicates: 0 is out of range 1..10000`,
		`  s3.yaml:7:8: field network.scenario: required`,
		`  s3.yaml:7:36: field network.graph.k: must be an even number >= 2 (got 5)`,
		`  s3.yaml:7:42: field network.graph.p: 2 is out of range 0..1`,
		`  s3.yaml:8:26: field network.activation.fraction: 1.5 is out of range 0..1`,
		`  s3.yaml:9:16: field network.observation: unknown observation "rumours"`,
		`  s3.yaml:10:14: field network.contagion.recovery: required for rule sis`,
		`  s3.yaml:12:79: field conditions[0].inequity.k: required for target degree`,
		`  s3.yaml:12:87: field conditions[0].inequity.to: round 99 is out of range 2..7`,
		`  s3.yaml:12:95: field conditions[0].inequity.by: only for target top`,
	)
}

// An edge list's bad lines are reported with the experiment's problems; alone, the run reads
// the file (once) and reports them.
func TestEdgeListProblemsWithTheExperiments(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "edges.csv"), []byte("source,target\n1,2\n3,3\n4\n"), 0o644)
	src := "name: s3\nstudy: network\nseed: 3\nreplicates: -1\npopulation: {source: sample, n: 4}\n" +
		"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n"
	exp := filepath.Join(dir, "s3.yaml")
	_, err := experiment.Parse([]byte(src), exp)
	edges := filepath.Join(dir, "edges.csv")
	lines(t, err,
		exp+`:4:13: field replicates: -1 is out of range 1..10000`,
		edges+`: 2 problems:`,
		`  `+edges+`:3: self-loop on id "3"`,
		`  `+edges+`:4: missing column "target"`,
	)
	if _, err := experiment.Parse([]byte(strings.Replace(src, "replicates: -1", "replicates: 1", 1)), exp); err != nil {
		t.Errorf("the edge list is read by the run, not by Load, when it is the only bad file: %v", err)
	}
}

// A bad population file does not hide a bad edge list (the run reads the population first).
func TestPopulationFileDoesNotHideTheEdgeList(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "edges.csv"), []byte("source,target\n1,2\n3,3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "people.csv"), []byte("id,gender\n1,robot\n"), 0o644)
	src := "name: s3\nstudy: network\nseed: 3\npopulation: {source: file, file: people.csv}\n" +
		"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n"
	_, err := experiment.Parse([]byte(src), filepath.Join(dir, "s3.yaml"))
	people, edges := filepath.Join(dir, "people.csv"), filepath.Join(dir, "edges.csv")
	if err == nil || !strings.HasPrefix(err.Error(), people+": ") || !strings.Contains(err.Error(), "\n"+edges+`:3: self-loop on id "3"`) {
		t.Fatalf("got %v", err)
	}
}
