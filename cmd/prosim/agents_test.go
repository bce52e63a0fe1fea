package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
)

const agentsStudy = `name: agents-test
study: vignettes
seed: 3
replicates: 2
population: {source: sample, n: 15%s}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
backend: {provider: builtin}
`

func agentsRun(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if _, err := engine.Run(t.Context(), exp, engine.Options{Out: run, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	return run
}

// checkJoin checks that agents.csv has unique agent ids, n rows, and every decision's agent.
func checkJoin(t *testing.T, run string, n int) [][]string {
	t.Helper()
	agents := readCSVFile(t, filepath.Join(run, "results", "agents.csv"))
	if agents[0][0] != "agent_id" || len(agents)-1 != n {
		t.Fatalf("agents.csv: header %v, %d rows, want agent_id first and %d rows", agents[0], len(agents)-1, n)
	}
	ids := map[string]bool{}
	for _, r := range agents[1:] {
		if ids[r[0]] {
			t.Errorf("agents.csv: agent_id %s twice", r[0])
		}
		ids[r[0]] = true
	}
	dec := readCSVFile(t, filepath.Join(run, "results", "decisions.csv"))
	col := slices.Index(dec[0], "agent_id")
	seen := map[string]bool{}
	for _, r := range dec[1:] {
		if !ids[r[col]] {
			t.Fatalf("decisions.csv: agent_id %s is not in agents.csv", r[col])
		}
		seen[r[col]] = true
	}
	if len(dec) < 2 || len(seen) != n {
		t.Errorf("decisions.csv: %d rows naming %d agents, want all %d", len(dec)-1, len(seen), n)
	}
	return agents
}

// personasCSV runs prosim personas ARGS --csv and returns the file's records.
func personasCSV(t *testing.T, args ...string) [][]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p.csv")
	mustProsim(t, append(append([]string{"personas"}, args...), "--csv", out)...)
	return readCSVFile(t, out)
}

// sameAgents compares agents.csv with a persona CSV: the same cells, id named agent_id.
func sameAgents(t *testing.T, what string, agents, ps [][]string) {
	t.Helper()
	if len(ps) == 0 || ps[0][0] != "id" {
		t.Fatalf("%s: header %v", what, ps[0])
	}
	want := slices.Clone(agents)
	want[0] = append([]string{"id"}, agents[0][1:]...)
	if !slices.EqualFunc(want, ps, slices.Equal) {
		t.Errorf("%s differs from agents.csv:\n%v\n%v", what, ps[:2], want[:2])
	}
}

var popSeedRE = regexp.MustCompile(`(?m)^population:\n(?:  .*\n)*?  seed: (\d+)\n`)

func TestAgentsTableJoinsDecisionsAndPersonasReproduceIt(t *testing.T) {
	run := agentsRun(t, fmt.Sprintf(agentsStudy, ""))
	agents := checkJoin(t, run, 15)
	if got := len(agents[0]); got != len(persona.Columns()) {
		t.Errorf("agents.csv has %d columns, personas --csv %d", got, len(persona.Columns()))
	}
	sameAgents(t, "personas --run", agents, personasCSV(t, "--run", run))

	// The resolved config records the seed the population was sampled with.
	cfg, err := os.ReadFile(filepath.Join(run, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := popSeedRE.FindSubmatch(cfg)
	if m == nil {
		t.Fatalf("config.yaml records no population.seed:\n%s", cfg)
	}
	sameAgents(t, "personas --n 15 --seed "+string(m[1]), agents, personasCSV(t, "--n", "15", "--seed", string(m[1])))

	// A seed given in the file is the one used.
	run2 := agentsRun(t, fmt.Sprintf(agentsStudy, ", seed: 42"))
	agents2 := checkJoin(t, run2, 15)
	sameAgents(t, "personas --n 15 --seed 42", agents2, personasCSV(t, "--n", "15", "--seed", "42"))
	if cfg2, _ := os.ReadFile(filepath.Join(run2, "config.yaml")); string(popSeedRE.FindSubmatch(cfg2)[1]) != "42" {
		t.Errorf("config.yaml does not keep population.seed 42:\n%s", cfg2)
	}
	if slices.EqualFunc(agents, agents2, slices.Equal) {
		t.Error("population.seed 42 sampled the same agents as the derived seed")
	}

	if _, err := prosim(t, "personas", "--run", run, "--n", "3"); err == nil {
		t.Error("--run with --n accepted")
	}
}

func TestAgentsTableOfFilePopulation(t *testing.T) {
	ps, err := persona.Sample(6, 9, persona.SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		ps[i].ID = 100 + 7*i // ids need not be 1..n
	}
	dir := t.TempDir()
	pop := filepath.Join(dir, "people.csv")
	f, err := os.Create(pop)
	if err != nil {
		t.Fatal(err)
	}
	if err := persona.WriteCSV(f, ps); err != nil {
		t.Fatal(err)
	}
	f.Close()
	yaml := regexp.MustCompile(`population: .*`).ReplaceAllString(agentsStudy, "population: {source: file, file: "+strconv.Quote(pop)+"}")
	run := agentsRun(t, yaml)
	if err := os.Remove(pop); err != nil { // the run reads its copy under inputs/
		t.Fatal(err)
	}
	agents := checkJoin(t, run, 6)
	if agents[1][0] != "100" || agents[6][0] != "135" {
		t.Errorf("agent ids %s..%s, want the file's 100..135", agents[1][0], agents[6][0])
	}
	sameAgents(t, "personas --run", agents, personasCSV(t, "--run", run))
}

// Study 3 adds each agent's degree: twice the edges of network_edges.csv in all.
func TestAgentsTableNetworkDegree(t *testing.T) {
	run := exportRun(t)
	agents := checkJoin(t, run, 24)
	col := slices.Index(agents[0], "degree")
	if col != len(agents[0])-1 {
		t.Fatalf("agents.csv header %v: want degree last", agents[0])
	}
	sum := 0
	for _, r := range agents[1:] {
		d, err := strconv.Atoi(r[col])
		if err != nil {
			t.Fatal(err)
		}
		sum += d
	}
	edges := readCSVFile(t, filepath.Join(run, "results", "network_edges.csv"))
	if sum != 2*(len(edges)-1) || sum == 0 {
		t.Errorf("degrees sum to %d, network_edges.csv has %d edges", sum, len(edges)-1)
	}
	ps := personasCSV(t, "--run", run)
	cut := make([][]string, len(agents))
	for i, r := range agents {
		cut[i] = r[:col]
	}
	sameAgents(t, "personas --run", cut, ps)
}

// A run's agents.csv is a population file: agent_id for id, Study 3's degree skipped. It
// reproduces the run's agents, through prosim personas and as an experiment's population.
func TestAgentsCSVIsAPopulation(t *testing.T) {
	run := exportRun(t) // Study 3: agents.csv ends with degree
	agents := filepath.Join(run, "results", "agents.csv")
	want := personasCSV(t, "--run", run)
	got := personasCSV(t, agents)
	if !slices.EqualFunc(want, got, slices.Equal) {
		t.Errorf("personas results/agents.csv differs from personas --run:\n%v\n%v", got[:2], want[:2])
	}
	yaml := regexp.MustCompile(`population: .*`).ReplaceAllString(agentsStudy, "population: {source: file, file: "+strconv.Quote(agents)+"}")
	again := agentsRun(t, yaml)
	sameAgents(t, "a run of results/agents.csv", readCSVFile(t, filepath.Join(again, "results", "agents.csv")), want)
}

// --show K prints K personas and counts the rest; --show 0 only their count (it said
// "... and 3 more" of none shown); a negative K is refused.
func TestPersonasShow(t *testing.T) {
	for _, c := range []struct {
		show       string
		want       string
		personas   int
		wantsError bool
	}{
		{"2", "... and 1 more\n", 2, false},
		{"3", "", 3, false},
		{"0", "3 personas\n", 0, false},
		{"-1", "", 0, true},
	} {
		out, err := prosim(t, "personas", "--n", "3", "--show", c.show)
		if (err != nil) != c.wantsError {
			t.Errorf("--show %s: err %v", c.show, err)
			continue
		}
		if c.wantsError {
			continue
		}
		if n := strings.Count(out, "--- agent "); n != c.personas || !strings.HasSuffix(out, c.want) || strings.Contains(out, "more") != strings.Contains(c.want, "more") {
			t.Errorf("--show %s: %d personas, output ends %q, want %d and %q", c.show, n, out[max(0, len(out)-40):], c.personas, c.want)
		}
	}
}
