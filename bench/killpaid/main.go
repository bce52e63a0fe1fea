// Command killpaid measures the provider calls prosim pays twice when a run is killed with
// SIGKILL (kill -9) and resumed: a loopback OpenAI-compatible server counts every call it
// receives (a provider bills a call it has started on, even if the client dies before the
// answer), the prosim command runs a Study 1 experiment against it as a subprocess, and is
// killed at seeded random call counts, then resumed, until the run completes.
//
//	go run ./bench/killpaid [-seed 1] [-kills 5] [-agents 60] [-concurrency 4] [-prosim PATH]
//
// It prints, per kill, the call count at the kill and the decisions then in the run store,
// and at the end the calls, the decisions and their difference: the calls paid twice, beside
// the bound 2 x kills x concurrency (at each kill, the calls in flight and the replies whose
// commit had not ended: a worker sends its next call while its last reply commits). Without -prosim it builds
// ./cmd/prosim into a temporary directory first (run it from the repository root).
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite"
)

const keyEnv = "PROSIM_KILLPAID_KEY"

func main() {
	seed := flag.Uint64("seed", 1, "seed of the kill points")
	kills := flag.Int("kills", 5, "kills before the run is let finish")
	agents := flag.Int("agents", 60, "agents (x 3 scenarios = decisions)")
	conc := flag.Int("concurrency", 4, "decisions in flight")
	latency := flag.Duration("latency", 5*time.Millisecond, "server latency per call")
	prosim := flag.String("prosim", "", "the prosim binary (default: go build ./cmd/prosim)")
	flag.Parse()
	if err := run(*seed, *kills, *agents, *conc, *latency, *prosim); err != nil {
		fmt.Fprintln(os.Stderr, "killpaid:", err)
		os.Exit(1)
	}
}

type server struct {
	mu sync.Mutex
	n  int
	at func(n int)
}

func run(seed uint64, kills, agents, conc int, latency time.Duration, prosim string) error {
	tmp, err := os.MkdirTemp("", "killpaid")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if prosim == "" {
		prosim = filepath.Join(tmp, "prosim")
		if out, err := exec.Command("go", "build", "-o", prosim, "./cmd/prosim").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/prosim: %v\n%s", err, out)
		}
	}
	s := &server{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		s.mu.Lock()
		s.n++
		n, at := s.n, s.at
		s.mu.Unlock()
		if at != nil {
			at(n)
		}
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": %d}"}}],"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55}}`, n, 1+n%7)
	}))
	defer srv.Close()
	calls := func() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

	decisions := agents * 3
	exp := filepath.Join(tmp, "exp.yaml")
	src := fmt.Sprintf(`name: killpaid
study: vignettes
seed: 3
concurrency: %d
population: {source: sample, n: %d}
scenarios: [volunteering, donating, recycling]
conditions: [{name: none, policy: none}]
backends:
  - {provider: openai, model: m, base_url: %s/v1, api_key_env: %s, max_concurrency: %d, max_attempts: 1}
`, conc, agents, srv.URL, keyEnv, conc)
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		return err
	}
	dir := filepath.Join(tmp, "run")
	command := func(args ...string) *exec.Cmd {
		c := exec.Command(prosim, args...)
		c.Env = append(os.Environ(), keyEnv+"=sk-killpaid", "XDG_CACHE_HOME="+tmp, "HOME="+tmp)
		return c
	}
	// Kill points: seeded, increasing, spread over the run's calls.
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	fmt.Printf("Study 1 of %d decisions, concurrency %d, %v per call, %d kills (seed %d)\n", decisions, conc, latency, kills, seed)
	fmt.Println("kill  at call  decisions stored")
	for k := 0; k < kills; k++ {
		at := calls() + 1 + rng.IntN(max(1, decisions/(kills+1)))
		args := []string{"resume", dir, "-q"}
		if k == 0 {
			args = []string{"run", exp, "--out", dir, "--no-cache", "-q"}
		}
		cmd := command(args...)
		var once sync.Once
		s.mu.Lock()
		s.at = func(n int) {
			if n >= at {
				once.Do(func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
		}
		s.mu.Unlock()
		err := cmd.Run()
		s.mu.Lock()
		s.at = nil
		s.mu.Unlock()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			return fmt.Errorf("kill %d at call %d: the run was not killed (%v); use more decisions or fewer kills", k+1, at, err)
		}
		n, err := stored(dir)
		if err != nil {
			return err
		}
		fmt.Printf("%4d  %7d  %16d\n", k+1, at, n)
	}
	if out, err := command("resume", dir, "-q").CombinedOutput(); err != nil {
		return fmt.Errorf("final resume: %v\n%s", err, out)
	}
	n, err := stored(dir)
	if err != nil {
		return err
	}
	if n != decisions {
		return fmt.Errorf("%d decisions stored after the final resume, want %d", n, decisions)
	}
	twice := calls() - decisions
	fmt.Printf("calls %d for %d decisions: %d paid twice over %d kills (%.2f per kill; bound: %d per kill, the calls in flight and the replies committing, %d in all)\n",
		calls(), decisions, twice, kills, float64(twice)/float64(kills), 2*conc, 2*kills*conc)
	return nil
}

// stored counts the decisions in the run store (read-only).
func stored(dir string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "prosim.db")+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT COUNT(*) FROM decisions").Scan(&n)
	return n, err
}
