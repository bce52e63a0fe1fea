package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// capsExperiment is 3 decisions on an OpenAI-compatible server at url, with extra lines in
// its backend block.
func capsExperiment(t *testing.T, url, extra string) *experiment.Experiment {
	t.Helper()
	t.Setenv("PROSIM_CAPS_TEST_KEY", "sk-test")
	src := fmt.Sprintf(`name: caps
study: vignettes
seed: 3
population: {source: sample, n: 3}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
max_repairs: 0
backends:
  - provider: openai
    model: m
    base_url: %s/v1
    api_key_env: PROSIM_CAPS_TEST_KEY
    max_attempts: 3
%s`, url, extra)
	path := filepath.Join(t.TempDir(), "caps.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func chatReply(content string) string {
	c := strings.ReplaceAll(content, `"`, `\"`)
	return `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"` + c + `"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
}

func invalidReasons(t *testing.T, dir string) []string {
	t.Helper()
	st, err := store.OpenExisting(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []string
	st.Decisions(func(d store.Decision) error {
		out = append(out, d.Reply.Invalid)
		return nil
	})
	return out
}

// max_reply is the backend's reply size limit: a 1.5 MB reply is recorded invalid "reply too
// large" under the default of 1 MB, after one call each, and read under max_reply: 4MB.
func TestMaxReplyConfigurable(t *testing.T) {
	var calls atomic.Int64
	pad := strings.Repeat("x", 1536<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatReply(`{"willingness": 4, "note": "`+pad+`"}`))
	}))
	defer srv.Close()
	for _, c := range []struct {
		extra   string
		invalid string
	}{{"", "reply too large"}, {"    max_reply: 4MB\n", ""}} {
		calls.Store(0)
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := Run(context.Background(), capsExperiment(t, srv.URL, c.extra), Options{Out: dir, NoCache: true}); err != nil {
			t.Fatal(err)
		}
		for _, r := range invalidReasons(t, dir) {
			if c.invalid == "" && r != "" || !strings.HasPrefix(r, c.invalid) {
				t.Errorf("max_reply %q: decision invalid %q, want %q", c.extra, r, c.invalid)
			}
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("max_reply %q: %d calls for 3 decisions", c.extra, n)
		}
	}
}

// max_retry_after caps a server's Retry-After: a server asking for an hour before each first
// attempt is waited out for 1 s under max_retry_after: 1s, and the run finishes.
func TestMaxRetryAfterConfigurable(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		again := seen[string(b)]
		seen[string(b)] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !again {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"slow down"}}`)
			return
		}
		io.WriteString(w, chatReply(`{"willingness": 4}`))
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "run")
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), capsExperiment(t, srv.URL, "    max_retry_after: 1s\n"), Options{Out: dir, NoCache: true})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // uncapped: an hour; under the default cap: 60 s
		t.Fatal("the run still waits: max_retry_after was not applied")
	}
	for _, r := range invalidReasons(t, dir) {
		if r != "" {
			t.Errorf("decision invalid: %q", r)
		}
	}
}

// While a call backs off (or a server is slow), the progress output says what it waits for,
// though no decision ends.
func TestProgressShowsWaiting(t *testing.T) {
	w := backend.NewWatch()
	release := make(chan struct{})
	be := backend.Retry(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
		return backend.Reply{}, &backend.StatusError{Status: 429, RetryAfter: 24 * time.Hour}
	}), backend.RetryPolicy{MaxAttempts: 2, Watch: w, MaxRetryAfter: time.Hour, Sleep: func(ctx context.Context, d time.Duration) error {
		<-release
		return nil
	}})
	var out syncBuffer
	p := newProgress(&out, 1, 0, "t", false)
	p.every = 20 * time.Millisecond
	p.watching(w, nil)
	go be.Decide(context.Background(), backend.Request{})
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "waiting: 1 call(s) backing off before a retry") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	p.finish(nil)
	if s := out.String(); !strings.Contains(s, "0/1 decisions") || !strings.Contains(s, "(Retry-After: a server asked for 24h0m0s)") {
		t.Fatalf("progress output:\n%s", s)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Same config and seed, same results whatever the cache setting: with n: off every replicate
// is its own call with its own seed, on the cache or not, and the decisions are identical
// (only the cached column differs). Under n: auto (the default) the cache serves a request's
// replicates from one call with n samples, and without the cache each is its own call as
// under n: off, so those are other draws: README "n: auto | off" says so.
func TestCacheAndNoCacheSameResults(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	var want [][]string
	for _, noCache := range []bool{false, true} {
		exp := llmExperiment(t, s.URL, 5, 3, 4)
		exp.Backends[0].N = "off"
		s.learn(exp)
		before := s.calls()
		dir := filepath.Join(t.TempDir(), "run")
		opt := Options{Out: dir, NoCache: noCache}
		if !noCache {
			opt.CachePath = filepath.Join(t.TempDir(), "cache.db")
		}
		if _, err := Run(context.Background(), exp, opt); err != nil {
			t.Fatal(err)
		}
		if n := s.calls() - before; n != 5*3*2*3 {
			t.Errorf("no-cache %v: %d calls, want one per decision (%d)", noCache, n, 5*3*2*3)
		}
		recs, _ := llmReadCSV(t, dir)
		got := llmWithout(recs, "cached")
		if want == nil {
			want = got
		} else if !llmEqual(got, want) {
			t.Fatal("decisions differ between the cache and --no-cache with replicates 3")
		}
	}
}
