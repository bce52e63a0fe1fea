// Command model measures the embedded behavioural model's CPU per decision in Study 3 against
// its floor, in one process:
//
//   - the run: examples/study3-million.yaml (network.store: summary, the typed path) at -n
//     agents, as `prosim run` makes it; its CPU (user+system, getrusage) and wall time, and the
//     CPU of its decision phase (from the model's Prepare to the last decision: the rounds'
//     observations, the model, the aggregation) per decision;
//   - the floor: a tight loop of the model's prepared Rater over the same decisions' inputs
//     (agent, social state and seed, recorded by a second, untimed run of the same file),
//     which must give the run's ratings bit for bit. Every 97th decision is also asked of the
//     generic Decide (request, JSON, values map) and must agree.
//
// It prints the ratio decision-phase CPU / floor CPU per decision (target: at most 2) and the
// whole run's CPU per decision beside it. The exit status is 1 when the ratings differ, 3 when
// the ratio misses its target.
//
//	go run ./bench/model [-n 50000] [-file examples/study3-million.yaml]
//
// Memory: the recorded inputs take about 80 bytes per decision (n 50,000: 3 million decisions,
// 240 MB).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
	_ "github.com/prosim/prosim/internal/study/all"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

func main() {
	n := flag.Int("n", 50_000, "agents (the file's inequity group is scaled to n/1000)")
	file := flag.String("file", "examples/study3-million.yaml", "a Study 3 experiment with network.store: summary")
	target := flag.Float64("target", 2, "target ratio of the decision phase's CPU per decision to the floor's")
	flag.Parse()
	load := func() *experiment.Experiment {
		exp, err := experiment.Load(*file)
		if err != nil {
			fail(err)
		}
		exp.Population.N = *n
		netstudy.ConfigOf(exp).Graph.N = *n
		for i := range exp.Conditions {
			if q := netstudy.InequityOf(&exp.Conditions[i]); q != nil {
				q.K = max(1, *n/1000)
			}
		}
		return exp
	}
	tmp, err := os.MkdirTemp("", "prosim-bench-model")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)

	// The timed run: the behavioural model as prosim runs it, watched only at the decision
	// phase's two ends (Prepare, and the call that makes the batch's last decision).
	exp := load()
	rounds := netstudy.ConfigOf(exp).Rounds
	w := &watched{m: behavioral.New(), rounds: rounds}
	cpu0, wall0 := cpuNow(), time.Now()
	res, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(tmp, "timed"), NoCache: true,
		Backends: func(experiment.Backend) (backend.Backend, error) { return w, nil }})
	if err != nil {
		fail(err)
	}
	runCPU, runWall := cpuNow()-cpu0, time.Since(wall0)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	rssMB := float64(ru.Maxrss) / 1024
	decisions := res.Decisions
	if w.end.Load() == 0 || w.decided.Load() != 0 {
		fail(fmt.Errorf("the run did not take the typed path (%d decisions through Decide)", w.decided.Load()))
	}
	phaseCPU := time.Duration(w.end.Load() - w.start.Load())

	// The recording run (untimed): the same file, each decision's inputs and ratings kept.
	runtime.GC()
	rec := &watched{m: behavioral.New(), rounds: rounds, record: true}
	if _, err := engine.Run(context.Background(), load(), engine.Options{Out: filepath.Join(tmp, "recorded"), NoCache: true,
		Backends: func(experiment.Backend) (backend.Backend, error) { return rec, nil }}); err != nil {
		fail(err)
	}
	recs := rec.recs
	if len(recs) != decisions {
		fail(fmt.Errorf("recorded %d decisions, the run made %d", len(recs), decisions))
	}
	for _, f := range []string{"rounds_summary.csv"} {
		a, errA := os.ReadFile(filepath.Join(tmp, "timed", "results", f))
		b, errB := os.ReadFile(filepath.Join(tmp, "recorded", "results", f))
		if err := errors.Join(errA, errB); err != nil || string(a) != string(b) {
			fail(fmt.Errorf("results/%s differs between the timed and the recording run (%v)", f, err))
		}
	}

	// The floor: the model's Rater alone over the recorded inputs, on one goroutine.
	raters := make([]situation.Rater, len(rec.raters))
	for i, r := range rec.raters {
		raters[i] = r.r
	}
	runtime.GC()
	runtime.LockOSThread()
	out := make([]float64, 2)
	mismatch := 0
	floor0 := threadCPU()
	for i := range recs {
		x := &recs[i]
		raters[x.rater].Rate(int(x.agent), &x.soc, x.seed, out)
		if math.Float64bits(out[0]) != math.Float64bits(x.out[0]) || math.Float64bits(out[1]) != math.Float64bits(x.out[1]) {
			mismatch++
		}
	}
	floorCPU := threadCPU() - floor0
	runtime.UnlockOSThread()
	// The generic path on a sample of the same decisions.
	generic, checked := 0, 0
	m := behavioral.New()
	for i := 0; i < len(recs); i += 97 {
		x := &recs[i]
		r := rec.raters[x.rater]
		sit := r.sit
		sit.Persona, sit.Social = &r.agents[x.agent], x.soc
		rep, err := m.Decide(context.Background(), backend.Request{Structured: &sit, Schema: r.schema, Seed: x.seed})
		if err != nil {
			fail(err)
		}
		checked++
		for k, f := range r.schema.Fields {
			if math.Float64bits(rep.Values[f.Name]) != math.Float64bits(x.out[k]) {
				generic++
				break
			}
		}
	}

	per := func(d time.Duration) float64 { return d.Seconds() / float64(decisions) * 1e9 }
	fmt.Printf("Study 3 (%s at %d agents, %d rounds, summary store, behavioural model): %d decisions, GOMAXPROCS %d\n",
		*file, *n, rounds, decisions, runtime.GOMAXPROCS(0))
	fmt.Printf("run: %.2f s wall, %.2f s CPU (user+system), peak RSS %.0f MiB: %.0f ns CPU per decision\n",
		runWall.Seconds(), runCPU.Seconds(), rssMB, per(runCPU))
	fmt.Printf("decision phase (Prepare to the last decision): %.2f s CPU, %.0f ns per decision\n", phaseCPU.Seconds(), per(phaseCPU))
	fmt.Printf("floor (the Rater alone over the %d recorded inputs, one goroutine): %.2f s CPU, %.0f ns per decision\n",
		len(recs), floorCPU.Seconds(), per(floorCPU))
	fmt.Printf("ratings equal bit for bit: %v (%d differ); generic Decide agrees on %d sampled decisions: %v (%d differ)\n",
		mismatch == 0, mismatch, checked, generic == 0, generic)
	ratio := phaseCPU.Seconds() / floorCPU.Seconds()
	status := "met"
	if ratio > *target {
		status = "NOT met"
	}
	fmt.Printf("ratio decision phase / floor: %.2f (target <= %.1f: %s); whole run / floor: %.2f\n",
		ratio, *target, status, runCPU.Seconds()/floorCPU.Seconds())
	if mismatch > 0 || generic > 0 {
		os.Exit(1)
	}
	if ratio > *target {
		os.Exit(3)
	}
}

// watched is the behavioural model, typed, as the engine sees it; it notes the process CPU
// at the decision phase's ends and, with record, every decision's inputs and ratings.
type watched struct {
	m          *behavioral.Model
	rounds     int
	record     bool
	start, end atomic.Int64 // process CPU in ns
	decided    atomic.Int64
	mu         sync.Mutex
	raters     []*rater
	recs       []record
}

func (w *watched) Decide(ctx context.Context, req backend.Request) (backend.Reply, error) {
	w.decided.Add(1)
	return w.m.Decide(ctx, req)
}

func (w *watched) ModelVersion() string { return w.m.ModelVersion() }

func (w *watched) Prepare(agents []persona.Persona, sit *situation.Situation, s *schema.Schema) (situation.Rater, error) {
	w.start.CompareAndSwap(0, int64(cpuNow()))
	r, err := w.m.Prepare(agents, sit, s)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	x := &rater{w: w, r: r, id: len(w.raters), agents: agents, sit: *sit, schema: *s}
	w.raters = append(w.raters, x)
	return x, nil
}

type rater struct {
	w      *watched
	r      situation.Rater
	id     int
	agents []persona.Persona
	sit    situation.Situation
	schema schema.Schema
}

// record is one decision's inputs and ratings.
type record struct {
	soc   situation.Social
	seed  uint64
	out   [2]float64
	agent int32
	rater int32
}

func (r *rater) Rate(i int, soc *situation.Social, seed uint64, out []float64) {
	r.r.Rate(i, soc, seed, out)
	w := r.w
	if w.record {
		w.mu.Lock()
		w.recs = append(w.recs, record{soc: *soc, seed: seed, out: [2]float64{out[0], out[1]}, agent: int32(i), rater: int32(r.id)})
		w.mu.Unlock()
		return
	}
	// Each world's last agent in the last round ends its part of the last batch; the latest
	// of them ends the decision phase (the other workers are then at most a chunk behind).
	if i == len(r.agents)-1 && soc.Round == w.rounds {
		now := int64(cpuNow())
		for {
			old := w.end.Load()
			if now <= old || w.end.CompareAndSwap(old, now) {
				break
			}
		}
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU is the calling thread's CPU (the floor runs locked to one thread).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/model:", err)
	os.Exit(2)
}
