package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/situation"
)

// spreadExp is a path 1-2-3-4-5 with every edge active every day; agent 1 is treated unfairly
// from day 2 (the default: day 1 measures the label's noise band) and the threshold rule marks
// anyone with an exposing neighbour affected.
const spreadExp = `name: spread
study: network
seed: 4
population: {source: sample, n: 5}
network:
  graph: {type: edgelist, file: path.csv}
  rounds: 5
  scenario: volunteering
  activation: {fraction: 1}
  contagion: {rule: threshold, threshold: 1}
  spread_from: SPREAD
conditions:
  - name: unfair
    policy: economic
    inequity: {target: list, agents: [1], text: "You were passed over for the stipend."}
`

func runSpread(t *testing.T, spread string) []seen {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "path.csv"), []byte("source,target\n1,2\n2,3\n3,4\n4,5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(spreadExp, "SPREAD", spread, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log []seen
	if _, err := Run(context.Background(), exp, Options{Out: filepath.Join(dir, "run"), NoCache: true, Backends: fakeNet(false, &mu, &log)}); err != nil {
		t.Fatal(err)
	}
	return log
}

// With spread_from: affected, an agent marked affected passes the unfairness signal on to its
// neighbours (the behavioural model's UnfairObserved and the prompt); with victims, only the
// victim's own neighbour hears of unfairness.
func TestNetworkSpreadFrom(t *testing.T) {
	// unfair[agent][round]: the largest UnfairObserved agent was given (over both conditions:
	// the control has no victim, so the inequity run's value is the largest).
	heard := func(log []seen) (map[[2]int]int, map[[2]int]string) {
		m, p := map[[2]int]int{}, map[[2]int]string{}
		for _, q := range log {
			k := [2]int{q.agent, q.round}
			if q.soc.UnfairObserved >= m[k] {
				m[k] = q.soc.UnfairObserved
				p[k] = q.prompt
			}
		}
		return m, p
	}
	vic, _ := heard(runSpread(t, "victims"))
	aff, prompts := heard(runSpread(t, "affected"))
	// Agent 2 is the victim's neighbour: it hears of unfairness from day 3 either way, and on
	// day 5 also from agent 3 (affected after day 4) with spread_from affected.
	for r := 3; r <= 5; r++ {
		want := 1
		if r == 5 {
			want = 2
		}
		if vic[[2]int{2, r}] != 1 || aff[[2]int{2, r}] != want {
			t.Errorf("agent 2 day %d: unfair observed %d (victims, want 1), %d (affected, want %d)", r, vic[[2]int{2, r}], aff[[2]int{2, r}], want)
		}
	}
	// Agent 2 is affected after day 3 (exposed), agent 3 after day 4: with victims nobody
	// beyond distance 1 hears of unfairness; with affected, distance d hears from day d+2.
	for a := 3; a <= 5; a++ {
		for r := 1; r <= 5; r++ {
			want := 0
			if r >= a+1 {
				want = 1
			}
			if v := vic[[2]int{a, r}]; v != 0 {
				t.Errorf("spread_from victims: agent %d day %d hears unfairness from %d neighbours", a, r, v)
			}
			if v := aff[[2]int{a, r}]; v != want {
				t.Errorf("spread_from affected: agent %d day %d hears unfairness from %d neighbours, want %d", a, r, v, want)
			}
		}
	}
	if p := prompts[[2]int{3, 4}]; !strings.Contains(p, "said they found the policy unfair") {
		t.Errorf("agent 3's prompt on day 4 does not pass the affected neighbour's unfairness on:\n%s", p)
	}
}

// reactive rates willingness 6 and unfairness 2 unless the agent is treated unfairly or hears
// of unfairness, then 2 and 6: every response to the signal is a real one. Agent 4 ignores
// what it hears and its ratings move by "noise", the same in both runs of a replicate: 6 and 2
// on odd days, 5 and 3 on even days (willingness down and unfairness up from day 3 to 4, the
// erosion that the original rule counts).
func reactive(experiment.Backend) (backend.Backend, error) {
	return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
		s := req.Structured.(*situation.Situation).Social
		w, u := 6.0, 2.0
		switch {
		case req.AgentID == 4:
			if s.Round%2 == 0 {
				w, u = 5, 3
			}
		case s.TreatedUnfairly || s.UnfairObserved > 0:
			w, u = 2, 6
		}
		return backend.Reply{Raw: "{}", Values: map[string]float64{"willingness": w, "unfairness": u}, Provider: "fake", Model: "fake"}, nil
	}), nil
}

// With spread_from: affected and rule original, the affected state is the twin label's (an
// exposed agent whose willingness fell below its control twin's beyond its noise band, two
// days running) and it spreads one hop every two days along the path: agent 2 falls on day 3
// and is labelled on day 4, agent 3 hears of it on day 5 and is labelled on day 6; agent 4's
// noise (equal in its twin) is not a response, so it is not affected and agent 5 never hears
// (the rule's own erosion test would mark agent 4 and pass the signal on). With victims only
// the victim's neighbour is affected.
func TestNetworkSpreadAffectedLabel(t *testing.T) {
	affected := func(spread string) map[[2]int]bool {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "path.csv"), []byte("source,target\n1,2\n2,3\n3,4\n4,5\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		src := strings.Replace(strings.Replace(spreadExp, "SPREAD", spread, 1), "{rule: threshold, threshold: 1}", "{rule: original}", 1)
		src = strings.Replace(src, "rounds: 5", "rounds: 7", 1)
		path := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, err := experiment.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "run")
		if _, err := Run(context.Background(), exp, Options{Out: out, NoCache: true, Backends: reactive}); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, filepath.Join(out, "results", "rounds.csv"))
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		m := map[[2]int]bool{}
		for _, r := range rows[1:] {
			if r[col["condition"]] != "unfair" {
				continue
			}
			a, _ := strconv.Atoi(r[col["agent_id"]])
			d, _ := strconv.Atoi(r[col["round"]])
			m[[2]int{a, d}] = r[col["affected"]] == "1"
		}
		return m
	}
	vic, aff := affected("victims"), affected("affected")
	for a := 2; a <= 5; a++ {
		for d := 1; d <= 7; d++ {
			wantAff := a <= 3 && d >= 2*a // agent a falls from day 2a-1, labelled a day later; 4 ignores it
			wantVic := a == 2 && d >= 4   // only the victim's neighbour is reached
			if aff[[2]int{a, d}] != wantAff {
				t.Errorf("spread_from affected: agent %d day %d affected %v, want %v", a, d, aff[[2]int{a, d}], wantAff)
			}
			if vic[[2]int{a, d}] != wantVic {
				t.Errorf("spread_from victims: agent %d day %d affected %v, want %v", a, d, vic[[2]int{a, d}], wantVic)
			}
		}
	}
}

// On the original study's graph through the engine: the prosim104 graph has 104 nodes and 312
// edges; with observation: message nobody sees a neighbour's willingness (the behavioural
// model's social influence has nothing to act on), so agents two or more hops from a victim
// decide exactly as their control twins; with grounded observation the distance-2 agents'
// willingness falls below their twins'.
func TestNetworkInfluenceByHop(t *testing.T) {
	run := func(obs string) (map[string][]float64, string) {
		exp, err := experiment.Parse([]byte(`name: hops
study: network
seed: 17
replicates: 3
population: {source: prosim104}
network:
  graph: {type: prosim104}
  scenario: volunteering
  observation: `+obs+`
conditions:
  - {name: control, policy: economic}
  - {name: reward, policy: economic, inequity: {preset: reward}}
backend: {provider: builtin}
`), "hops.yaml")
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, filepath.Join(dir, "results", "network_groups.csv"))
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		eff := map[string][]float64{} // group -> effect by round
		for _, r := range rows[1:] {
			x, _ := strconv.ParseFloat(r[col["mean_willingness"]], 64)
			c, _ := strconv.ParseFloat(r[col["control_mean_willingness"]], 64)
			eff[r[col["exposure_group"]]] = append(eff[r[col["exposure_group"]]], x-c)
		}
		sum, err := os.ReadFile(filepath.Join(dir, "results", "network_summary.txt"))
		if err != nil {
			t.Fatal(err)
		}
		return eff, string(sum)
	}
	msg, summary := run("message")
	if !strings.Contains(summary, "Network (prosim104): N=104, edges=312,") {
		t.Errorf("the prosim104 graph: %s", strings.SplitN(summary, "\n", 2)[0])
	}
	for _, g := range []string{"distance_2", "distance_3plus"} {
		if len(msg[g]) != 7 {
			t.Fatalf("%s: %d rounds in network_groups.csv", g, len(msg[g]))
		}
		for r, d := range msg[g] {
			if d != 0 {
				t.Errorf("observation message, %s round %d: effect %+.4f, want exactly 0", g, r+1, d)
			}
		}
	}
	grounded, _ := run("grounded")
	var d2 float64
	for _, d := range grounded["distance_2"] {
		d2 += d / 7
	}
	t.Logf("grounded: distance 2 effect by round %.3f (mean %+.3f)", grounded["distance_2"], d2)
	if d2 >= 0 || grounded["distance_2"][6] >= 0 {
		t.Errorf("grounded observation: distance 2 should fall below its twins: mean %+.3f, last round %+.3f", d2, grounded["distance_2"][6])
	}
}
