package engine

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
)

const study1 = `name: t1
study: vignettes
seed: 11
replicates: 2
population: {source: sample, n: 12}
scenarios: [volunteering, donating, recycling]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
  - {name: enforce, policy: enforce}
`

func load(t *testing.T, src string, concurrency int) *experiment.Experiment {
	t.Helper()
	return loadYAML(t, strings.Replace(src, "seed:", fmt.Sprintf("concurrency: %d\nseed:", concurrency), 1))
}

// loadYAML writes src to an experiment file of its own and loads it.
func loadYAML(t *testing.T, src string) *experiment.Experiment {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// fakeLLM answers from the request seed and prompt, in random time order, and says 9 (out of
// range) for one agent so invalid replies are exercised.
func fakeLLM(calls *atomic.Int64) func(experiment.Backend) (backend.Backend, error) {
	return func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			calls.Add(1)
			rng := rand.New(rand.NewPCG(req.Seed, 1))
			for range rng.IntN(1000) { // jitter the completion order
			}
			v := 1 + rng.IntN(7)
			if req.AgentID == 3 {
				v = 9
			}
			return backend.Reply{Raw: fmt.Sprintf(`{"willingness": %d}`, v), Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}
}

func run(t *testing.T, exp *experiment.Experiment, opt Options) string {
	t.Helper()
	opt.Out = filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, opt); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(opt.Out, "results", "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSameSeedSameBytesWhateverTheConcurrency(t *testing.T) {
	var calls atomic.Int64
	a := run(t, load(t, study1, 1), Options{Backends: fakeLLM(&calls)})
	b := run(t, load(t, study1, 32), Options{Backends: fakeLLM(&calls)})
	if a != b {
		t.Fatal("decisions.csv differs between concurrency 1 and 32")
	}
	other := run(t, load(t, strings.Replace(study1, "seed: 11", "seed: 12", 1), 4), Options{Backends: fakeLLM(&calls)})
	if other == a {
		t.Fatal("a different seed gave identical results")
	}
}

func TestDecisionsCSVContract(t *testing.T) {
	var calls atomic.Int64
	out := run(t, load(t, study1, 4), Options{Backends: fakeLLM(&calls)})
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(DecisionsSchema.Header(), ",") {
		t.Fatalf("header %v", recs[0])
	}
	// 12 agents x 3 scenarios x 3 conditions x 2 replicates, one field each.
	if got, want := len(recs)-1, 12*3*3*2; got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	invalid := 0
	for _, r := range recs[1:] {
		if len(r) != len(DecisionsSchema.Columns) {
			t.Fatalf("ragged row %v", r)
		}
		switch r[col["valid"]] {
		case "1":
			if r[col["value"]] == "" || r[col["invalid_reason"]] != "" {
				t.Errorf("valid row without value or with a reason: %v", r)
			}
		case "0":
			invalid++
			if r[col["agent_id"]] != "3" || r[col["value"]] != "" || !strings.Contains(r[col["invalid_reason"]], "outside 1..7") {
				t.Errorf("invalid row: %v", r)
			}
		default:
			t.Errorf("valid is %q, want 1 or 0", r[col["valid"]])
		}
	}
	if invalid != 3*3*2 {
		t.Errorf("%d invalid rows, want the 18 of agent 3", invalid)
	}
}

func TestResumeAsksOnlyWhatIsMissingAndGivesTheSameResults(t *testing.T) {
	var calls atomic.Int64
	want := run(t, load(t, study1, 4), Options{Backends: fakeLLM(&calls)})
	total := calls.Load()

	// A backend that fails after 100 decisions stands in for a crash or a provider outage.
	calls.Store(0)
	var n atomic.Int64
	failing := func(b experiment.Backend) (backend.Backend, error) {
		inner, _ := fakeLLM(&calls)(b)
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if n.Add(1) > 100 {
				return backend.Reply{}, errors.New("provider down")
			}
			return inner.Decide(ctx, req)
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	exp := load(t, study1, 4)
	exp.OnError = "stop" // a provider that is down stops the run (the default records and goes on)
	_, err := Run(context.Background(), exp, Options{Out: dir, Backends: failing})
	if err == nil || !strings.Contains(err.Error(), "prosim resume "+dir) {
		t.Fatalf("a failed run should say how to resume, got %v", err)
	}
	if st, _ := Status(dir); st != "running" {
		t.Errorf("a stopped run has status %q, want running", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "decisions.csv")); err == nil {
		t.Error("a stopped run left results/decisions.csv looking complete")
	}
	first := calls.Load()

	calls.Store(0)
	res, err := Resume(context.Background(), dir, Options{Backends: fakeLLM(&calls)})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load()+first != total {
		t.Errorf("resume asked %d + first run %d = %d, want %d: something was asked twice or not at all", calls.Load(), first, calls.Load()+first, total)
	}
	got, _ := os.ReadFile(filepath.Join(res.Dir, "results", "decisions.csv"))
	if !bytes.Equal(got, []byte(want)) {
		t.Error("resumed run's decisions.csv differs from an uninterrupted run's")
	}
	if st, _ := Status(dir); st != "complete" {
		t.Errorf("status %q after resume, want complete", st)
	}
}

func TestRunRefusesANonEmptyDirectory(t *testing.T) {
	var calls atomic.Int64
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), load(t, study1, 2), Options{Out: dir, Backends: fakeLLM(&calls)})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownScenarioAndPolicyAreLocated(t *testing.T) {
	var calls atomic.Int64
	for _, c := range []struct{ edit, want string }{
		{strings.Replace(study1, "recycling]", "recyling]", 1), "field scenarios[2]: unknown scenario \"recyling\""},
		{strings.Replace(study1, "policy: enforce", "policy: enforcement", 1), ":11:29: field conditions[2].policy: unknown policy \"enforcement\""},
	} {
		// Loading the experiment reports them (with its other problems); Prepare checks again.
		path := filepath.Join(t.TempDir(), "exp.yaml")
		if err := os.WriteFile(path, []byte(strings.Replace(c.edit, "seed:", "concurrency: 1\nseed:", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, err := experiment.Load(path)
		if err == nil {
			_, err = Prepare(exp, Options{Backends: fakeLLM(&calls)})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
