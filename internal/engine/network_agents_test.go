package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// inequity.agents names agents as the edge list does: by agent_id or by the population file's
// text id (QA7 repro-9: P00003 was refused). Ids naming no agent, and a group size k of the
// whole population, are reported together, each at its own entry, once the file is read.
func TestNetworkInequityAgentsTextIDs(t *testing.T) {
	dir := t.TempDir()
	people := "extraversion,openness,neuroticism,conscientiousness,agreeableness,altruistic_tendency,social_responsibility,moral_identity,empathic_concern,occupation,education,currency,annual_income,marital,age,gender,id\n"
	for _, id := range []string{"P00005", "P00003", "P00001", "P00002", "P00004", "P00006"} {
		people += "2.89,2.97,2.56,3.45,3.31,3.8,2.78,2.99,3.22,trader,junior_high,USD,4534.51,single,28,male," + id + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(people), 0o644); err != nil {
		t.Fatal(err)
	}
	const src = `name: textids
study: network
seed: 9
population: {source: file, file: people.csv}
network:
  graph: {type: watts_strogatz, k: 2, p: 0}
  rounds: 3
  scenario: donating
conditions:
  - {name: control, policy: enforce}
  - name: withheld
    policy: enforce
    inequity: {target: list, agents: AGENTS, from: 2, text: "Your voucher was withheld."}
  - {name: poor, policy: enforce, inequity: {target: lowest_income, k: 6, text: "x"}}
`
	load := func(agents string) *experiment.Experiment {
		t.Helper()
		p := filepath.Join(dir, "x.yaml")
		if err := os.WriteFile(p, []byte(strings.Replace(src, "AGENTS", agents, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, err := experiment.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return exp
	}
	_, err := Prepare(load("[P00003, 7, P00099, 2, P00002]"), Options{Offline: true})
	x := filepath.Join(dir, "x.yaml")
	want := []string{
		x + ": 4 problems:",
		"  " + x + `:13:47: field conditions[1].inequity.agents[1]: id "7" names no agent (the population's ids: agent_id 1..6, or the source_id, e.g. "P00005")`,
		"  " + x + `:13:50: field conditions[1].inequity.agents[2]: id "P00099" names no agent`,
		"  " + x + `:13:58: field conditions[1].inequity.agents[3]: agent 2 is listed twice: agents[0], P00003, names the same agent`,
		"  " + x + `:14:72: field conditions[2].inequity.k: k=6 must be less than the population's 6 agents`,
	}
	got := strings.Split(errString(err), "\n")
	if len(got) != len(want) {
		t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s...", i+1, got[i], want[i])
		}
	}

	// P00003 is the file's second agent (agent_id 2, hence listed twice above), P00006 its sixth.
	exp := load("[P00003, P00006]")
	exp.Conditions = exp.Conditions[:2]
	out := filepath.Join(dir, "run")
	if _, err := Run(context.Background(), exp, Options{Out: out, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	treated := map[string]bool{}
	for _, r := range csvByName(t, filepath.Join(out, "results", "rounds.csv")) {
		if r["condition"] == "withheld" && r["round"] == "2" && r["treated"] == "1" {
			treated[r["agent_id"]] = true
		}
	}
	if len(treated) != 2 || !treated["2"] || !treated["6"] {
		t.Errorf("treated in round 2: %v, want agent_ids 2 and 6", treated)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
