package engine

// End-to-end tests of the LLM path: the engine, the full backend chain (backend.Stack with the
// reply cache) and the openai client, against a loopback OpenAI-compatible server.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

const (
	llmKeyEnv = "PROSIM_LLM_TEST_KEY"
	llmKey    = "sk-llmtest-DO-NOT-LEAK-7f3a9c1e5b"
)

// llmExperiment is a small Study 1 on an openai backend at url.
func llmExperiment(t testing.TB, url string, agents, replicates, concurrency int) *experiment.Experiment {
	t.Helper()
	src := fmt.Sprintf(`name: llm
study: vignettes
seed: 5
replicates: %d
concurrency: %d
max_repairs: 1
population: {source: sample, n: %d}
scenarios: [volunteering, donating, recycling]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
backends:
  - provider: openai
    model: loopback-llm
    base_url: %s/v1
    api_key_env: %s
    temperature: 1.0
    max_concurrency: %d
`, replicates, concurrency, agents, url, llmKeyEnv, concurrency)
	path := filepath.Join(t.TempDir(), "llm.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// llmDecision says which decision a request is: its agent (index in the population), scenario
// and condition, and how many repair turns it carries.
type llmDecision struct {
	agent     int
	scenario  string
	condition string
	turn      int
	prompt    string // the request's first user message, as asked
}

// llmServer is a loopback chat completions endpoint. answer scripts its replies by decision;
// it answers n choices when asked for them, and counts requests by their exact body.
type llmServer struct {
	*httptest.Server
	t      testing.TB
	ids    map[string]llmDecision // by system + "\x00" + prompt
	answer func(d llmDecision, firstTime bool, choice int, content string) (status int, header map[string]string, body string)
	delay  time.Duration
	// open answers requests learn did not map (the later steps of a study) as decision zero.
	open bool
	// onAnswer, if set, is called with the number of 200 answers so far, before each is sent.
	onAnswer func(n int)
	// model, if set, is the model and system_fingerprint a decision is answered with
	// (default "loopback-llm" and none).
	model func(d llmDecision) (model, fingerprint string)
	// noUsage leaves "usage" out of every reply, as some gateways and older local servers do.
	noUsage bool

	mu       sync.Mutex
	seen     map[string]int // requests by body hash
	answered int
	badAuth  int
}

func newLLMServer(t testing.TB) *llmServer {
	s := &llmServer{t: t, seen: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

// learn maps every request of exp's design to its decision, from the engine's own task list.
func (s *llmServer) learn(exp *experiment.Experiment) {
	s.t.Helper()
	r, err := Prepare(exp, Options{NoCache: true})
	if err != nil {
		s.t.Fatal(err)
	}
	defer r.Close()
	b, err := r.study.Next()
	if err != nil {
		s.t.Fatal(err)
	}
	index := map[int]int{}
	for i, a := range r.agents {
		index[a.ID] = i
	}
	ids := map[string]llmDecision{}
	for i := range b.Len() {
		tk, err := b.Task(i)
		if err != nil {
			s.t.Fatal(err)
		}
		ids[tk.Req.System+"\x00"+tk.Req.Prompt] = llmDecision{agent: index[tk.Keys[0].AgentID], scenario: tk.Keys[0].Scenario, condition: tk.Cell.Condition}
	}
	s.mu.Lock()
	s.ids = ids
	s.mu.Unlock()
}

func (s *llmServer) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.seen {
		n += c
	}
	return n
}

type llmMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (m llmMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	json.Unmarshal(m.Content, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func (s *llmServer) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Context().Err() != nil {
		return // the client went away mid-request (a cancelled run): nothing was asked
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:8])
	s.mu.Lock()
	if r.Header.Get("Authorization") != "Bearer "+llmKey {
		s.badAuth++
		s.mu.Unlock()
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	s.seen[hash]++
	first := s.seen[hash] == 1
	ids := s.ids
	s.mu.Unlock()
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	var req struct {
		Messages []llmMessage `json:"messages"`
		N        int          `json:"n"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) < 2 {
		s.t.Errorf("server: bad request %q: %v", body, err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	d, ok := ids[req.Messages[0].text()+"\x00"+req.Messages[1].text()]
	if !ok && !s.open {
		s.t.Errorf("server: a request the design does not have: %.200s", body)
	}
	d.turn = (len(req.Messages) - 2) / 2
	d.prompt = req.Messages[1].text()
	n := max(1, req.N)
	var choices []string
	for i := range n {
		status, header, content := s.answer(d, first, i, fmt.Sprintf(`{"willingness": %d, "req": "%s"}`, 1+int(sum[8+i%20])%7, hash))
		if status != http.StatusOK {
			for k, v := range header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, content)
			return
		}
		if content == "MALFORMED" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"mess`)
			return
		}
		c, _ := json.Marshal(content)
		choices = append(choices, fmt.Sprintf(`{"index":%d,"finish_reason":"stop","message":{"role":"assistant","content":%s}}`, i, c))
	}
	s.mu.Lock()
	s.answered++
	if s.onAnswer != nil {
		s.onAnswer(s.answered)
	}
	s.mu.Unlock()
	model, fp := "loopback-llm", ""
	s.mu.Lock()
	version := s.model
	s.mu.Unlock()
	if version != nil {
		model, fp = version(d)
	}
	w.Header().Set("Content-Type", "application/json")
	if s.noUsage {
		fmt.Fprintf(w, `{"id":"chatcmpl-%s","object":"chat.completion","created":1700000000,"model":%q,"system_fingerprint":%q,"choices":[%s]}`,
			hash, model, fp, strings.Join(choices, ","))
		return
	}
	fmt.Fprintf(w, `{"id":"chatcmpl-%s","object":"chat.completion","created":1700000000,"model":%q,"system_fingerprint":%q,"choices":[%s],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
		hash, model, fp, strings.Join(choices, ","), len(body)/4, 9*n, len(body)/4+9*n)
}

// llmReadCSV reads a run's decisions.csv as records and raw bytes.
//
// The decisions are compared between runs, so the columns of what each decision spent are
// left out (spendColumns): latency differs from call to call, and a decision served from the
// cache, or asked in a resumed run, spends otherwise. TestSpendingColumns checks them.
func llmReadCSV(t *testing.T, dir string) ([][]string, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results", "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range spendColumns {
		if slices.Contains(recs[0], c) {
			recs = llmWithout(recs, c)
		}
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	w.WriteAll(recs)
	return recs, out.Bytes()
}

// spendColumns are decisions.csv's columns of what a decision spent.
var spendColumns = []string{"calls", "failed_calls", "unusable_calls", "no_usage_calls", "input_tokens", "output_tokens", "cost_usd", "latency_ms"}

// without returns the records without one column.
func llmWithout(recs [][]string, column string) [][]string {
	col := slices.Index(recs[0], column)
	out := make([][]string, len(recs))
	for i, r := range recs {
		out[i] = slices.Delete(slices.Clone(r), col, col+1)
	}
	return out
}

func llmEqual(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

func TestLLMEndToEnd(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	const agents, replicates = 8, 2
	exp := llmExperiment(t, s.URL, agents, replicates, 4)
	s.learn(exp)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		is := func(agent int, sc, cond string) bool {
			return d.agent == agent && d.scenario == sc && d.condition == cond
		}
		switch {
		// Transient failures, once per exact request: retried by the chain.
		case first && (is(4, "volunteering", "none") || is(5, "donating", "moral")):
			return 429, map[string]string{"Retry-After": "0.05"}, `{"error":{"message":"rate limited","type":"requests"}}`
		case first && is(5, "recycling", "none"):
			return 500, nil, `{"error":{"message":"internal error"}}`
		case first && is(6, "donating", "moral"):
			return 200, nil, "MALFORMED"
		// Answers.
		case is(0, "volunteering", "none"):
			return 200, nil, "I'd say **6**/7"
		case is(1, "donating", "none") && d.turn == 0:
			return 200, nil, "8" // out of range, then repaired
		case is(1, "donating", "none"):
			return 200, nil, `{"willingness": 4}`
		case is(2, "recycling", "moral"):
			return 200, nil, "8" // out of range, also when re-asked
		case is(3, "donating", "moral"):
			return 200, nil, "I'm sorry, but I can't help with that."
		}
		return 200, nil, normal
	}

	cache := filepath.Join(t.TempDir(), "cache.db")
	dir1 := filepath.Join(t.TempDir(), "run1")
	res, err := Run(context.Background(), exp, Options{Out: dir1, CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	first := s.calls()
	if s.badAuth != 0 {
		t.Fatalf("%d requests without the API key", s.badAuth)
	}
	total := agents * 3 * 2 * replicates
	if res.Decisions != total {
		t.Fatalf("%d decisions, want %d", res.Decisions, total)
	}

	recs, _ := llmReadCSV(t, dir1)
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	r, err := Prepare(exp, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	agentIndex := map[string]int{}
	for i, a := range r.agents {
		agentIndex[fmt.Sprint(a.ID)] = i
	}
	r.Close()
	type outcome struct{ valid, value, reason string }
	want := func(agent int, sc, cond string) (outcome, bool) {
		switch [3]string{fmt.Sprint(agent), sc, cond} {
		case [3]string{"0", "volunteering", "none"}:
			return outcome{"1", "6", ""}, true
		case [3]string{"1", "donating", "none"}:
			return outcome{"1", "4", ""}, true
		case [3]string{"2", "recycling", "moral"}:
			return outcome{"0", "", `field "willingness": 8 is outside 1..7`}, true
		case [3]string{"3", "donating", "moral"}:
			return outcome{"0", "", `refusal: "I'm sorry, but I can't help with that"`}, true
		}
		return outcome{}, false
	}
	invalid := 0
	for _, rec := range recs[1:] {
		ai := agentIndex[rec[col["agent_id"]]]
		got := outcome{rec[col["valid"]], rec[col["value"]], rec[col["invalid_reason"]]}
		if w, special := want(ai, rec[col["scenario"]], rec[col["condition"]]); special {
			if got != w {
				t.Errorf("agent %d %s %s r%s: %+v, want %+v", ai, rec[col["scenario"]], rec[col["condition"]], rec[col["replicate"]], got, w)
			}
		} else if got.valid != "1" || got.reason != "" || got.value < "1" || got.value > "7" || len(got.value) != 1 {
			t.Errorf("agent %d %s %s r%s: %+v, want a valid rating", ai, rec[col["scenario"]], rec[col["condition"]], rec[col["replicate"]], got)
		}
		if got.valid == "0" {
			invalid++
		}
		if rec[col["model"]] != "loopback-llm" {
			t.Errorf("model %q", rec[col["model"]])
		}
	}
	if invalid != 2*replicates {
		t.Errorf("%d invalid decisions, want %d", invalid, 2*replicates)
	}

	// Replicates were served by one call with n samples: one call per group of replicates,
	// plus re-asks and retried failures.
	groups := agents * 3 * 2
	repairs := 1*replicates + 1*replicates + 1*replicates // agents 1, 2 and 3 were re-asked once per replicate
	retried := 4                                          // the 429s, the 500 and the malformed body
	if first != groups+repairs+retried {
		t.Errorf("first run: %d server calls, want %d groups + %d re-asks + %d retries", first, groups, repairs, retried)
	}

	// A second run of the same experiment replays everything from the cache: no call, the same
	// decisions, invalid ones included.
	dir2 := filepath.Join(t.TempDir(), "run2")
	if _, err := Run(context.Background(), exp, Options{Out: dir2, CachePath: cache}); err != nil {
		t.Fatal(err)
	}
	if n := s.calls() - first; n != 0 {
		t.Fatalf("second run made %d server calls, want 0", n)
	}
	recs2, _ := llmReadCSV(t, dir2)
	if !llmEqual(llmWithout(recs, "cached"), llmWithout(recs2, "cached")) {
		t.Fatal("second run's decisions.csv differs from the first's (apart from the cached column)")
	}
	for _, rec := range recs2[1:] {
		if rec[col["cached"]] != "1" {
			t.Fatalf("second run: decision not marked cached: %v", rec)
		}
	}
	// A third replay is byte-identical to the second, cached column included.
	dir3 := filepath.Join(t.TempDir(), "run3")
	if _, err := Run(context.Background(), exp, Options{Out: dir3, CachePath: cache}); err != nil {
		t.Fatal(err)
	}
	_, b2 := llmReadCSV(t, dir2)
	if _, b3 := llmReadCSV(t, dir3); !bytes.Equal(b2, b3) || s.calls() != first {
		t.Fatal("a third run is not a byte-identical, call-free replay")
	}

	// The key is nowhere in the run directory or the cache.
	for _, root := range []string{dir1, dir2, filepath.Dir(cache)} {
		filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
			} else if bytes.Contains(b, []byte(llmKey)) {
				t.Errorf("%s contains the API key", path)
			}
			return nil
		})
	}
	cfg, _ := os.ReadFile(filepath.Join(dir1, configFile))
	if !bytes.Contains(cfg, []byte(llmKeyEnv)) {
		t.Errorf("config.yaml does not name the key's variable:\n%s", cfg)
	}
}

// Replicates served by n samples give the same decisions whatever the concurrency.
func TestLLMReplicatesIndependentOfConcurrency(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	var want [][]string
	for _, conc := range []int{1, 16} {
		exp := llmExperiment(t, s.URL, 6, 3, conc)
		s.learn(exp)
		before := s.calls()
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := Run(context.Background(), exp, Options{Out: dir, CachePath: filepath.Join(t.TempDir(), "cache.db")}); err != nil {
			t.Fatal(err)
		}
		if n := s.calls() - before; n != 6*3*2 {
			t.Errorf("concurrency %d: %d calls for %d groups of 3 replicates", conc, n, 6*3*2)
		}
		recs, _ := llmReadCSV(t, dir)
		got := llmWithout(recs, "cached")
		if want == nil {
			want = got
		} else if !llmEqual(got, want) {
			t.Fatalf("concurrency %d: decisions differ from concurrency 1", conc)
		}
	}
}

// A run cancelled midway and resumed asks nothing twice that was recorded, and ends with the
// decisions of an uninterrupted run.
func TestLLMResumeAfterCancel(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	for _, withCache := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache=%v", withCache), func(t *testing.T) {
			s := newLLMServer(t)
			s.delay = 2 * time.Millisecond
			s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
				return 200, nil, normal
			}
			exp := llmExperiment(t, s.URL, 12, 1, 4)
			s.learn(exp)
			opts := func() Options {
				if withCache {
					return Options{CachePath: filepath.Join(t.TempDir(), "cache.db")}
				}
				return Options{NoCache: true}
			}
			o := opts()
			o.Out = filepath.Join(t.TempDir(), "whole")
			if _, err := Run(context.Background(), exp, o); err != nil {
				t.Fatal(err)
			}
			wantRecs, wantBytes := llmReadCSV(t, o.Out)

			s.mu.Lock()
			s.seen = map[string]int{}
			s.answered = 0
			s.mu.Unlock()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s.mu.Lock()
			s.onAnswer = func(n int) {
				if n == 40 {
					cancel()
				}
			}
			s.mu.Unlock()
			o = opts()
			o.Out = filepath.Join(t.TempDir(), "cut")
			if _, err := Run(ctx, exp, o); err == nil || !strings.Contains(err.Error(), "interrupted") {
				t.Fatalf("a cancelled run returned %v", err)
			}
			s.mu.Lock()
			s.onAnswer = nil
			s.mu.Unlock()
			// The decisions the cancelled run recorded, by the request that asked them.
			st, err := store.Open(filepath.Join(o.Out, dbFile))
			if err != nil {
				t.Fatal(err)
			}
			var acked []string
			st.Decisions(func(d store.Decision) error {
				var v struct{ Req string }
				if err := json.Unmarshal([]byte(d.Reply.Raw), &v); err != nil || v.Req == "" {
					t.Errorf("decision %v: raw %q", d.Key, d.Reply.Raw)
				}
				acked = append(acked, v.Req)
				return nil
			})
			st.Close()
			if len(acked) == 0 || len(acked) >= 108 {
				t.Fatalf("the cancelled run recorded %d of 108 decisions", len(acked))
			}
			if _, err := Resume(context.Background(), o.Out, o); err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			for _, h := range acked {
				if n := s.seen[h]; n != 1 {
					t.Errorf("request %s of a recorded decision was sent %d times", h, n)
				}
			}
			s.mu.Unlock()
			gotRecs, gotBytes := llmReadCSV(t, o.Out)
			if !withCache && !bytes.Equal(gotBytes, wantBytes) {
				t.Fatal("the resumed run's decisions.csv differs from an uninterrupted run's")
			}
			if withCache && !llmEqual(llmWithout(gotRecs, "cached"), llmWithout(wantRecs, "cached")) {
				t.Fatal("the resumed run's decisions.csv differs from an uninterrupted run's (apart from the cached column)")
			}
		})
	}
}

// BenchmarkLLMReplay replays a Study 1 run of 4,800 decisions (400 agents x 3 scenarios x 2
// conditions x 2 replicates) from the reply cache through the engine and the full chain, with
// concurrency 32; no server call is made. It reports decisions/s end to end (engine.Run,
// results and report included). go run ./bench/throughput measures the same at 10,000
// decisions, and the live run that fills the cache.
func BenchmarkLLMReplay(b *testing.B) {
	b.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(b)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	const agents, replicates = 400, 2
	exp := llmExperiment(b, s.URL, agents, replicates, 32)
	s.learn(exp)
	cache := filepath.Join(b.TempDir(), "cache.db")
	if _, err := Run(context.Background(), exp, Options{Out: filepath.Join(b.TempDir(), "fill"), CachePath: cache}); err != nil {
		b.Fatal(err)
	}
	calls := s.calls()
	b.ResetTimer()
	for i := range b.N {
		res, err := Run(context.Background(), exp, Options{Out: filepath.Join(b.TempDir(), fmt.Sprint("replay", i)), CachePath: cache})
		if err != nil {
			b.Fatal(err)
		}
		if res.Decisions != agents*3*2*replicates {
			b.Fatalf("%d decisions", res.Decisions)
		}
	}
	b.StopTimer()
	if n := s.calls() - calls; n != 0 {
		b.Fatalf("the replays made %d server calls", n)
	}
	b.ReportMetric(float64(b.N*agents*3*2*replicates)/b.Elapsed().Seconds(), "decisions/s")
}

// The version each provider reply names is recorded per decision; a run whose replies name two
// snapshots says so in its summary and report, and so does a run whose cache hits came from
// another snapshot than its fresh calls.
func TestLLMModelVersions(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	setModel := func(f func(d llmDecision) (string, string)) {
		s.mu.Lock()
		s.model = f
		s.mu.Unlock()
	}
	cache := filepath.Join(t.TempDir(), "cache.db")
	run := func(replicates int) (dir string, versions map[string]int, summary string) {
		t.Helper()
		exp := llmExperiment(t, s.URL, 4, replicates, 2)
		s.learn(exp)
		dir = filepath.Join(t.TempDir(), "run")
		res, err := Run(context.Background(), exp, Options{Out: dir, CachePath: cache})
		if err != nil {
			t.Fatal(err)
		}
		recs, _ := llmReadCSV(t, dir)
		col := slices.Index(recs[0], "model_version")
		if col < 0 {
			t.Fatalf("decisions.csv has no model_version: %v", recs[0])
		}
		versions = map[string]int{}
		for _, r := range recs[1:] {
			versions[r[col]]++
		}
		var b strings.Builder
		if err := res.Summary(&b); err != nil {
			t.Fatal(err)
		}
		return dir, versions, b.String()
	}
	const mixed = "Warning: backend openai:loopback-llm: this run mixes 2 model versions (snap-a fp_1, snap-b fp_1)"
	const stale = "Warning: backend openai:loopback-llm: 24 cached replies came from snap-a fp_1, snap-b fp_1, not from the version of this run's fresh calls (snap-c)"

	// Agents 0 and 2 are answered by one snapshot, 1 and 3 by another.
	setModel(func(d llmDecision) (string, string) {
		return map[bool]string{true: "snap-a", false: "snap-b"}[d.agent%2 == 0], "fp_1"
	})
	dir, versions, summary := run(1)
	if len(versions) != 2 || versions["snap-a fp_1"] != 12 || versions["snap-b fp_1"] != 12 {
		t.Fatalf("model_version counts %v", versions)
	}
	if !strings.Contains(summary, mixed) || strings.Contains(summary, "cached replies") {
		t.Fatalf("summary:\n%s", summary)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !bytes.Contains(page, []byte("this run mixes 2 model versions")) {
		t.Errorf("report.html does not warn of the mixed versions")
	}
	// An LLM-only run: the page does not say a backend is the behavioural model.
	if bytes.Contains(page, []byte("not an LLM")) {
		t.Errorf("report.html of a run without the builtin backend says a backend is not an LLM")
	}

	// Replicate 1 comes from the cache (the old snapshots), replicate 2 from a new one.
	setModel(func(llmDecision) (string, string) { return "snap-c", "" })
	dir, versions, summary = run(2)
	if len(versions) != 3 || versions["snap-c"] != 24 {
		t.Fatalf("model_version counts %v", versions)
	}
	if !strings.Contains(summary, stale) {
		t.Fatalf("summary:\n%s", summary)
	}
	if page, _ := os.ReadFile(filepath.Join(dir, "report.html")); !bytes.Contains(page, []byte("cached replies came from")) {
		t.Errorf("report.html does not warn of the cached versions")
	}

	// One snapshot throughout: no warning.
	cache = filepath.Join(t.TempDir(), "other.db")
	_, versions, summary = run(1)
	if len(versions) != 1 || strings.Contains(summary, "Warning:") || !strings.Contains(summary, "snap-c") {
		t.Fatalf("versions %v, summary:\n%s", versions, summary)
	}
}

// A run folder moved while the run goes on: the results are not written to a new folder at
// the old path; the error names the folder and the resume, and a resume where it is now
// finishes it without a call (QA16 F6).
func TestRunFolderMovedWhileRunning(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := llmExperiment(t, s.URL, 4, 1, 2)
	s.learn(exp)
	out := filepath.Join(t.TempDir(), "run")
	moved := filepath.Join(t.TempDir(), "moved")
	s.mu.Lock()
	s.onAnswer = func(n int) {
		if n == 1 {
			if err := os.Rename(out, moved); err != nil {
				t.Error(err)
			}
		}
	}
	s.mu.Unlock()
	_, err := Run(context.Background(), exp, Options{Out: out, NoCache: true})
	if err == nil || !strings.Contains(err.Error(), "the run folder "+out+" was moved or removed while the run went on") || !strings.Contains(err.Error(), "prosim resume") {
		t.Fatalf("a run whose folder was moved returned %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s made again at the old path: %v", out, err)
	}
	calls := s.calls()
	res, err := Resume(context.Background(), moved, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.calls() != calls || res.Asked != 0 {
		t.Errorf("the resume made %d calls, asked %d; want none", s.calls()-calls, res.Asked)
	}
}
