// Command cluster measures distributed runs over NATS JetStream (prosim run --nats).
//
//	go run ./bench/cluster [-latency 50ms] [-slots 8] [-n 2000] [-builtin 20000]
//
// Scaling: an embedded broker, and 1, 2 and 4 workers (in this process, each with its own
// connection), each deciding with its own loopback OpenAI-compatible server (as on a fleet
// where each machine serves its model): a server answers after -latency and serves at most
// -slots requests at once, so one worker cannot go faster than slots/latency calls per second.
// A Study 1 run of about -n decisions with concurrency workers x slots is timed end to end
// (engine.Run: population, journal, results, report) and the decisions/s are printed with the
// scaling ratio, 4 workers over 1 (ideal 4.0).
//
// Overhead: the embedded behavioural model decides a Study 1 run of about -builtin decisions
// in process, then through the broker with one worker; the difference of the two wall times
// per decision is the broker path's cost (publish, stream, fetch, reply, acknowledgements).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prosim/prosim/bench/internal/study1"
	"github.com/prosim/prosim/internal/cluster"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

func main() {
	latency := flag.Duration("latency", 50*time.Millisecond, "each loopback server's latency per request")
	slots := flag.Int("slots", 8, "requests each server serves at once (and each worker's concurrency)")
	n := flag.Int("n", 2000, "decisions of each scaling run")
	builtin := flag.Int("builtin", 20000, "decisions of the overhead runs on the embedded model")
	flag.Parse()
	if err := bench(*latency, *slots, *n, *builtin); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func bench(latency time.Duration, slots, n, nBuiltin int) error {
	tmp, err := os.MkdirTemp("", "prosim-cluster-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b, err := cluster.StartBroker(cluster.BrokerOptions{Listen: "127.0.0.1:0", StoreDir: filepath.Join(tmp, "broker")})
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s/%s; broker %s (embedded, file store)\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, b.URL())
	fmt.Printf("each worker: its own loopback server, latency %v, %d slots: ceiling %.0f calls/s per worker\n\n",
		latency, slots, float64(slots)/latency.Seconds())

	rates := map[int]float64{}
	for _, w := range []int{1, 2, 4} {
		exp, err := study(tmp, fmt.Sprintf("scale%d", w), n, w*slots, `  - {provider: openai, model: loopback-1, base_url: http://127.0.0.1:9/v1}`)
		if err != nil {
			return err
		}
		var servers []*server
		var backends []*experiment.Backend
		for range w {
			s := newServer(latency, slots)
			defer s.Close()
			servers = append(servers, s)
			// Each worker's own model server, as prosim worker --backend gives it.
			backends = append(backends, &experiment.Backend{Provider: "openai", Model: "loopback-1", BaseURL: s.URL + "/v1"})
		}
		took, decisions, err := distributed(b.URL(), exp, filepath.Join(tmp, exp.Name), backends, slots)
		if err != nil {
			return err
		}
		calls := 0
		for _, s := range servers {
			calls += int(s.calls.Load())
		}
		rates[w] = float64(decisions) / took.Seconds()
		fmt.Printf("%d worker(s): %d decisions (%d calls) in %v: %.1f decisions/s (ceiling %.0f)\n",
			w, decisions, calls, took.Round(time.Millisecond), rates[w], float64(w*slots)/latency.Seconds())
	}
	fmt.Printf("scaling ratio, 4 workers / 1 worker: %.2f (ideal 4.0); 2 / 1: %.2f (ideal 2.0)\n\n", rates[4]/rates[1], rates[2]/rates[1])

	exp, err := study(tmp, "local", nBuiltin, 64, "  - {provider: builtin}")
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(tmp, "local"), NoCache: true})
	if err != nil {
		return err
	}
	local := time.Since(start)
	exp, err = study(tmp, "remote", nBuiltin, 64, "  - {provider: builtin}")
	if err != nil {
		return err
	}
	remote, _, err := distributed(b.URL(), exp, filepath.Join(tmp, "remote"), []*experiment.Backend{nil}, 64)
	if err != nil {
		return err
	}
	d := float64(res.Decisions)
	fmt.Printf("embedded model, %d decisions at concurrency 64: in process %v (%.0f decisions/s), over the broker with 1 worker %v (%.0f decisions/s)\n",
		res.Decisions, local.Round(time.Millisecond), d/local.Seconds(), remote.Round(time.Millisecond), d/remote.Seconds())
	fmt.Printf("broker-path overhead per decision: %.0f µs (wall time difference / decisions)\n",
		float64((remote-local).Microseconds())/d)
	return nil
}

// study is a Study 1 experiment of about n decisions on backends, the backends: list's entries.
func study(dir, name string, n, concurrency int, backends string) (*experiment.Experiment, error) {
	return experiment.Parse([]byte(study1.YAML(name, 1, concurrency, study1.Agents(n, 1), "", backends)), filepath.Join(dir, name+".yaml"))
}

// distributed runs exp with one in-process worker per entry of backends (nil: the task's own
// backend), each with the given concurrency, and times engine.Run.
func distributed(url string, exp *experiment.Experiment, dir string, backends []*experiment.Backend, concurrency int) (time.Duration, int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i, be := range backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cluster.RunWorker(ctx, cluster.WorkerOptions{ConnectOptions: cluster.ConnectOptions{URL: url, Name: fmt.Sprintf("w%d", i+1)},
				Backend: be, Concurrency: concurrency, Poll: 20 * time.Millisecond})
		}()
	}
	run, err := cluster.RunName(dir)
	if err != nil {
		return 0, 0, err
	}
	coord, err := cluster.Open(ctx, cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: url}, Run: run})
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	res, err := engine.Run(ctx, exp, engine.Options{Out: dir, NoCache: true, Remote: coord.Backend})
	took := time.Since(start)
	coord.Close(err == nil)
	if err != nil {
		return 0, 0, err
	}
	return took, res.Decisions, nil
}

// server is a loopback chat completions endpoint: latency per request, at most slots at once.
type server struct {
	*httptest.Server
	calls atomic.Int64
}

func newServer(latency time.Duration, slots int) *server {
	s := &server{}
	sem := make(chan struct{}, slots)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sem <- struct{}{}
		defer func() { <-sem }()
		k := s.calls.Add(1)
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","created":1700000000,"model":"loopback-1","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": %d}"}}],"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55}}`, k, 1+k%7)
	}))
	return s
}
