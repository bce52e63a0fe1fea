// Command llmcpu measures prosim's own CPU per LLM decision against a floor measured in the
// same run: a minimal Go client (net/http, encoding/json, nothing else) asking the same
// zero-latency loopback server the same requests.
//
//	go run ./bench/llmcpu [-n 20000] [-concurrency 32] [-rounds 3] [-engine 3000]
//
// The server runs in a child process (this program started again with -serve), so the CPU
// this process spends (user + system, from getrusage) is the client side's alone. It answers
// every chat completion at once with a fixed-size JSON reply.
//
// Each round decides -n requests with -concurrency goroutines three ways, in turn:
//   - floor: the minimal client: json.Marshal of a small request struct, http.Client.Do on a
//     pooled transport, io.ReadAll, json.Unmarshal into a small struct.
//   - chain: prosim's backend chain as a run builds it without a cache (backend.Stack:
//     meter, collapse, validation with reply parsing, rate limit, retry with its per-call
//     timeout; the openai client, which posts through net/http).
//   - chain+cache: the same over a fresh reply cache (every request a miss: a key computed,
//     a lookup and a store per decision).
//
// It prints each way's CPU per decision and its ratio to the floor, round by round and as
// the median over rounds (the target is a ratio within 2). Requests are Study 1-sized texts
// (a ~700-character persona, a ~900-character vignette, one 1-7 rating), distinct per
// decision, so nothing is collapsed or served twice.
//
// With -engine N it then runs Study 1 experiments of about N and 10N decisions through
// engine.Run (--no-cache) against the same server, and prints the CPU per decision of each
// whole run (the chain plus the engine's own work: tasks, store, results, report) and the
// marginal CPU per decision, (cpu2-cpu1)/(n2-n1): the fixed cost of a run (population,
// manifest, results, report, summary) cancels, leaving what each further decision costs; and
// the same marginal of its kernel CPU and its voluntary context switches (a thread that
// blocked), against the floor's.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prosim/prosim/bench/internal/loopback"
	"github.com/prosim/prosim/bench/internal/study1"
	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/schema"
)

func main() {
	serve := flag.Bool("serve", false, "run as the loopback server (used by the program itself)")
	n := flag.Int("n", 20000, "decisions per way per round")
	conc := flag.Int("concurrency", 32, "decisions in flight")
	rounds := flag.Int("rounds", 3, "rounds (each measures every way once)")
	engineN := flag.Int("engine", 3000, "decisions of the smaller end-to-end engine run; the larger has 10x (0: none)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole measurement to this file")
	flag.StringVar(&engineProfile, "engineprofile", "", "write a CPU profile of the larger engine run alone to this file")
	memProfile := flag.String("memprofile", "", "write a heap profile at the end to this file (go tool pprof -sample_index=alloc_space: what allocated most)")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "llmcpu:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *serve {
		runServer()
		return
	}
	if err := bench(*n, *conc, *rounds, *engineN); err != nil {
		fmt.Fprintln(os.Stderr, "llmcpu:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "llmcpu:", err)
			os.Exit(1)
		}
	}
}

// reply is the server's answer to every request: a chat completion of typical size.
const reply = `{"id":"chatcmpl-0123456789","object":"chat.completion","created":1700000000,"model":"loopback-1",` +
	`"system_fingerprint":"fp_0123456789","choices":[{"index":0,"finish_reason":"stop","logprobs":null,` +
	`"message":{"role":"assistant","content":"{\"willingness\": 5}","refusal":null}}],` +
	`"usage":{"prompt_tokens":412,"completion_tokens":7,"total_tokens":419}}`

func runServer() {
	body := []byte(reply)
	loopback.Serve(&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})})
}

// cpu is this process's user + system CPU time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sysCPU is the system (kernel) part of cpu.
func sysCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Stime.Nano())
}

// csw is this process's voluntary context switches so far (a thread blocked: a futex sleep,
// a blocking epoll_wait, an fsync).
func csw() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw
}

// lastSys is the system CPU per decision of the last run (of run or engineRun: the whole),
// lastCsw its voluntary context switches.
var (
	lastSys time.Duration
	lastCsw int64
)

var likert = schema.Schema{Fields: []schema.Field{{Name: "willingness", Kind: schema.Likert, Min: 1, Max: 7,
	Description: "how willing you are, 1 = not at all, 7 = extremely"}}}

// requests are n distinct Study 1-sized requests.
func requests(n int) []backend.Request {
	persona := strings.Repeat("You are a 34-year-old nurse living in a large city, married with two children. ", 9)
	vignette := strings.Repeat("Your neighbourhood is organising a weekend clean-up of the park and asks residents to help. ", 10)
	temp := 1.0
	out := make([]backend.Request, n)
	for i := range out {
		out[i] = backend.Request{AgentID: i, System: fmt.Sprintf("%s (agent %d)", persona, i),
			Prompt: vignette + "How willing are you to take part? Answer in JSON.", Schema: likert,
			Sampling: backend.Sampling{Temperature: &temp}, Replicate: 1, Seed: uint64(i) + 1}
	}
	return out
}

// run decides reqs with conc workers and returns the CPU spent per decision.
// Its goroutines, and the connections' read and write loops they start, carry the profiler
// label way=<way>, so that a -cpuprofile can be split by way (pprof -tagfocus way=floor).
func run(way string, reqs []backend.Request, conc int, decide func(context.Context, backend.Request) error) (time.Duration, error) {
	runtime.GC()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int, conc)
	)
	start, sys, cs := cpu(), sysCPU(), csw()
	for range conc {
		wg.Go(func() {
			pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("way", way)))
			for i := range next {
				if err := decide(context.Background(), reqs[i]); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	lastSys = (sysCPU() - sys) / time.Duration(len(reqs))
	lastCsw = csw() - cs
	return (cpu() - start) / time.Duration(len(reqs)), first
}

// minimal is the floor: what a small hand-written Go client does per decision.
func minimal(url string, conc int) func(context.Context, backend.Request) error {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conc
	hc := &http.Client{Transport: t}
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type request struct {
		Model       string    `json:"model"`
		Messages    []message `json:"messages"`
		Temperature float64   `json:"temperature"`
		MaxTokens   int       `json:"max_tokens"`
		Seed        uint32    `json:"seed"`
	}
	var answer struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	return func(ctx context.Context, r backend.Request) error {
		body, err := json.Marshal(request{Model: "loopback-1", Messages: []message{{"system", r.System}, {"user", r.Prompt}},
			Temperature: *r.Sampling.Temperature, MaxTokens: 256, Seed: uint32(r.Seed)})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, "POST", url+"/v1/chat/completions", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		a := answer
		if err := json.Unmarshal(b, &a); err != nil || len(a.Choices) == 0 {
			return fmt.Errorf("bad reply: %v", err)
		}
		return nil
	}
}

// chain is prosim's backend chain for one OpenAI-compatible endpoint, as the engine builds it.
func chain(url string, conc int, cache *backend.Cache) (func(context.Context, backend.Request) error, error) {
	cl, err := providers.New(providers.Spec{Provider: "openai", Model: "loopback-1", BaseURL: url + "/v1"})
	if err != nil {
		return nil, err
	}
	id := backend.BackendID{Provider: "openai", Model: "loopback-1", BaseURL: url + "/v1", Seed: "run:1"}
	b := backend.Stack([]backend.Backend{cl}, backend.StackConfig{ID: id, Cache: cache, MaxRepairs: 2,
		Limits: backend.Limits{Concurrency: conc}, Retry: backend.RetryPolicy{MaxAttempts: 3, Timeout: time.Minute},
		Prices: backend.DefaultPrices(), Usage: &backend.Usage{}})
	return func(ctx context.Context, r backend.Request) error {
		rep, err := b.Decide(ctx, r)
		if err == nil && !rep.Valid() {
			err = fmt.Errorf("invalid reply %q: %s", rep.Raw, rep.Invalid)
		}
		return err
	}, nil
}

func bench(n, conc, rounds, engineN int) error {
	url, stop, err := loopback.Start("-serve")
	if err != nil {
		return err
	}
	defer stop()
	tmp, err := os.MkdirTemp("", "prosim-llmcpu-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s/%s; server %s in a child process, zero latency\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, url)
	fmt.Printf("%d decisions per way per round, %d in flight; CPU = user + system of this process (getrusage)\n\n", n, conc)

	reqs := requests(n)
	floor := minimal(url, conc)
	noCache, err := chain(url, conc, nil)
	if err != nil {
		return err
	}
	// Warm up connections and code paths.
	if _, err := run("floor", reqs[:min(n, 2000)], conc, floor); err != nil {
		return err
	}
	if _, err := run("chain", reqs[:min(n, 2000)], conc, noCache); err != nil {
		return err
	}
	var fl, ch, cc []float64
	for r := range rounds {
		f, err := run("floor", reqs, conc, floor)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		c, err := run("chain", reqs, conc, noCache)
		if err != nil {
			return fmt.Errorf("chain: %w", err)
		}
		cache, err := backend.OpenCache(filepath.Join(tmp, fmt.Sprintf("cache%d.db", r)))
		if err != nil {
			return err
		}
		withCache, err := chain(url, conc, cache)
		if err != nil {
			return err
		}
		k, err := run("chain+cache", reqs, conc, withCache)
		cache.Close()
		if err != nil {
			return fmt.Errorf("chain+cache: %w", err)
		}
		fl, ch, cc = append(fl, us(f)), append(ch, us(c)), append(cc, us(k))
		fmt.Printf("round %d: floor %6.1f us, chain %6.1f us (ratio %.2f), chain+cache %6.1f us (ratio %.2f)\n",
			r+1, us(f), us(c), us(c)/us(f), us(k), us(k)/us(f))
	}
	mf, mc, mk := median(fl), median(ch), median(cc)
	verdict := "met"
	if mc/mf > 2 {
		verdict = "NOT met"
	}
	fmt.Printf("\nmedian CPU per decision: floor %.1f us, chain %.1f us, chain+cache %.1f us\n", mf, mc, mk)
	fmt.Printf("chain / floor %.2f (target <= 2: %s); chain+cache / floor %.2f\n", mc/mf, verdict, mk/mf)
	fmt.Printf("2 cores could drive about %.0f decisions/s through the chain (%.0f with the floor client)\n",
		2e6/mc, 2e6/mf)
	if engineN > 0 {
		// Two sizes in the same process: the fixed cost of a run (population, manifest,
		// results, report, summary) does not grow with the decisions, so the difference
		// between the two runs over the difference in decisions is the marginal CPU per
		// decision, the figure that bounds decisions/s at scale. The chain's requests are
		// dropped first: a live heap the runs do not have would make their GC cheaper.
		reqs = nil
		cpu1, d1, err := engineRun(url, conc, engineN, tmp, "run1")
		if err != nil {
			return err
		}
		sys1, cs1 := lastSys, lastCsw
		if engineProfile != "" {
			pprof.StopCPUProfile() // one profile at a time: -engineprofile wins over -cpuprofile
			f, err := os.Create(engineProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		cpu2, d2, err := engineRun(url, conc, engineN*engineScale, tmp, "run2")
		if engineProfile != "" {
			pprof.StopCPUProfile()
		}
		if err != nil {
			return err
		}
		sys2, cs2 := lastSys, lastCsw
		// The floor again, after the runs: on a shared machine the load drifts, so the
		// engine's ratios are to the mean of the floor just before and just after them.
		after, err := run("floor", requests(n), conc, floor)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		floorSys, floorCsw := lastSys, lastCsw
		fe := (fl[len(fl)-1] + us(after)) / 2
		w1, w2 := us(cpu1)/float64(d1), us(cpu2)/float64(d2)
		marg := us(cpu2-cpu1) / float64(d2-d1)
		fixed := us(cpu1) - marg*float64(d1)
		fmt.Printf("\nengine.Run, Study 1, no cache; floor %.1f us (the mean of %.1f before the runs and %.1f after):\n",
			fe, fl[len(fl)-1], us(after))
		mf = fe
		fmt.Printf("  whole run, %6d decisions: %6.1f us of CPU per decision (%.2f x the floor)\n", d1, w1, w1/mf)
		fmt.Printf("  whole run, %6d decisions: %6.1f us of CPU per decision (%.2f x the floor)\n", d2, w2, w2/mf)
		fmt.Printf("  marginal per decision ((cpu2-cpu1)/(%d-%d)): %.1f us (%.2f x the floor; target <= 2)\n", d2, d1, marg, marg/mf)
		fmt.Printf("  fixed cost of a run (cpu1 - marginal x %d): %.0f ms\n", d1, fixed/1000)
		fmt.Printf("  system (kernel) CPU in the marginal: %.1f us per decision; the floor's (after the runs): %.1f us\n",
			us(sys2-sys1)/float64(d2-d1), us(floorSys))
		fmt.Printf("  voluntary context switches in the marginal: %.2f per decision; the floor's: %.2f\n",
			float64(cs2-cs1)/float64(d2-d1), float64(floorCsw)/float64(n))
	}
	return nil
}

// engineProfile, if set, names the file for a CPU profile of the larger engine run.
var engineProfile string

// engineScale is how many times larger the second engine run is than the first.
const engineScale = 10

// engineRun runs a Study 1 experiment of about n decisions and returns its CPU and decisions.
func engineRun(url string, conc, n int, tmp, name string) (time.Duration, int, error) {
	const cells = study1.Scenarios * study1.Conditions
	agents := study1.Agents(n, 1)
	exp, err := experiment.Parse([]byte(study1.YAML("llmcpu", 1, conc, agents, "", fmt.Sprintf(`  - provider: openai
    model: loopback-1
    base_url: %s/v1
    temperature: 1.0
    max_concurrency: %d
    adaptive_concurrency: off`, url, conc))), filepath.Join(tmp, "llmcpu.yaml"))
	if err != nil {
		return 0, 0, err
	}
	runtime.GC()
	start, sys, cs := cpu(), sysCPU(), csw()
	defer func() { lastSys, lastCsw = sysCPU()-sys, csw()-cs }()
	if _, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(tmp, name), NoCache: true}); err != nil {
		return 0, 0, err
	}
	return cpu() - start, agents * cells, nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
