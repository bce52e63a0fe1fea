package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

const netExp = `name: s3test
study: network
seed: 11
replicates: 2
concurrency: CONC
population: {source: sample, n: 60}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 4
  scenario: volunteering
  activation: {fraction: 0.5}
  history: 2
conditions:
  - name: reward
    policy: economic
    inequity: {preset: reward, k: 4, from: 2}
`

type seen struct {
	run          string
	agent, round int
	soc          situation.Social
	prompt       string
}

// fakeNet answers from what the request says about the previous round, so any leak of
// same-round state changes the answers; with jitter it reorders its goroutines at random.
func fakeNet(jitter bool, mu *sync.Mutex, log *[]seen) func(experiment.Backend) (backend.Backend, error) {
	return func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if jitter {
				r := rand.New(rand.NewPCG(req.Seed, 1))
				for range r.IntN(50) {
					runtime.Gosched()
				}
			}
			s := req.Structured.(*situation.Situation).Social
			h := int(s.MeanObserved*7) + 3*s.UnfairObserved + int(s.PrevWillingness) + s.Observed + int(req.Seed%5)
			if s.TreatedUnfairly {
				h += 2
			}
			w := float64(1 + h%7)
			u := float64(1 + (h/7)%7)
			mu.Lock()
			*log = append(*log, seen{agent: req.AgentID, round: s.Round, soc: s, prompt: req.Prompt})
			mu.Unlock()
			return backend.Reply{Raw: "{}", Values: map[string]float64{"willingness": w, "unfairness": u}, Provider: "fake", Model: "fake"}, nil
		}), nil
	}
}

func runNet(t *testing.T, conc int, jitter bool) (string, []seen) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "s3.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(netExp, "CONC", fmt.Sprint(conc), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log []seen
	out := filepath.Join(dir, "run")
	if _, err := Run(context.Background(), exp, Options{Out: out, NoCache: true, Backends: fakeNet(jitter, &mu, &log)}); err != nil {
		t.Fatal(err)
	}
	return out, log
}

func TestNetworkSynchronous(t *testing.T) {
	dir1, log := runNet(t, 1, false)
	dir16, _ := runNet(t, 16, true)
	a, _ := os.ReadFile(filepath.Join(dir1, "results", "rounds.csv"))
	b, _ := os.ReadFile(filepath.Join(dir16, "results", "rounds.csv"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatal("rounds.csv differs between concurrency 1 and 16 with random scheduling")
	}
	// Every request of round t reflects exactly the recorded decisions of round t-1.
	exp, err := experiment.Load(filepath.Join(dir1, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Prepare(exp, Options{Backends: fakeNet(false, &sync.Mutex{}, &[]seen{})})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err := store.Open(filepath.Join(dir1, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := map[[4]int]float64{} // (condition, replicate, agent, round) -> willingness
	st.Decisions(func(d store.Decision) error {
		var rep int
		fmt.Sscanf(d.RunID[strings.LastIndex(d.RunID, ".r")+2:], "%d", &rep)
		c := 0
		if strings.HasPrefix(d.RunID, "reward") {
			c = 1
		}
		got[[4]int{c, rep, d.AgentID, d.Round}] = d.Reply.Values["willingness"]
		return nil
	})
	// The world's graph and activations, from the same seeds as the study.
	gc := netstudy.ConfigOf(exp).Graph
	g, err := network.WattsStrogatz(gc.N, gc.K, gc.P, seed.Derive(*exp.Seed, "graph"))
	if err != nil {
		t.Fatal(err)
	}
	checked, total := 0, 0
	for _, q := range log {
		if q.round < 2 {
			if q.soc.Observed != 0 || q.soc.PrevWillingness != 0 {
				t.Fatalf("round 1 request sees a previous round: %+v", q.soc)
			}
			continue
		}
		// The fake cannot see the run id: some run's recorded round t-1 must explain the
		// request exactly (own last rating, and the activated neighbours' mean).
		total++
		ok := false
		for k := range 4 {
			c, rep := k/2, k%2+1
			prev, have := got[[4]int{c, rep, q.agent, q.round - 1}]
			if !have || prev != q.soc.PrevWillingness {
				continue
			}
			act := network.ActivateEdges(g, *netstudy.ConfigOf(exp).Activation.Fraction, seed.Derive(*exp.Seed, "activation", rep), q.round)
			u := q.agent - 1
			var n int
			var sum float64
			for j, v := range g.Neighbours(u) {
				if act.IsActive(int(g.EdgeIDs(u)[j])) {
					n++
					sum += got[[4]int{c, rep, int(v) + 1, q.round - 1}]
				}
			}
			if n == q.soc.Observed && (n == 0 || math.Abs(sum/float64(n)-q.soc.MeanObserved) < 1e-9) {
				ok = true
			}
		}
		if ok {
			checked++
		}
	}
	if want := 2 * 2 * 60 * 3; total != want || checked != total {
		t.Errorf("%d of %d requests of rounds >= 2 (want %d) match the recorded previous round", checked, total, want)
	}
}
