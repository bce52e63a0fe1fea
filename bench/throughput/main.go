// Command throughput measures prosim's LLM backend chain against a loopback OpenAI-compatible
// server, through the engine, as users run it.
//
//	go run ./bench/throughput [-latency 50ms] [-limit 32] [-n 10000] [-replicates 1]
//
// The server answers every chat completion after a fixed latency and serves at most -limit
// requests at once (the rest queue on a semaphore), so it cannot go faster than limit/latency
// calls per second: its nominal ceiling (infinite with -latency 0). It runs in a child process
// (this program started again with -serve), as a real endpoint runs in another process or on
// another machine: in this process it would share the Go scheduler with prosim's workers, and
// the bench would measure its own server's scheduling. What the server really
// serves is lower (a sleeper wakes late, a loaded machine more so), so the ceiling the ratio is
// taken against is measured in the same run: a minimal client (net/http and encoding/json,
// -limit goroutines each sending its next request as soon as the last is answered, so the
// server's slots are never idle on its account) sends the server as many calls as the run
// will make, and its calls/s are the endpoint's ceiling.
//
// A second minimal client then measures the durable ceiling: the same calls, each reply
// committed to a run database with store.Commit (group commit, synchronous=FULL: durable when
// it returns) before the goroutine that received it sends again, the rule prosim kept for
// paid replies before their commits were pipelined (a worker now sends its next call while
// its last reply commits). Its ratio to the ceiling is what that rule would cost any client
// on this disk now; prosim's calls/s over it is what pipelining gains back. -durable=false
// skips it.
//
// The program then runs a Study 1 experiment of about -n decisions through the real chain
// (engine; backend.Stack with collapse, validation, reply cache, rate limit and retry; the
// openai client over HTTP) with concurrency and max_concurrency equal to the server's limit
// and adaptive_concurrency off (the limit is known; the adaptive limit would measure the
// loopback's jitter), and prints decisions/s, the measured ceiling and their ratio (calls/s
// over the ceiling, which is decisions/s with one replicate). The target is a ratio of at
// least 0.98. It also prints how many requests the server held on average, and for how long.
//
// It then replays the same experiment into a new run directory from the reply cache the first
// run filled, prints the replay's decisions/s, and checks that the replay made no server call
// and wrote the same decisions.csv: every column equal but cached, which is 1 throughout a
// replay by design.
//
// Throughput is timed over the decision phase, from the server's first request to its last
// reply; the end-to-end time of engine.Run (population, run directory, results, report) is
// printed beside it. With -replicates above 1, replicates are served by one call with n
// samples, so decisions/s exceeds calls/s.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prosim/prosim/bench/internal/loopback"
	"github.com/prosim/prosim/bench/internal/study1"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

func main() {
	serve := flag.Bool("serve", false, "run as the loopback server (used by the program itself)")
	latency := flag.Duration("latency", 50*time.Millisecond, "server latency per request")
	limit := flag.Int("limit", 32, "server concurrency limit (requests served at once); also the run's concurrency and max_concurrency")
	n := flag.Int("n", 10000, "decisions to make (rounded up to whole agents)")
	reps := flag.Int("replicates", 1, "replicates per condition (more than 1 uses n samples per call)")
	replay := flag.Bool("replay", true, "replay the run from the cache afterwards")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the first run to this file")
	keep := flag.Bool("keep", false, "keep the temporary directory (run directories and cache)")
	durable := flag.Bool("durable", true, "also measure the durable ceiling: the minimal client committing each reply before its next call")
	noCache := flag.Bool("no-cache", false, "run without the reply cache (implies -replay=false)")
	flag.Parse()
	if *serve {
		serveLoopback(*latency, *limit)
		return
	}
	if *noCache {
		*replay = false
	}
	if err := bench(*latency, *limit, *n, *reps, *replay, *noCache, *durable, *cpuprofile, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "throughput:", err)
		os.Exit(1)
	}
}

const scenarios, conditions = study1.Scenarios, study1.Conditions

func bench(latency time.Duration, limit, n, reps int, replay, noCache, durableCeiling bool, cpuprofile string, keep bool) error {
	tmp, err := os.MkdirTemp("", "prosim-throughput-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("directory:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	srv, err := startServer(latency, limit)
	if err != nil {
		return err
	}
	defer srv.stop()

	agents := study1.Agents(n, reps)
	exp, err := experiment.Parse([]byte(study1.YAML("throughput", reps, limit, agents, "", fmt.Sprintf(`  - provider: openai
    model: loopback-1
    base_url: %s/v1
    temperature: 1.0
    max_concurrency: %d
    adaptive_concurrency: off`, srv.URL, limit))), filepath.Join(tmp, "throughput.yaml"))
	if err != nil {
		return err
	}
	decisions := agents * scenarios * conditions * reps
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	nominal := "unbounded (no latency)"
	if latency > 0 {
		nominal = fmt.Sprintf("%.1f calls/s", float64(limit)/latency.Seconds())
	}
	fmt.Printf("server: %s in a child process, latency %v, limit %d: nominal ceiling %s\n", srv.URL, latency, limit, nominal)
	fmt.Printf("experiment: study 1, %d agents x %d scenarios x %d conditions x %d replicates = %d decisions, concurrency %d\n",
		agents, scenarios, conditions, reps, decisions, limit)
	calls := (decisions + reps - 1) / reps
	var durable ceiling
	top, err := measureCeiling(srv, limit, calls, nil)
	if err != nil {
		return err
	}
	fmt.Printf("measured ceiling: a minimal client with %d in flight: %d calls in %v: %.1f calls/s\n",
		limit, calls, top.phase.Round(time.Millisecond), top.rate)
	if durableCeiling {
		if durable, err = measureDurable(srv, limit, calls, filepath.Join(tmp, "durable.db")); err != nil {
			return err
		}
		fmt.Printf("durable ceiling: the same client committing each reply to a run database (store.Commit: group commit, synchronous=FULL) before its next call: %.1f calls/s (%.3f of the ceiling)\n",
			durable.rate, durable.rate/top.rate)
	}

	cache := filepath.Join(tmp, "cache.db")
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	if noCache {
		cache = ""
	}
	first, err := runOnce(exp, filepath.Join(tmp, "run1"), cache, srv)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if first.Calls == 0 {
		return fmt.Errorf("the first run made no server calls")
	}
	rate := float64(decisions) / first.Phase.Seconds()
	callRate := float64(first.Calls) / first.Phase.Seconds()
	ratio := callRate / top.rate
	verdict := "met"
	if ratio < 0.98 {
		verdict = "NOT met"
	}
	fmt.Printf("\nrun (empty cache): %d decisions in %v (decision phase: first request to last reply; %v end to end)\n",
		decisions, first.Phase.Round(time.Millisecond), first.total.Round(time.Millisecond))
	fmt.Printf("  %d server calls, at most %d in flight, over %d connections\n", first.Calls, first.Peak, first.Conns)
	fmt.Printf("  decisions/s %.1f, calls/s %.1f, measured ceiling %.1f calls/s: ratio %.3f (target >= 0.98: %s)\n",
		rate, callRate, top.rate, ratio, verdict)
	if durable.rate > 0 {
		fmt.Printf("  against the durable ceiling: %.3f (above 1: what pipelining the commits gains over waiting for each)\n", callRate/durable.rate)
	}
	fmt.Printf("  server side: on average %.2f requests in the handler and %.2f holding a slot (of %d), each slot held %v\n",
		float64(first.Handled)/float64(first.Phase), float64(first.Held)/float64(first.Phase), limit,
		(first.Held / time.Duration(max(first.Calls, 1))).Round(10*time.Microsecond))
	if !replay {
		return nil
	}

	second, err := runOnce(exp, filepath.Join(tmp, "run2"), cache, srv)
	if err != nil {
		return err
	}
	fmt.Printf("\nreplay (from the cache, into a new run directory): %d decisions in %v end to end: %.0f decisions/s\n",
		decisions, second.total.Round(time.Millisecond), float64(decisions)/second.total.Seconds())
	if second.decide > 0 {
		fmt.Printf("  decision phase alone (as the engine's progress reports it): %v: %.0f decisions/s\n",
			second.decide.Round(time.Millisecond), float64(decisions)/second.decide.Seconds())
	}
	if second.Calls != 0 {
		return fmt.Errorf("the replay made %d server calls, want 0", second.Calls)
	}
	// What a run measures of its calls differs by design between a run and its replay (README,
	// "byte for byte"); every other column must not.
	measured := []string{"cached", "calls", "failed_calls", "unusable_calls", "no_usage_calls", "input_tokens", "output_tokens", "cost_usd", "latency_ms"}
	a, err := csvWithout(filepath.Join(tmp, "run1", "results", "decisions.csv"), measured)
	if err != nil {
		return err
	}
	b, err := csvWithout(filepath.Join(tmp, "run2", "results", "decisions.csv"), measured)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("the replay's decisions.csv differs from the first run's")
	}
	if cached, err := csvColumn(filepath.Join(tmp, "run2", "results", "decisions.csv"), "cached"); err != nil {
		return err
	} else if i := slices.IndexFunc(cached, func(v string) bool { return v != "1" }); i >= 0 {
		return fmt.Errorf("the replay's decision %d is not marked cached", i+1)
	}
	fmt.Printf("  0 server calls; decisions.csv identical to the first run's but for what a run measures of its calls (%s); cached 1 throughout\n", strings.Join(measured, ", "))
	return nil
}

type ceiling struct {
	phase time.Duration
	rate  float64
}

// measureDurable is measureCeiling for a client that keeps prosim's former rule for paid replies:
// each reply is committed to a run database with store.Commit (durable when it returns)
// before the goroutine that received it sends its next call. Its calls/s is the most any
// client keeping that rule can get from the endpoint on this machine's disk now.
func measureDurable(srv *remote, limit, calls int, path string) (ceiling, error) {
	st, err := store.Open(path)
	if err != nil {
		return ceiling{}, err
	}
	defer st.Close()
	return measureCeiling(srv, limit, calls, func(i int64, content string) error {
		return st.Commit(store.Decision{Key: store.Key{RunID: "ceiling", AgentID: int(i), Scenario: "volunteering"},
			Reply: store.Reply{Raw: content, Provider: "openai", Model: "loopback-1", Calls: 1, CostUSD: math.NaN()}})
	})
}

// measureCeiling drives the server with a minimal client: limit goroutines, each sending a
// Study 1-sized request as soon as its last one is answered (and, when commit is not nil,
// its reply given to commit), calls requests in all. The calls/s over the server's busy time
// (first request to last reply) is what the endpoint can serve on this machine now.
func measureCeiling(srv *remote, limit, calls int, commit func(i int64, content string) error) (ceiling, error) {
	if err := srv.reset(); err != nil {
		return ceiling{}, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = limit
	hc := &http.Client{Transport: t}
	defer t.CloseIdleConnections()
	persona := strings.Repeat("You are a 34-year-old nurse living in a large city, married with two children. ", 9)
	vignette := strings.Repeat("Your neighbourhood is organising a weekend clean-up of the park. ", 14)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range limit {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(calls) {
					return
				}
				body, _ := json.Marshal(map[string]any{"model": "loopback-1", "temperature": 1.0, "max_tokens": 256, "seed": i,
					"messages": []map[string]string{{"role": "system", "content": persona}, {"role": "user", "content": fmt.Sprintf("%s (%d)", vignette, i)}}})
				err := func() error {
					res, err := hc.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
					if err != nil {
						return err
					}
					defer res.Body.Close()
					var out struct {
						Choices []struct {
							Message struct{ Content string } `json:"message"`
						} `json:"choices"`
					}
					if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Choices) == 0 {
						return fmt.Errorf("ceiling client: bad reply (%v)", err)
					}
					if commit != nil {
						return commit(i, out.Choices[0].Message.Content)
					}
					return nil
				}()
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return ceiling{}, first
	}
	st, err := srv.stats()
	if err != nil {
		return ceiling{}, err
	}
	if st.Phase <= 0 {
		return ceiling{}, fmt.Errorf("ceiling client: no time measured over %d calls", st.Calls)
	}
	return ceiling{phase: st.Phase, rate: float64(st.Calls) / st.Phase.Seconds()}, nil
}

type result struct {
	serverStats
	total time.Duration
	// decide is the replay's decision phase as the engine's progress lines report it.
	decide time.Duration
}

func runOnce(exp *experiment.Experiment, dir, cache string, srv *remote) (result, error) {
	if err := srv.reset(); err != nil {
		return result{}, err
	}
	var prog progressTimer
	start := time.Now()
	_, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, CachePath: cache, NoCache: cache == "", Progress: &prog})
	total := time.Since(start)
	if err != nil {
		return result{}, err
	}
	st, err := srv.stats()
	return result{serverStats: st, total: total, decide: prog.elapsed()}, err
}

// progressTimer reads the engine's plain progress lines (it is not a terminal) and notes when
// the decision phase began and ended.
type progressTimer struct {
	mu         sync.Mutex
	start, end time.Time
}

func (p *progressTimer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := string(b)
	switch {
	case strings.Contains(s, "decisions to make"):
		p.start = time.Now()
	case strings.Contains(s, " decisions in "):
		p.end = time.Now()
	}
	return len(b), nil
}

func (p *progressTimer) elapsed() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() || p.end.IsZero() {
		return 0
	}
	return p.end.Sub(p.start)
}

// csvColumn reads one column of a CSV file, without its header.
func csvColumn(path, column string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	col := slices.Index(recs[0], column)
	if col < 0 {
		return nil, fmt.Errorf("%s has no column %s", path, column)
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[col])
	}
	return out, nil
}

// csvWithout reads a CSV file and writes it back without the named columns.
func csvWithout(path string, columns []string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	var keep []int
	for i, name := range recs[0] {
		if !slices.Contains(columns, name) {
			keep = append(keep, i)
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := make([]string, len(keep))
	for _, r := range recs {
		for j, i := range keep {
			if i < len(r) {
				row[j] = r[i]
			}
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// remote is the parent's handle on the loopback server running in the child process.
type remote struct {
	URL  string
	stop func()
}

func startServer(latency time.Duration, limit int) (*remote, error) {
	url, stop, err := loopback.Start("-serve", "-latency", latency.String(), "-limit", strconv.Itoa(limit))
	if err != nil {
		return nil, err
	}
	return &remote{URL: url, stop: stop}, nil
}

// serverStats is what the server saw since its last reset; Conns counts the connections
// that carried chat completions.
type serverStats struct {
	Calls, Peak, Conns int64
	// Phase runs from the first request to the last reply; Handled and Held sum the time
	// requests spent in the handler and holding a slot.
	Phase, Handled, Held time.Duration
}

func (r *remote) reset() error {
	res, err := http.Post(r.URL+"/bench/reset", "text/plain", nil)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("loopback server: reset: %s", res.Status)
	}
	return nil
}

func (r *remote) stats() (serverStats, error) {
	res, err := http.Get(r.URL + "/bench/stats")
	if err != nil {
		return serverStats{}, err
	}
	defer res.Body.Close()
	var st serverStats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		return serverStats{}, fmt.Errorf("loopback server: stats: %v", err)
	}
	return st, nil
}

// serveLoopback is the child process: it serves until the parent closes its stdin.
func serveLoopback(latency time.Duration, limit int) {
	s := &server{latency: latency, sem: make(chan struct{}, limit)}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", s.handle)
	mux.HandleFunc("POST /bench/reset", func(w http.ResponseWriter, r *http.Request) { s.reset() })
	mux.HandleFunc("GET /bench/stats", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		phase := s.last.Sub(s.first)
		s.mu.Unlock()
		json.NewEncoder(w).Encode(serverStats{Calls: s.calls.Load(), Peak: s.peak.Load(), Conns: s.conns.Load(),
			Phase: phase, Handled: time.Duration(s.handled.Load()), Held: time.Duration(s.held.Load())})
	})
	// Each connection notes the last reset (generation) it was counted in, so that a
	// connection is counted once per measurement and the bench's own requests not at all.
	loopback.Serve(&http.Server{Handler: mux, ConnContext: func(ctx context.Context, c net.Conn) context.Context {
		var g atomic.Int64
		g.Store(-1)
		return context.WithValue(ctx, connKey{}, &g)
	}})
}

// server is a loopback OpenAI-compatible chat completions endpoint with a fixed latency and a
// fixed concurrency limit. Its answers are a function of the request (messages, seed and
// choice index), so a run against it is reproducible.
type server struct {
	latency  time.Duration
	sem      chan struct{}
	calls    atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64
	conns    atomic.Int64 // connections that carried chat completions since the last reset
	gen      atomic.Int64 // resets so far
	// handled and held sum the time requests spent in the handler and holding a slot.
	handled, held atomic.Int64
	mu            sync.Mutex
	first         time.Time
	last          time.Time
}

func (s *server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.Store(0)
	s.conns.Store(0)
	s.gen.Add(1)
	s.peak.Store(0)
	s.handled.Store(0)
	s.held.Store(0)
	s.first, s.last = time.Time{}, time.Time{}
}

type connKey struct{}

type chatRequest struct {
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Seed *int64 `json:"seed"`
	N    *int   `json:"n"`
}

func (s *server) handle(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	defer func() { s.handled.Add(int64(time.Since(arrived))) }()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.first.IsZero() {
		s.first = time.Now()
	}
	s.mu.Unlock()
	s.calls.Add(1)
	if g, c := s.gen.Load(), r.Context().Value(connKey{}).(*atomic.Int64); c != nil && c.Swap(g) != g {
		s.conns.Add(1)
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	s.sem <- struct{}{}
	if v := s.inflight.Add(1); v > s.peak.Load() {
		s.peak.Store(v) // approximate under races; only reported
	}
	start := time.Now()
	time.Sleep(s.latency)
	s.held.Add(int64(time.Since(start)))
	s.inflight.Add(-1)
	<-s.sem

	n := 1
	if req.N != nil && *req.N > 1 {
		n = *req.N
	}
	h := sha256.New()
	for _, m := range req.Messages {
		fmt.Fprintf(h, "%s\x00%s\x00", m.Role, m.Content)
	}
	if req.Seed != nil {
		fmt.Fprintf(h, "seed=%d", *req.Seed)
	}
	sum := h.Sum(nil)
	type choice struct {
		Index        int               `json:"index"`
		FinishReason string            `json:"finish_reason"`
		Message      map[string]string `json:"message"`
	}
	choices := make([]choice, n)
	for i := range choices {
		v := 1 + (int(sum[i%len(sum)])+i)%7
		choices[i] = choice{Index: i, FinishReason: "stop",
			Message: map[string]string{"role": "assistant", "content": fmt.Sprintf(`{"willingness": %d}`, v)}}
	}
	out, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-" + hex.EncodeToString(sum[:6]), "object": "chat.completion", "created": 1700000000,
		"model": "loopback-1", "choices": choices,
		"usage": map[string]int{"prompt_tokens": len(body) / 4, "completion_tokens": 7 * n, "total_tokens": len(body)/4 + 7*n},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
	s.mu.Lock()
	s.last = time.Now()
	s.mu.Unlock()
}
