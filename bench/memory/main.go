// Command memory measures how prosim's memory and replay speed scale with a run's decisions.
//
//	go run ./bench/memory [-agents 2000,10000] [-replicates 1] [-replay 30000]
//	go run ./bench/memory -no-rss -replay 0 -studies tpp,games,network [-study-agents 500] [-study-replicates 1,4]
//
// Peak RSS: for each population size it runs Study 1 on the behavioural model (6 scenarios x
// 5 conditions x -replicates) in a child process, and the floor beside it: the same
// population asked one scenario under one condition once (what the population and the program
// cost whatever the decisions). It prints each child's peak RSS (getrusage ru_maxrss) and
// CPU time, and the RSS above the floor per million decisions: a streaming run keeps that
// near zero, so RSS is bounded by the population, not by the decisions. The target of issue
// #18 (Study 1, 100k agents x 3 replicates = 9M decisions, under 2 GiB) is checked by
// extrapolating: the largest size's floor plus its marginal RSS per decision times 9M.
//
// Recorded studies (-studies tpp,games,network): for each, runs on the behavioural model of
// one population (-study-agents) at each number of -study-replicates (Study 2 binary TPP, 60
// trials an agent; the games battery of examples/games.yaml, 53 decisions an agent; Study 3
// with network.store: full on a Watts-Strogatz graph, 7 rounds x 2 conditions), each in a
// child process. It prints each run's peak RSS per million decisions, and between the sizes
// the growth of peak RSS per million added decisions: the population is the same, so a run
// whose memory is bounded by its population and concurrency keeps that growth near zero (a
// replicate adds only its cells' small per-agent state).
//
// Replay: it runs a Study 1 of about -replay decisions against a loopback OpenAI-compatible
// server (zero latency) to fill a reply cache, then runs it again into a new run directory
// from the cache, and prints the replay's decisions/s over the decision phase (as the
// engine's progress lines report it; target 50k). Beside it, the floor: the same design on
// the behavioural model, whose decisions cost no cache look-up and no reply check.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

const (
	scenarios  = "[volunteering, helping, donating, cooperation, recycling, sharing]"
	conditions = `
  - {name: none, policy: none}
  - {name: moral, policy: moral}
  - {name: social, policy: social}
  - {name: enforce, policy: enforce}
  - {name: economic, policy: economic}`
	floorScenarios  = "[volunteering]"
	floorConditions = `
  - {name: none, policy: none}`
)

func main() {
	// A child runs one experiment file into a directory and exits (its RSS is then its own).
	if len(os.Args) == 4 && os.Args[1] == "-child" {
		if err := child(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "memory child:", err)
			os.Exit(1)
		}
		return
	}
	agents := flag.String("agents", "2000,10000", "population sizes, comma-separated")
	reps := flag.Int("replicates", 1, "replicates of the measured runs")
	replay := flag.Int("replay", 30000, "decisions of the replay measurement (0: skip it)")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the replay to this file")
	rssOnly := flag.Bool("no-rss", false, "skip the RSS measurements")
	studies := flag.String("studies", "", "recorded studies to measure besides Study 1: tpp,games,network (comma-separated)")
	studyAgents := flag.Int("study-agents", 500, "population of the -studies runs")
	studyReps := flag.String("study-replicates", "1,4", "replicates of the -studies runs, comma-separated")
	flag.Parse()
	if *rssOnly {
		*agents = ""
	}
	replayProfile = *cpuprofile
	if err := bench(*agents, *reps, *replay, *keep, *studies, *studyAgents, *studyReps); err != nil {
		fmt.Fprintln(os.Stderr, "memory:", err)
		os.Exit(1)
	}
}

// replayProfile is -cpuprofile.
var replayProfile string

func child(cfg, out string) error {
	exp, err := experiment.Load(cfg)
	if err != nil {
		return err
	}
	res, err := engine.Run(context.Background(), exp, engine.Options{Out: out})
	if err != nil {
		return err
	}
	fmt.Printf("decisions %d\n", res.Decisions) // read by measure
	return nil
}

func config(name string, n, reps int, scs, conds, backend string) string {
	return fmt.Sprintf("name: %s\nstudy: vignettes\nseed: 7\nreplicates: %d\nconcurrency: 8\npopulation: {source: sample, n: %d}\nscenarios: %s\nconditions:%s\nbackends:\n%s\n",
		name, reps, n, scs, conds, backend)
}

type usage struct {
	rssMiB    float64
	cpu       time.Duration
	decisions int // as the child's run reported them
}

// measure runs an experiment in a child process and returns its peak RSS and CPU time.
func measure(tmp, name, cfg string) (usage, error) {
	path := filepath.Join(tmp, name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return usage{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return usage{}, err
	}
	cmd := exec.Command(self, "-child", path, filepath.Join(tmp, name))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return usage{}, fmt.Errorf("%s: %w", name, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	u := usage{rssMiB: float64(ru.Maxrss) / 1024, cpu: cpu} // Maxrss is in KiB on Linux
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "decisions %d", &u.decisions); err != nil {
		return usage{}, fmt.Errorf("%s: the child printed %q, not its decisions", name, out)
	}
	return u, nil
}

// recordedConfig is a run of a recorded study other than Study 1 on the behavioural model,
// with n agents and reps replicates.
func recordedConfig(study string, n, reps int) (string, error) {
	head := fmt.Sprintf("name: %s\nstudy: %s\nseed: 7\nconcurrency: 8\npopulation: {source: sample, n: %d}\nreplicates: %d\nbackends:\n  - provider: builtin\n", study, study, n, reps)
	switch study {
	case "tpp":
		return head + "tpp: {variant: binary, history: false}\nconditions:\n  - {name: none, policy: none}\n", nil
	case "games":
		return head + `conditions:
  - {name: none, policy: none}
games:
  - {game: dictator, endowment: 100}
  - {game: ultimatum, endowment: 100, responder: choice}
  - {game: trust, endowment: 10, multiplier: 3}
  - {game: public_goods, endowment: 20, multiplier: 1.6, group_size: 4, rounds: 10, punishment: both}
`, nil
	case "network":
		return head + `network:
  graph: {type: watts_strogatz, k: 6, p: 0.2}
  rounds: 7
  scenario: volunteering
  activation: {fraction: 0.3}
  store: full
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 5, from: 2}
`, nil
	}
	return "", fmt.Errorf("-studies: %q is not tpp, games or network", study)
}

// benchRecorded measures the peak RSS of recorded studies' runs at each size.
func benchRecorded(tmp, studies string, n int, repList string) error {
	if n < 2 {
		return fmt.Errorf("-study-agents: %d agents (the games need 2)", n)
	}
	for _, st := range strings.Split(studies, ",") {
		st = strings.TrimSpace(st)
		if st == "" {
			continue
		}
		var prev usage
		for i, s := range strings.Split(repList, ",") {
			reps, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || reps < 1 {
				return fmt.Errorf("-study-replicates: %q is not a number of replicates", s)
			}
			cfg, err := recordedConfig(st, n, reps)
			if err != nil {
				return err
			}
			u, err := measure(tmp, fmt.Sprintf("%s-%d", st, reps), cfg)
			if err != nil {
				return err
			}
			fmt.Printf("\n%s, builtin, %d agents x %d replicates: %d decisions\n", st, n, reps, u.decisions)
			fmt.Printf("  peak RSS %.0f MiB (%.0f MiB per million decisions), CPU %.2f s (%.2f us per decision)\n",
				u.rssMiB, u.rssMiB/float64(u.decisions)*1e6, u.cpu.Seconds(), u.cpu.Seconds()/float64(u.decisions)*1e6)
			if i > 0 && u.decisions > prev.decisions {
				fmt.Printf("  growth from the smaller run (same population): %.0f MiB per million added decisions\n",
					(u.rssMiB-prev.rssMiB)/float64(u.decisions-prev.decisions)*1e6)
			}
			prev = u
		}
	}
	return nil
}

func bench(agentList string, reps, replayN int, keep bool, studies string, studyAgents int, studyReps string) error {
	tmp, err := os.MkdirTemp("", "prosim-memory-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("directory:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	builtin := "  - provider: builtin"
	var lastFloor, lastPerM float64
	lastN := 0
	for _, s := range strings.Split(agentList, ",") {
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-agents: %q is not a population size", s)
		}
		d := n * 6 * 5 * reps
		full, err := measure(tmp, fmt.Sprintf("full-%d", n), config("full", n, reps, scenarios, conditions, builtin))
		if err != nil {
			return err
		}
		floor, err := measure(tmp, fmt.Sprintf("floor-%d", n), config("floor", n, 1, floorScenarios, floorConditions, builtin))
		if err != nil {
			return err
		}
		perM := (full.rssMiB - floor.rssMiB) / float64(d-n) * 1e6
		lastN, lastFloor, lastPerM = n, floor.rssMiB, perM
		fmt.Printf("\nStudy 1, builtin, %d agents x 6 scenarios x 5 conditions x %d replicates = %d decisions\n", n, reps, d)
		fmt.Printf("  peak RSS %.0f MiB (%.0f MiB per million decisions), CPU %.2f s (%.2f us per decision)\n",
			full.rssMiB, full.rssMiB/float64(d)*1e6, full.cpu.Seconds(), full.cpu.Seconds()/float64(d)*1e6)
		fmt.Printf("  floor, the same %d agents asked %d decisions: peak RSS %.0f MiB, CPU %.2f s\n", n, n, floor.rssMiB, floor.cpu.Seconds())
		fmt.Printf("  RSS above the floor: %.0f MiB per million decisions\n", perM)
	}
	// Issue #18's target: Study 1, 100k agents x 3 replicates (9M decisions), under 2 GiB.
	if lastN == 100000 {
		est := lastFloor + lastPerM*9
		verdict := "met"
		if est >= 2048 {
			verdict = "NOT met"
		}
		fmt.Printf("\n100k agents x 3 replicates (9M decisions), extrapolated: floor %.0f MiB + 9 x %.0f MiB = %.0f MiB (target < 2048 MiB: %s)\n",
			lastFloor, lastPerM, est, verdict)
	}
	if studies != "" {
		if err := benchRecorded(tmp, studies, studyAgents, studyReps); err != nil {
			return err
		}
	}
	if replayN <= 0 {
		return nil
	}
	return benchReplay(tmp, replayN)
}

func benchReplay(tmp string, n int) error {
	srv := httptest.NewServer(http.HandlerFunc(answer))
	defer srv.Close()
	agents := (n + 29) / 30
	d := agents * 30
	llm := fmt.Sprintf("  - {provider: openai, model: loopback-1, base_url: %s/v1, temperature: 1.0, max_concurrency: 8}", srv.URL)
	exp, err := experiment.Parse([]byte(config("replay", agents, 1, scenarios, conditions, llm)), filepath.Join(tmp, "replay.yaml"))
	if err != nil {
		return err
	}
	cache := filepath.Join(tmp, "cache.db")
	if _, err := timed(exp, filepath.Join(tmp, "replay1"), cache); err != nil {
		return err
	}
	if replayProfile != "" {
		f, err := os.Create(replayProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
	}
	phase, err := timed(exp, filepath.Join(tmp, "replay2"), cache)
	if replayProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	bexp, err := experiment.Parse([]byte(config("floor", agents, 1, scenarios, conditions, "  - provider: builtin")), filepath.Join(tmp, "floor.yaml"))
	if err != nil {
		return err
	}
	floor, err := timed(bexp, filepath.Join(tmp, "builtin"), "")
	if err != nil {
		return err
	}
	cores := float64(runtime.NumCPU())
	rate, frate := float64(d)/phase.wall.Seconds(), float64(d)/floor.wall.Seconds()
	perD, fperD := phase.cpu.Seconds()/float64(d), floor.cpu.Seconds()/float64(d)
	verdict := "met"
	if cores/perD < 50000 {
		verdict = "NOT met"
	}
	fmt.Printf("\nreplay from the reply cache, %d decisions (loopback OpenAI-compatible server, first run filled the cache):\n", d)
	fmt.Printf("  decision phase %v wall: %.0f decisions/s on this machine now\n", phase.wall.Round(time.Millisecond), rate)
	fmt.Printf("  its CPU time %.2f s: %.1f us per decision, so %.0f decisions/s on %d idle cores (target >= 50000: %s)\n",
		phase.cpu.Seconds(), perD*1e6, cores/perD, runtime.NumCPU(), verdict)
	fmt.Printf("  floor, the same design on the behavioural model: %v wall (%.0f decisions/s), %.1f us of CPU per decision (%.0f decisions/s on idle cores); replay/floor %.2f\n",
		floor.wall.Round(time.Millisecond), frate, fperD*1e6, cores/fperD, fperD/perD)
	return nil
}

// timed runs exp in-process and returns its decision phase as the progress lines report it.
func timed(exp *experiment.Experiment, dir, cache string) (timing, error) {
	var p progressTimer
	_, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, CachePath: cache, NoCache: cache == "", Progress: &p})
	if err != nil {
		return timing{}, err
	}
	return p.elapsed()
}

// progressTimer reads the engine's plain progress lines (it is not a terminal) and notes when
// the decision phase began and ended.
type progressTimer struct {
	mu         sync.Mutex
	start, end time.Time
	cpu0, cpu1 time.Duration // the process's CPU time at start and end
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (p *progressTimer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := string(b)
	switch {
	case strings.Contains(s, "decisions to make"):
		p.start, p.cpu0 = time.Now(), cpuNow()
	case strings.Contains(s, " decisions in "):
		p.end, p.cpu1 = time.Now(), cpuNow()
	}
	return len(b), nil
}

func (p *progressTimer) elapsed() (phase timing, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() || p.end.IsZero() {
		return timing{}, fmt.Errorf("the progress lines did not mark the decision phase")
	}
	return timing{wall: p.end.Sub(p.start), cpu: p.cpu1 - p.cpu0}, nil
}

// timing is a decision phase's wall time and the process's CPU time over it.
type timing struct{ wall, cpu time.Duration }

// answer is a zero-latency OpenAI-compatible chat completion: a willingness rating drawn
// from a hash of the request, so a run against it is reproducible.
func answer(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	content := fmt.Sprintf(`{"willingness": %d}`, 1+int(sum[0])%7)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "x", "object": "chat.completion", "created": 0, "model": "loopback-1",
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "message": map[string]string{"role": "assistant", "content": content}}},
		"usage":   map[string]int{"prompt_tokens": 100, "completion_tokens": 8, "total_tokens": 108},
	})
}
