package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/engine"
)

// accountingServer is a chat completions endpoint that fails by scenario: every request for
// recycling gets an HTTP 500 while failing is set, the first request for each donating prompt
// a 429; the rest are answered (50 input and 5 output tokens). It counts what it was sent.
type accountingServer struct {
	*httptest.Server
	mu               sync.Mutex
	failing          bool
	requests, failed int
	seen             map[string]bool
}

func newAccountingServer(t *testing.T) *accountingServer {
	s := &accountingServer{failing: true, seen: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		text := string(body)
		s.mu.Lock()
		s.requests++
		status := 200
		switch {
		case strings.Contains(text, "sort and recycle") && s.failing:
			status = 500
		case strings.Contains(text, "donate to this charity") && !s.seen[text]:
			status = 429
		}
		s.seen[text] = true
		if status != 200 {
			s.failed++
		}
		n := s.requests
		s.mu.Unlock()
		if status != 200 {
			http.Error(w, `{"error":{"message":"try later"}}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c%d","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": %d}"}}],"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55}}`, n, 1+n%7)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *accountingServer) counts() (requests, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.failed
}

// Calls that failed (429, 500) are counted with their decision, also when it is recorded
// invalid after its attempts ran out, and told apart as failed; the summary after a run and
// after a resume gives the run's totals from prosim.db, and the resume's own share labelled;
// decisions.csv carries each decision's calls, tokens, cost and latency. The server's own
// counts are the reference.
func TestCallAccountingAcrossFailuresAndResume(t *testing.T) {
	ownCacheDir(t)
	t.Setenv("OPENAI_API_KEY", "") // a loopback server needs none
	s := newAccountingServer(t)
	const agents = 4
	exp := filepath.Join(t.TempDir(), "acct.yaml")
	src := fmt.Sprintf(`name: acct
study: vignettes
seed: 5
concurrency: 1
population: {source: sample, n: %d}
scenarios: [volunteering, donating, recycling]
conditions: [{name: none, policy: none}]
backends:
  - {provider: openai, model: gpt-4o-mini, base_url: %s/v1, max_attempts: 2}
`, agents, s.URL)
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	out, err := prosim(t, "run", exp, "--out", dir, "-q")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Volunteering: 1 call. Donating: a 429, then the answer. Recycling: two 500s, then
	// recorded invalid.
	calls, failed := agents*(1+2+2), agents*(1+2)
	if n, f := s.counts(); n != calls || f != failed {
		t.Fatalf("the server saw %d requests (%d failed), want %d (%d)", n, f, calls, failed)
	}
	want := fmt.Sprintf("backend openai:gpt-4o-mini, whole run (every invocation, from prosim.db): %d provider calls (%d failed: HTTP error statuses such as 400, 429 or 5xx, or timeouts before the request was sent; providers do not usually bill these, and they carry no tokens or cost), 0 decisions from the cache, %d input + %d output tokens, cost $",
		calls, failed, 2*agents*50, 2*agents*5)
	if !strings.Contains(out, want) || strings.Contains(out, "this invocation") {
		t.Fatalf("run summary:\n%s\nwant the line %q and no invocation's share (the run is this invocation)", out, want)
	}
	perScenario := map[string][6]string{ // calls, failed_calls, input_tokens, output_tokens, cost_usd, valid
		"volunteering": {"1", "0", "50", "5", "1.05e-05", "1"},
		"donating":     {"2", "1", "50", "5", "1.05e-05", "1"},
		"recycling":    {"2", "2", "0", "0", "0", "0"},
	}
	checkSpending(t, dir, perScenario)

	// The server recovers; the invalid decisions are asked again. The run's totals add the
	// resume's calls to those recorded; the resume's own are shown beside them.
	s.mu.Lock()
	s.failing = false
	s.mu.Unlock()
	out, err = prosim(t, "resume", dir, "--retry-invalid", "-q")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n, _ := s.counts(); n != calls+agents {
		t.Fatalf("the server saw %d requests, want %d", n, calls+agents)
	}
	want = fmt.Sprintf("whole run (every invocation, from prosim.db): %d provider calls (%d failed: ", calls+agents, failed)
	share := fmt.Sprintf("\n  of which this invocation: %d provider calls, 0 cache hits, %d input + %d output tokens, cost $", agents, agents*50, agents*5)
	if !strings.Contains(out, want) || !strings.Contains(out, share) {
		t.Fatalf("resume summary:\n%s\nwant %q and %q", out, want, share)
	}
	perScenario["recycling"] = [6]string{"3", "2", "50", "5", "1.05e-05", "1"}
	checkSpending(t, dir, perScenario)
}

// checkSpending reads results/decisions.csv and checks each row's spending columns, which
// follow cached in this order, against want by scenario.
func checkSpending(t *testing.T, dir string, want map[string][6]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "results", "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	cols := []string{"cached", "calls", "failed_calls", "unusable_calls", "no_usage_calls", "input_tokens", "output_tokens", "cost_usd", "latency_ms"}
	at := slices.Index(head, "cached")
	if at < 0 || len(head) < at+len(cols) || !slices.Equal(head[at:at+len(cols)], cols) {
		t.Fatalf("decisions.csv header %v, want %v in order", head, cols)
	}
	col := func(name string) int { return slices.Index(head, name) }
	for _, r := range recs[1:] {
		w := want[r[col("scenario")]]
		got := [6]string{r[col("calls")], r[col("failed_calls")], r[col("input_tokens")], r[col("output_tokens")], r[col("cost_usd")], r[col("valid")]}
		if got != w {
			t.Errorf("%s, agent %s: calls, failed, tokens in and out, cost, valid = %v, want %v", r[col("scenario")], r[col("agent_id")], got, w)
		}
		lat, err := strconv.ParseFloat(r[col("latency_ms")], 64)
		if err != nil || lat < 0 || (w[5] == "1") != (lat > 0) {
			t.Errorf("%s, agent %s: latency_ms %q (a reply has one, a decision recorded after an error none)", r[col("scenario")], r[col("agent_id")], r[col("latency_ms")])
		}
	}
}

// A reply that came back with HTTP 200 but cut is named apart from failed calls in the run
// summary, and its worst case is in the cost: the summary's cost is more than the tokens'.
func TestSummaryNamesUnusableCalls(t *testing.T) {
	ownCacheDir(t)
	t.Setenv("OPENAI_API_KEY", "") // a loopback server needs none
	var mu sync.Mutex
	cut := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		first := strings.Contains(string(body), "volunteer") && !cut[string(body)]
		cut[string(body)] = true
		mu.Unlock()
		if first { // HTTP 200, then the connection closes mid-body
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"id\":\"c\",\"choi")
			buf.Flush()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": 4}"}}],"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55}}`)
	}))
	t.Cleanup(srv.Close)
	const agents = 2
	exp := filepath.Join(t.TempDir(), "cut.yaml")
	src := fmt.Sprintf(`name: cut
study: vignettes
seed: 5
concurrency: 1
population: {source: sample, n: %d}
scenarios: [volunteering, donating]
conditions: [{name: none, policy: none}]
backends:
  - {provider: openai, model: gpt-4o-mini, base_url: %s/v1, max_attempts: 2}
`, agents, srv.URL)
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := prosim(t, "run", exp, "--out", filepath.Join(t.TempDir(), "run"), "-q")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := fmt.Sprintf("%d provider calls (%d unusable (cut, malformed, or timed out after sending): replies cut or malformed after HTTP 200, or calls that timed out after their request was sent, which the provider may have billed; the cost counts each at its worst case unless it said its usage, and the tokens leave them out), 0 decisions from the cache, %d input + %d output tokens, cost $",
		3*agents, agents, 2*agents*50, 2*agents*5)
	if !strings.Contains(out, want) || strings.Contains(out, "failed") {
		t.Fatalf("run summary:\n%s\nwant the line %q and no failed calls", out, want)
	}
	_, rest, _ := strings.Cut(out, want)
	cost, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
	if tokens := float64(2*agents*50)*0.15e-6 + float64(2*agents*5)*0.60e-6; err != nil || !(cost > 2*tokens) {
		t.Errorf("cost $%v (%v): want the tokens' $%v plus the cut replies' worst cases", cost, err, tokens)
	}
}

// A batch run's failed calls are its jobs' requests that came back without a reply, and the
// summary says so rather than naming HTTP statuses (QA12 #7).
func TestUsageLineBatch(t *testing.T) {
	u := engine.BackendUsage{Calls: 57, FailedCalls: 30, InputTokens: 2700, OutputTokens: 270, CostUSD: 0.0003, CostKnown: true}
	want := "57 provider calls (30 failed: requests of a batch job that came back without a reply, an error for the request or none (the job expired, failed or was cancelled first); providers do not bill these, and they carry no tokens or cost), 0 cache hits, 2700 input + 270 output tokens, cost $0.0003"
	if got := usageLine(u, "cache hits", true, true); got != want {
		t.Errorf("batch:\n%s\nwant\n%s", got, want)
	}
	if got := usageLine(u, "cache hits", true, false); !strings.Contains(got, "30 failed: HTTP error statuses") {
		t.Errorf("synchronous: %s", got)
	}
}

// A usage line names the calls whose reply said no token usage, and says why they have a cost
// when asked to (why), not otherwise; with none, it says nothing of them.
func TestNoUsageLine(t *testing.T) {
	u := engine.BackendUsage{Calls: 120, NoUsageCalls: 120, CostKnown: true, CostUSD: 0.05}
	if got := usageLine(u, "cache hits", true, false); !strings.Contains(got, "(120 without token usage, at their worst case: replies that said no token usage (the server left \"usage\" out)") {
		t.Errorf("with why: %s", got)
	}
	if got := usageLine(u, "cache hits", false, false); !strings.Contains(got, "(120 without token usage, at their worst case)") {
		t.Errorf("without why: %s", got)
	}
	u.NoUsageCalls = 0
	if got := usageLine(u, "cache hits", true, false); strings.Contains(got, "usage") {
		t.Errorf("none: %s", got)
	}
}

// Replies that said no token usage are kept in prosim.db: the whole run's usage line and the
// report's provider-use table name them, so a run with 0 tokens says why it has a cost.
func TestRunAndReportNameCallsWithoutUsage(t *testing.T) {
	ownCacheDir(t)
	t.Setenv("OPENAI_API_KEY", "") // a loopback server needs none
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"willingness\": 4}"}}]}`)
	}))
	t.Cleanup(srv.Close)
	const agents = 2
	exp := filepath.Join(t.TempDir(), "nousage.yaml")
	src := fmt.Sprintf(`name: nousage
study: vignettes
seed: 5
concurrency: 1
population: {source: sample, n: %d}
scenarios: [volunteering, donating]
conditions: [{name: none, policy: none}]
backends:
  - {provider: openai, model: gpt-4o-mini, base_url: %s/v1}
`, agents, srv.URL)
	if err := os.WriteFile(exp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	out, err := prosim(t, "run", exp, "--out", dir, "-q")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := fmt.Sprintf("whole run (every invocation, from prosim.db): %d provider calls (%d without token usage, at their worst case: replies that said no token usage", 2*agents, 2*agents)
	if !strings.Contains(out, want) || strings.Contains(out, "of which this invocation") {
		t.Fatalf("run summary:\n%s\nwant the line %q, and no line for this invocation apart (it is the whole run)", out, want)
	}
	if out, err := prosim(t, "report", dir); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if want := fmt.Sprintf("%d (%d without token usage, at their worst case)", 2*agents, 2*agents); !strings.Contains(string(page), want) {
		t.Errorf("report.html does not name the calls without usage: want %q", want)
	}
}
