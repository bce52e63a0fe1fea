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
		`  s3.yaml:6:1: field network.scenario: required`,
		`  s3.yaml:7:36: field network.graph.k: must be an even number >= 2 (got 5)`,
		`  s3.yaml:7:42: field network.graph.p: 2 is out of range 0..1`,
		`  s3.yaml:8:26: field network.activation.fraction: 1.5 is out of range 0..1`,
		`  s3.yaml:9:16: field network.observation: unknown observation "rumours"`,
		`  s3.yaml:10:3: field network.contagion.recovery: required for rule sis`,
		`  s3.yaml:12:79: field conditions[0].inequity.k: required for target degree`,
		`  s3.yaml:12:87: field conditions[0].inequity.to: round 99 is out of range 2..7`,
		`  s3.yaml:12:95: field conditions[0].inequity.by: only for target top`,
	)
}

// An edge list's bad lines are reported with the experiment's problems; alone, the run reads
// the file (once) and reports them.
func TestEdgeListProblemsWithTheExperiments(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "edges.csv"), []byte("source,target\n1,2\n3,3\n4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: s3\nstudy: network\nseed: 3\nreplicates: -1\npopulation: {source: sample, n: 4}\n" +
		"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n"
	exp := filepath.Join(dir, "s3.yaml")
	_, err := experiment.Parse([]byte(src), exp)
	edges := filepath.Join(dir, "edges.csv")
	lines(t, err,
		exp+`:4:13: field replicates: -1 is out of range 1..10000`,
		edges+`: 2 problems:`,
		`  `+edges+`:3:3: field target: self-loop on id "3"`,
		`  `+edges+`:4:2: field target: missing (column 2)`,
	)
	if _, err := experiment.Parse([]byte(strings.Replace(src, "replicates: -1", "replicates: 1", 1)), exp); err != nil {
		t.Errorf("the edge list is read by the run, not by Load, when it is the only bad file: %v", err)
	}
}

// A bad population file does not hide a bad edge list (the run reads the population first).
func TestPopulationFileDoesNotHideTheEdgeList(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "edges.csv"), []byte("source,target\n1,2\n3,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("id,gender\n1,robot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: s3\nstudy: network\nseed: 3\npopulation: {source: file, file: people.csv}\n" +
		"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n"
	_, err := experiment.Parse([]byte(src), filepath.Join(dir, "s3.yaml"))
	people, edges := filepath.Join(dir, "people.csv"), filepath.Join(dir, "edges.csv")
	if err == nil || !strings.HasPrefix(err.Error(), people+": ") || !strings.Contains(err.Error(), "\n"+edges+`:3:3: field target: self-loop on id "3"`) {
		t.Fatalf("got %v", err)
	}
}

// An edge list's ids naming no agent come with its other problems, in line order: a self-loop
// does not hide them, whether Load reads the file (a population file) or the run does.
func TestEdgeListIDsWithOtherProblems(t *testing.T) {
	dir := t.TempDir()
	edges := filepath.Join(dir, "edges.csv")
	if err := os.WriteFile(edges, []byte("source,target\n1,2\n3,3\n4,99\nfoo,1\n1,3,2.5,extra\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("id,source_id,gender,age,age_bracket,marital,income_quintile,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"+
		"1,,male,50,50-54,married,4,50220,yuan,junior_high,migrant worker,3.23,2.99,2.75,2.78,3.89,2.22,2.51,3.84,2.75\n"+
		"2,,female,67,65-69,married,1,9215,yuan,primary,retired,3.44,2.81,3.67,2.82,4.36,2.89,2.8,3.51,3.14\n"+
		"3,,female,60,60-64,married,2,20442,yuan,primary,trader,3.5,3.25,3.1,3.11,4.18,3.03,3.61,4.31,2.93\n"+
		"4,,female,27,25-29,married,3,32195,yuan,senior_high,factory worker,3.11,2.56,2.63,4.29,3.72,2.8,2.7,3.91,2.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{
		edges + `: 4 problems:`,
		`  ` + edges + `:3:3: field target: self-loop on id "3"`,
		`  ` + edges + `:4:3: field target: id "99" names no agent`,
		`  ` + edges + `:5:1: field source: id "foo" names no agent`,
		`  ` + edges + `:6:5: column 3: extra field "2.5": the header names 2 columns`,
		`  the edge list's ids must be the population's agent ids (agent_id 1..4)`,
	}
	src := "name: s3\nstudy: network\nseed: 3\npopulation: {source: file, file: people.csv}\n" +
		"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n"
	_, err := experiment.Parse([]byte(src), filepath.Join(dir, "s3.yaml"))
	lines(t, err, want...)
	// A sampled population: the run reads the file, with the agents.
	_, err = readEdgeList(edges, nil, agentsWith([]int{1, 2, 3, 4}, nil))
	lines(t, err, want...)
}

// With a population file, an inequity's k and target list's ids are checked against its agents
// in the same pass as the experiment's other problems (QA8 repro-2: they came only once those
// were fixed); a population file with problems of its own skips only them.
func TestInequityAgainstPopulationFileWithOtherProblems(t *testing.T) {
	dir := t.TempDir()
	people := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(people, []byte(peopleHeader+
		"1,p1,male,50,50-54,married,4,50220,yuan,junior_high,migrant worker,3.23,2.99,2.75,2.78,3.89,2.22,2.51,3.84,2.75\n"+
		"2,p2,female,67,65-69,married,1,9215,yuan,primary,retired,3.44,2.81,3.67,2.82,4.36,2.89,2.8,3.51,3.14\n"+
		"3,p3,female,60,60-64,married,2,20442,yuan,primary,trader,3.5,3.25,3.1,3.11,4.18,3.03,3.61,4.31,2.93\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `name: s3
study: network
seed: 3
population: {source: file, file: people.csv}
network:
  graph: {type: watts_strogatz, k: 2, p: 0.1, m: 3}
  rounds: 3
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
  - {name: r, policy: economic, inequity: {preset: reward, k: 3, from: 1}}
  - {name: l, policy: economic, inequity: {target: list, agents: [p1, p9, 1], from: 2}}
`
	exp := filepath.Join(dir, "s3.yaml")
	_, err := experiment.Parse([]byte(src), exp)
	lines(t, err,
		exp+`: 6 problems:`,
		`  `+exp+`:6:50: field network.graph.m: not used by type watts_strogatz`,
		`  `+exp+`:11:63: field conditions[1].inequity.k: k=3 must be less than the population's 3 agents`,
		`  `+exp+`:11:72: field conditions[1].inequity.from: round 1 is out of range 2..2`,
		`  `+exp+`:12:33: field conditions[2].inequity.text: required`,
		`  `+exp+`:12:71: field conditions[2].inequity.agents[1]: id "p9" names no agent (the population's ids: agent_id 1..3, or the source_id, e.g. "p1")`,
		`  `+exp+`:12:75: field conditions[2].inequity.agents[2]: agent 1 is listed twice: agents[0], p1, names the same agent`,
	)
	// A bad population file: its problems, and the experiment's others.
	if err := os.WriteFile(people, []byte(peopleHeader+"1,p1,robot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = experiment.Parse([]byte(src), exp)
	if err == nil || strings.Contains(err.Error(), "inequity.k") || strings.Contains(err.Error(), "agents[") ||
		!strings.Contains(err.Error(), "inequity.text") || !strings.Contains(err.Error(), "\n"+people+":") {
		t.Errorf("got %v", err)
	}
}

const peopleHeader = "id,source_id,gender,age,age_bracket,marital,income_quintile,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"

// An inequity's values of the wrong type and unknown fields come at once, each at its own
// field (a flow mapping's were one problem at a time, named conditions[1].inequity: the key
// on the line).
func TestInequityDecodingProblemsAtOnce(t *testing.T) {
	src := `name: s3
study: network
seed: 3
population: {source: sample, n: 20}
network:
  graph: {type: erdos_renyi, m: 10}
  scenario: donating
conditions:
  - {name: control, policy: enforce}
  - {name: w, policy: enforce, inequity: {target: list, agents: [1, 2], k: z, tex: 1, to: [1]}}
`
	_, err := experiment.Parse([]byte(src), "s3.yaml")
	lines(t, err,
		`s3.yaml: 3 problems:`,
		`  s3.yaml:10:76: field conditions[1].inequity.k: expected a whole number, got a string "z"`,
		`  s3.yaml:10:79: field conditions[1].inequity.tex: unknown field`,
		`  s3.yaml:10:91: field conditions[1].inequity.to: expected a whole number, got a list`,
	)
	// Under a key on its own line, the one problem was named by that key: conditions[1].inequity.
	src = strings.Replace(src, "  - {name: w, policy: enforce, inequity: {target: list, agents: [1, 2], k: z, tex: 1, to: [1]}}\n",
		"  - name: w\n    policy: enforce\n    inequity: {target: list, agents: [1, 2], k: z}\n", 1)
	_, err = experiment.Parse([]byte(src), "s3.yaml")
	lines(t, err, `s3.yaml:12:49: field conditions[1].inequity.k: expected a whole number, got a string "z"`)
}

// A network block with values of the wrong type is checked without them (errs3 #2): its other
// problems come in the same pass, and no check reads a field left out (rounds: [7] is not
// also "out of range", nor history against the default 7; rule: [sis] does not make recovery
// "only for rule sis"; p: [0.1] does not make erdos_renyi lack both p and m).
func TestNetworkBlockCheckedBesideItsTypeErrors(t *testing.T) {
	src := `name: s3
study: network
population: {source: prosim104}
network:
  graph: {type: erdos_renyi, p: [0.1]}
  rounds: [7]
  history: 9
  observation: rumours
  contagion: {rule: [sis], recovery: 0.5}
  store: everything
`
	_, err := experiment.Parse([]byte(src), "s3.yaml")
	lines(t, err,
		`s3.yaml: 6 problems:`,
		`  s3.yaml:4:1: field network.scenario: required`,
		`  s3.yaml:5:33: field network.graph.p: expected a number, got a list`,
		`  s3.yaml:6:11: field network.rounds: expected a whole number, got a list`,
		`  s3.yaml:8:16: field network.observation: unknown observation "rumours"`,
		`  s3.yaml:9:21: field network.contagion.rule: expected a string, got a list`,
		`  s3.yaml:10:10: field network.store: unknown store "everything"`,
	)
}

// An edge list's problems come in the same pass as the other problems of a file whose network
// block reads fine but for values of the wrong type, in it or elsewhere (a condition's
// inequity, whose checks are the block's): the inputs were read only after a Check without
// any problem, and the user learnt of the edge list once the type errors were fixed.
func TestEdgeListBesideTypeErrors(t *testing.T) {
	dir := t.TempDir()
	edges := filepath.Join(dir, "edges.csv")
	if err := os.WriteFile(edges, []byte("source,target\n1,2\n3,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "s3.yaml")
	head := "name: s3\nstudy: network\nseed: 3\npopulation: {source: sample, n: 4}\n" +
		"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\n"
	edgeLines := []string{edges + `:3:3: field target: self-loop on id "3"`}
	for _, c := range []struct {
		name, tail string
		want       []string
	}{
		{"inequity", "conditions:\n  - {name: c, policy: economic}\n  - {name: r, policy: economic, inequity: {preset: reward, k: [1]}}\n",
			[]string{exp + `:10:63: field conditions[1].inequity.k: expected a whole number`}},
		{"block", "  rounds: [3]\n",
			[]string{exp + `:8:11: field network.rounds: expected a whole number`}},
		{"outside", "scenarios: [volunteering]\nconcurrency: lots\n",
			[]string{exp + `: 2 problems:`, `  ` + exp + `:8:12: field scenarios: not used by study: network`, `  ` + exp + `:9:14: field concurrency: expected a whole number`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := experiment.Parse([]byte(head+c.tail), exp)
			lines(t, err, append(c.want, edgeLines...)...)
		})
	}
	// A problem of the block itself still keeps its files unread: the run reads them.
	_, err := experiment.Parse([]byte(head+"  observation: sideways\n"), exp)
	lines(t, err, exp+`:8:16: field network.observation: unknown observation "sideways"`)
}

// The network block is checked, and its edge list read, beside values of the wrong type in
// the population or the conditions, which it reads: it waited for them, with its own problems
// (observation: sideways) and the edge list's. A check of the block that reads such a value
// (the graph's n against population.n) waits for it.
func TestNetworkBesideTypeErrorsInWhatItReads(t *testing.T) {
	dir := t.TempDir()
	edges := filepath.Join(dir, "edges.csv")
	if err := os.WriteFile(edges, []byte("source,target\n1,2\n3,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "s3.yaml")
	for _, c := range []struct {
		name, pop, conds string
		want             string
	}{
		{"conditions", "{source: sample, n: 4}", "[{name: [c], policy: economic}, {name: r, policy: economic, inequity: {preset: reward, k: 9}}]",
			exp + `:8:21: field conditions[0].name: expected a string, got a list of 1 item`},
		{"population", "{source: sample, n: four}", "[{name: c, policy: economic}]",
			exp + `:4:33: field population.n: expected a whole number, got a string "four"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "name: s3\nstudy: network\nseed: 3\npopulation: " + c.pop + "\n" +
				"network:\n  graph: {type: edgelist, file: edges.csv}\n  observation: sideways\nconditions: " + c.conds + "\nscenarios: []\n"
			_, err := experiment.Parse([]byte(src), exp)
			obs := `  ` + exp + `:7:16: field network.observation: unknown observation "sideways"`
			var want []string
			switch c.name {
			case "conditions": // the inequity is checked against the population too
				want = []string{exp + `: 4 problems:`, `  ` + exp + `:5:1: field network.scenario: required`, obs, `  ` + c.want,
					`  ` + exp + `:8:103: field conditions[1].inequity.k: k=9 must be less than the population's 4 agents`}
			default:
				want = []string{exp + `: 3 problems:`, `  ` + c.want, `  ` + exp + `:5:1: field network.scenario: required`, obs}
			}
			lines(t, err, want...)
		})
	}
	// With the block sound, its edge list is read beside them.
	src := "name: s3\nstudy: network\nseed: 3\npopulation: {source: sample, n: 4}\n" +
		"network:\n  graph: {type: edgelist, file: edges.csv}\n  scenario: volunteering\nconditions: [{name: [c], policy: economic}]\n"
	_, err := experiment.Parse([]byte(src), exp)
	lines(t, err, exp+`:8:21: field conditions[0].name: expected a string, got a list of 1 item`,
		edges+`:3:3: field target: self-loop on id "3"`)
	src = strings.Replace(strings.Replace(src, "n: 4", "n: [4]", 1), "name: [c]", "name: c", 1)
	src = strings.Replace(src, "{type: edgelist, file: edges.csv}", "{type: watts_strogatz, k: 2, p: 0.1, n: 10}", 1)
	_, err = experiment.Parse([]byte(src), exp)
	lines(t, err, exp+`:4:33: field population.n: expected a whole number, got a list of 1 item`)
}
