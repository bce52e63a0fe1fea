package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

// A user vignette whose willingness scale is 0-10, run as Study 3: a valid 0 is a rating, not
// a missing one. It is written as 0 in rounds.csv and decisions.csv, neighbours hear it (and
// the agent's own history shows it), the grounded observation names the scenario's scale,
// and only an invalid reply is missing. (Before the port, 0 stood for "missing" in the
// world's state: such ratings were written empty, neighbours were told the agent "did not
// say", and the text said "On a scale of 1 to 7".)
func TestNetworkScaleStartingAtZero(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"scen.yaml": `id: helping10
kind: vignette
title: Helping on a 0-10 scale
text: A neighbour asks for help moving house on Saturday.
question: How willing would you be to help?
response:
  fields:
    - {name: willingness, kind: likert, min: 0, max: 10, low_label: not at all, high_label: completely, description: "how willing you are, from 0 to 10"}
model: {base: 4.4, cost: 0.6, money: 0, visibility: 0.6, need: 0.5}
`,
		"exp.yaml": `name: scale0
study: network
seed: 5
replicates: 1
concurrency: 4
population: {source: sample, n: 40}
scenario_files: [scen.yaml]
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 3
  scenario: helping10
  activation: {fraction: 0.6}
  history: 1
conditions:
  - {name: control, policy: economic}
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := experiment.Load(filepath.Join(src, "exp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The fake's rating of agent a in round t: 0 for a fifth of the agents, 0-10 otherwise;
	// agents whose id is a multiple of 7 reply invalid in round 1.
	rating := func(a, t int) (w float64, valid bool) {
		if t == 1 && a%7 == 0 {
			return 0, false
		}
		if a%5 == 0 {
			return 0, true
		}
		return float64((a + 3*t) % 11), true
	}
	type req struct {
		agent, round int
		soc          situation.Social
		prompt       string
	}
	var mu sync.Mutex
	var log []req
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(_ context.Context, q backend.Request) (backend.Reply, error) {
			mu.Lock()
			soc := q.Structured.(*situation.Situation).Social
			log = append(log, req{q.AgentID, soc.Round, soc, q.Prompt})
			mu.Unlock()
			w, ok := rating(q.AgentID, soc.Round)
			if !ok {
				return backend.Reply{Raw: "{}", Invalid: "missing field willingness", Provider: "fake", Model: "fake"}, nil
			}
			return backend.Reply{Raw: "{}", Values: map[string]float64{"willingness": w, "unfairness": 1}, Provider: "fake", Model: "fake"}, nil
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Backends: hook}); err != nil {
		t.Fatal(err)
	}

	// rounds.csv: 0 where the agent rated 0, empty only where the reply was invalid.
	recs := readCSV(t, filepath.Join(dir, "results", "rounds.csv"))
	col := columns(t, recs[0], "agent_id", "round", "willingness", "valid")
	zeros := 0
	for _, r := range recs[1:] {
		a, _ := strconv.Atoi(r[col["agent_id"]])
		rd, _ := strconv.Atoi(r[col["round"]])
		w, ok := rating(a, rd)
		want, wantValid := strconv.Itoa(int(w)), "1"
		if !ok {
			want, wantValid = "", "0"
		}
		if r[col["willingness"]] != want || r[col["valid"]] != wantValid {
			t.Fatalf("rounds.csv agent %d round %d: willingness %q valid %s, want %q valid %s", a, rd, r[col["willingness"]], r[col["valid"]], want, wantValid)
		}
		if ok && w == 0 {
			zeros++
		}
	}
	if zeros < 20 {
		t.Fatalf("only %d zero ratings in rounds.csv", zeros)
	}
	// decisions.csv: the 0 ratings are values 0, valid.
	recs = readCSV(t, filepath.Join(dir, "results", "decisions.csv"))
	col = columns(t, recs[0], "agent_id", "round", "field", "value", "valid")
	dzeros := 0
	for _, r := range recs[1:] {
		if r[col["field"]] != "willingness" {
			continue
		}
		a, _ := strconv.Atoi(r[col["agent_id"]])
		rd, _ := strconv.Atoi(r[col["round"]])
		if w, ok := rating(a, rd); ok && w == 0 {
			dzeros++
			if r[col["value"]] != "0" || r[col["valid"]] != "1" {
				t.Fatalf("decisions.csv agent %d round %d: value %q valid %s, want 0 valid 1", a, rd, r[col["value"]], r[col["valid"]])
			}
		}
	}
	if dzeros != zeros {
		t.Fatalf("decisions.csv has %d zero willingness ratings, rounds.csv %d", dzeros, zeros)
	}

	// What each agent heard in rounds 2 and 3: its activated neighbours' ratings of the round
	// before (0 included), on the scenario's scale; "did not say" only for invalid replies.
	gc := netstudy.ConfigOf(exp).Graph
	g, err := network.WattsStrogatz(gc.N, gc.K, gc.P, seed.Derive(*exp.Seed, "graph"))
	if err != nil {
		t.Fatal(err)
	}
	heardZero, toldMissing, ownZero := 0, 0, 0
	for _, q := range log {
		if q.round < 2 {
			continue
		}
		if strings.Contains(q.prompt, "1 to 7,") || strings.Contains(q.prompt, "(of 7)") {
			t.Fatalf("agent %d round %d is told of a 1-7 scale:\n%s", q.agent, q.round, q.prompt)
		}
		act := network.ActivateEdges(g, *netstudy.ConfigOf(exp).Activation.Fraction, seed.Derive(*exp.Seed, "activation", 1), q.round)
		u := q.agent - 1
		var said []string
		talked, missing := 0, 0
		for j, v := range g.Neighbours(u) {
			if !act.IsActive(int(g.EdgeIDs(u)[j])) {
				continue
			}
			talked++
			if w, ok := rating(int(v)+1, q.round-1); ok {
				said = append(said, strconv.Itoa(int(w)))
				if w == 0 {
					heardZero++
				}
			} else {
				missing++
			}
		}
		if q.soc.Observed != len(said) {
			t.Fatalf("agent %d round %d: %d neighbours observed, want %d (%v)", q.agent, q.round, q.soc.Observed, len(said), said)
		}
		if len(said) > 0 {
			want := " rated their own willingness " + joinAnd(said) + "."
			if !strings.Contains(q.prompt, "On a scale of 0 to 10, ") || !strings.Contains(q.prompt, want) {
				t.Fatalf("agent %d round %d: prompt lacks %q on a scale of 0 to 10:\n%s", q.agent, q.round, want, q.prompt)
			}
		}
		if got := strings.Contains(q.prompt, "did not say how willing"); got != (missing > 0) {
			t.Fatalf("agent %d round %d: %d neighbours missing, but \"did not say\" is %v:\n%s", q.agent, q.round, missing, got, q.prompt)
		}
		if missing > 0 {
			toldMissing++
		}
		// The agent's own last answer: 0 is a rating (1 on the model's 1-7), not "none".
		w, ok := rating(q.agent, q.round-1)
		day := fmt.Sprintf("- Day %d: ", q.round-1)
		switch {
		case !ok:
			if q.soc.PrevWillingness != 0 || !strings.Contains(q.prompt, day+"your answer was not usable") {
				t.Fatalf("agent %d round %d: an invalid last answer is not missing (%v):\n%s", q.agent, q.round, q.soc.PrevWillingness, q.prompt)
			}
		default:
			if want := 1 + w*6/10; q.soc.PrevWillingness != want || !strings.Contains(q.prompt, fmt.Sprintf("%swillingness %d (on 0 to 10)", day, int(w))) {
				t.Fatalf("agent %d round %d: last answer %v seen as %v (want %v on 1-7):\n%s", q.agent, q.round, w, q.soc.PrevWillingness, want, q.prompt)
			}
			if w == 0 {
				ownZero++
			}
		}
	}
	if heardZero == 0 || toldMissing == 0 || ownZero == 0 {
		t.Fatalf("the test saw %d zero ratings heard, %d agents told of a missing rating, %d own zeros: it checks too little", heardZero, toldMissing, ownZero)
	}
}

// columns maps the wanted column names of a CSV header to their indices.
func columns(t *testing.T, header []string, names ...string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, n := range names {
		i := -1
		for j, h := range header {
			if h == n {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("no column %s in %v", n, header)
		}
		m[n] = i
	}
	return m
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
