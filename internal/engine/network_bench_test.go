package engine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
)

// BenchmarkNetworkMillion runs the scale target in memory (network.store: summary):
// 1,000,000 agents on a Barabasi-Albert graph (m=3), 30 rounds, the behavioural model, a
// reward inequity on 1000 agents, 2 workers. It prints seconds and peak memory (maxrss).
// Run: PROSIM_BENCH_N=1000000 GOMAXPROCS=2 go test -run XXX -bench NetworkMillion -benchtime 1x ./internal/engine
func BenchmarkNetworkMillion(b *testing.B) {
	n := 1_000_000
	if os.Getenv("PROSIM_BENCH_N") == "" {
		n = 100_000 // default keeps `go test -bench .` short; set PROSIM_BENCH_N=1000000 for the target
	} else if _, err := fmtSscan(os.Getenv("PROSIM_BENCH_N"), &n); err != nil {
		b.Fatal(err)
	}
	const rounds, workers = 30, 2
	for range b.N {
		start := time.Now()
		g, err := network.BarabasiAlbert(n, 3, 1)
		if err != nil {
			b.Fatal(err)
		}
		agents, err := persona.Sample(n, 2, persona.SampleOptions{})
		if err != nil {
			b.Fatal(err)
		}
		lib, _ := scenario.Builtin()
		sc, _ := lib.Get("volunteering")
		frames, _ := policy.Builtin()
		frame, _ := frames.Get("economic")
		frac := 0.3
		cfg := &experiment.Network{Rounds: rounds, Scenario: sc.ID, Activation: experiment.Activation{Fraction: &frac},
			Observation: "grounded", Contagion: experiment.Contagion{Rule: "original"}, Store: "summary"}
		s := &netStudy{g: g, sc: sc, cfg: cfg, seed: 3, conds: map[string]*netCond{
			"reward": {iv: &policy.Intervention{Rule: policy.Rule{Kind: policy.TargetTop, K: 1000}, From: 2, To: rounds}, by: "willingness"}}}
		s.schema.Fields = append(append([]scenario.Field{}, sc.Response.Fields...), unfairnessField)
		run := &runInfo{}
		run.Condition, run.Replicate = "reward", 1
		w := s.newWorld(run, n, 0)
		be := behavioral.New()
		params := situationParams(sc, nil)
		pol := exposure(frame)
		income := func(u int) (int, float64) { return agents[u].IncomeQuintile, agents[u].AnnualIncome }
		mk := func(t int) func(u int) (backend.Request, error) {
			return func(u int) (backend.Request, error) {
				return backend.Request{AgentID: agents[u].ID, Persona: &agents[u], Schema: s.schema,
					Situation: backend.Situation{Scenario: sc.ID, Kind: sc.Kind, Params: params, Policy: pol, Social: w.social(u)},
					Seed:      decisionSeed(3, 1, agents[u].ID, t, 0, sc.ID)}, nil
			}
		}
		setup := time.Since(start)
		var affected, treated int
		for t := 1; t <= rounds; t++ {
			if err := w.begin(t, s.activation(1, t), income); err != nil {
				b.Fatal(err)
			}
			affected, treated = 0, 0
			if err := memRound(context.Background(), w, t, agents, be, workers, mk(t), func(r netRow) {
				if r.affected {
					affected++
				}
				if r.treated {
					treated++
				}
			}); err != nil {
				b.Fatal(err)
			}
		}
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.Logf("N=%d edges=%d rounds=%d workers=%d GOMAXPROCS=%d: %.1f s (setup %.1f s), peak RSS %.0f MiB, Go heap sys %.0f MiB; last round: %d treated, %d affected",
			n, g.NumEdges(), rounds, workers, runtime.GOMAXPROCS(0), time.Since(start).Seconds(), setup.Seconds(),
			float64(ru.Maxrss)/1024, float64(ms.Sys)/(1<<20), treated, affected)
	}
}

func fmtSscan(s string, n *int) (int, error) { return fmt.Sscan(s, n) }
