package engine

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/experiment"
)

// singleSlot is a loopback OpenAI-compatible server that behaves as Ollama does by default:
// it serves one request at a time (the others wait inside it) and accepts n but returns one
// choice. It counts the requests it finished and those whose client gave up.
type singleSlot struct {
	*httptest.Server
	service time.Duration

	slot               sync.Mutex
	mu                 sync.Mutex
	served, abandoned  int
	askedN, maxInQueue int
	queued             int
}

func newSingleSlot(t *testing.T, service time.Duration) *singleSlot {
	s := &singleSlot{service: service}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *singleSlot) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var req struct {
		N int `json:"n"`
	}
	json.Unmarshal(body, &req)
	s.mu.Lock()
	s.queued++
	s.maxInQueue = max(s.maxInQueue, s.queued)
	if req.N > 1 {
		s.askedN++
	}
	s.mu.Unlock()
	s.slot.Lock()
	time.Sleep(s.service)
	s.slot.Unlock()
	s.mu.Lock()
	s.queued--
	gone := r.Context().Err() != nil
	if gone {
		s.abandoned++
	} else {
		s.served++
	}
	s.mu.Unlock()
	if gone {
		return
	}
	sum := sha256.Sum256(body)
	content, _ := json.Marshal(fmt.Sprintf(`{"willingness": %d}`, 1+int(sum[0])%7))
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"x","object":"chat.completion","created":1700000000,"model":"tiny","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":%s}}],"usage":{"prompt_tokens":100,"completion_tokens":9,"total_tokens":109}}`, content)
}

// TestSingleSlotServerIgnoringN: a run that keeps 8 decisions in flight, against a server that
// serves one at a time with a per-call timeout shorter than 8 services, times nothing out
// (the adaptive limit, on by default for a loopback URL, queues the calls in prosim rather
// than in the server); n is found to be ignored after one probe call, and every call is
// counted as a call, none as a cache hit. The replay makes no call.
func TestSingleSlotServerIgnoringN(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	// Times are long beside a loaded machine's scheduling delays (a call that waited 100 ms
	// for a CPU would pass for a queued one at 25 ms), in the same ratio: timeout < 5 services.
	const service = 100 * time.Millisecond
	s := newSingleSlot(t, service)
	const agents, replicates = 4, 3
	src := fmt.Sprintf(`name: local
study: vignettes
seed: 5
replicates: %d
concurrency: 8
population: {source: sample, n: %d}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
backends:
  - provider: ollama
    model: tiny
    base_url: %s/v1
    api_key_env: %s
    timeout: 480ms
    connect_timeout: 200ms
    max_attempts: 1
`, replicates, agents, s.URL, llmKeyEnv)
	path := filepath.Join(t.TempDir(), "local.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "cache.db")
	res, err := Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "run1"), CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	decisions := agents * 2 * replicates
	if res.Decisions != decisions {
		t.Fatalf("%d decisions, want %d", res.Decisions, decisions)
	}
	if s.abandoned != 0 {
		t.Fatalf("%d calls timed out inside the server (at most %d queued there)", s.abandoned, s.maxInQueue)
	}
	if s.askedN != 1 {
		t.Fatalf("%d requests asked for n samples, want the one probe", s.askedN)
	}
	u := res.Usage[0]
	if u.Calls != s.served || u.Calls != decisions+1 || u.CacheHits != 0 {
		t.Fatalf("usage: %d calls, %d cache hits; the server served %d: want %d calls (one per decision and the probe), no cache hit",
			u.Calls, u.CacheHits, s.served, decisions+1)
	}
	recs, _ := llmReadCSV(t, res.Dir)
	col := -1
	for i, c := range recs[0] {
		if c == "valid" {
			col = i
		}
	}
	for _, r := range recs[1:] {
		if r[col] != "1" && r[col] != "true" {
			t.Fatalf("an invalid decision: %v", r)
		}
	}
	// The replay: all cache hits.
	res2, err := Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "run2"), CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	if u := res2.Usage[0]; u.Calls != 0 || u.CacheHits != decisions || s.served != decisions+1 {
		t.Fatalf("replay: %+v, server served %d in all", u, s.served)
	}
}
