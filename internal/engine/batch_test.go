package engine

// End-to-end tests of batch mode against a loopback server that speaks OpenAI's Batch API
// (file upload, batch create, status transitions, output and error files, expiry). Each line
// of a batch is answered by the chat completions server of llm_test.go, so a batch run's
// decisions can be compared with a synchronous run's.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// openaiBatchServer is a loopback OpenAI Batch API in front of an llmServer.
type openaiBatchServer struct {
	*httptest.Server
	llm *llmServer
	// inProgress is how many status requests a job answers in_progress before it completes.
	inProgress int
	// fail, if set, makes a request's line of a job an error line (by custom id and how many
	// jobs held that id so far).
	fail func(customID string, submission int) bool
	// unusable, if set, makes a request's line of a job an HTTP 200 line whose body is not a
	// chat completion (no choices, no usage): billed, but unusable.
	unusable func(customID string, submission int) bool
	// expire, if set, makes a job expire with only its first half answered.
	expire func(job int) bool
	// onStatus, if set, is called with the job and how many times its status was asked.
	onStatus func(job string, n int)

	mu        sync.Mutex
	files     map[string][]byte
	jobs      map[string]*batchJob
	submitted map[string]int // custom id -> jobs that held it
	creates   int
}

type batchJob struct {
	id, input     string
	n             int // status requests so far
	num           int // 1-based order of creation
	status        string
	output, error string
	total, failed int
}

// newAnsweringBatchServer is an OpenAI batch server in front of an LLM that answers every
// request as it should (set llm.answer anew for other replies).
func newAnsweringBatchServer(t *testing.T) (*llmServer, *openaiBatchServer) {
	llm := newLLMServer(t)
	s := newOpenAIBatchServer(t, llm)
	llm.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	return llm, s
}

func newOpenAIBatchServer(t *testing.T, llm *llmServer) *openaiBatchServer {
	s := &openaiBatchServer{llm: llm, inProgress: 2, files: map[string][]byte{}, jobs: map[string]*batchJob{}, submitted: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/files", s.upload)
	mux.HandleFunc("GET /v1/files/{id}/content", s.content)
	mux.HandleFunc("POST /v1/batches", s.create)
	mux.HandleFunc("GET /v1/batches/{id}", s.get)
	mux.HandleFunc("POST /v1/chat/completions", llm.handle)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *openaiBatchServer) upload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+llmKey {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	if r.FormValue("purpose") != "batch" {
		http.Error(w, `{"error":{"message":"purpose must be batch"}}`, http.StatusBadRequest)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, `{"error":{"message":"no file"}}`, http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(f)
	s.mu.Lock()
	id := fmt.Sprintf("file-in-%d", len(s.files)+1)
	s.files[id] = data
	s.mu.Unlock()
	fmt.Fprintf(w, `{"id":%q,"object":"file","bytes":%d,"created_at":1700000000,"filename":"prosim-batch.jsonl","purpose":"batch","status":"processed"}`, id, len(data))
}

func (s *openaiBatchServer) content(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	data, ok := s.files[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, `{"error":{"message":"no such file"}}`, http.StatusNotFound)
		return
	}
	w.Write(data)
}

func (s *openaiBatchServer) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		InputFileID      string `json:"input_file_id"`
		Endpoint         string `json:"endpoint"`
		CompletionWindow string `json:"completion_window"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.files[req.InputFileID]
	if !ok || req.Endpoint != "/v1/chat/completions" || req.CompletionWindow != "24h" {
		http.Error(w, `{"error":{"message":"bad batch"}}`, http.StatusBadRequest)
		return
	}
	s.creates++
	j := &batchJob{id: fmt.Sprintf("batch_%d", s.creates), input: req.InputFileID, num: s.creates, status: "validating"}
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l struct {
			CustomID string `json:"custom_id"`
		}
		json.Unmarshal(sc.Bytes(), &l)
		s.submitted[l.CustomID]++
		j.total++
	}
	s.jobs[j.id] = j
	w.Write(s.jobJSON(j))
}

func (s *openaiBatchServer) jobJSON(j *batchJob) []byte {
	b, _ := json.Marshal(map[string]any{"id": j.id, "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": j.input,
		"completion_window": "24h", "created_at": 1700000000, "status": j.status, "output_file_id": j.output, "error_file_id": j.error,
		"request_counts": map[string]int{"total": j.total, "completed": map[bool]int{true: j.total - j.failed}[j.output != ""], "failed": j.failed}})
	return b
}

func (s *openaiBatchServer) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	j, ok := s.jobs[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		http.Error(w, `{"error":{"message":"no such batch"}}`, http.StatusNotFound)
		return
	}
	j.n++
	n := j.n
	switch {
	case j.output != "" || j.status == "expired":
	case n == 1:
		j.status = "validating"
	case n <= 1+s.inProgress:
		j.status = "in_progress"
	default:
		s.finish(j)
	}
	body := s.jobJSON(j)
	hook := s.onStatus
	s.mu.Unlock()
	if hook != nil {
		hook(j.id, n)
	}
	w.Write(body)
}

// finish answers a job's lines through the chat completions server (s.mu held).
func (s *openaiBatchServer) finish(j *batchJob) {
	var out, errs bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(s.files[j.input]))
	sc.Buffer(nil, 1<<24)
	expire := s.expire != nil && s.expire(j.num)
	for i := 0; sc.Scan(); i++ {
		var l struct {
			CustomID string          `json:"custom_id"`
			Body     json.RawMessage `json:"body"`
		}
		json.Unmarshal(sc.Bytes(), &l)
		if expire && i >= j.total/2 {
			fmt.Fprintf(&errs, `{"id":"r","custom_id":%q,"response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}`+"\n", l.CustomID)
			j.failed++
			continue
		}
		if s.fail != nil && s.fail(l.CustomID, s.submitted[l.CustomID]) {
			fmt.Fprintf(&errs, `{"id":"r","custom_id":%q,"response":{"status_code":500,"body":{"error":{"message":"server error"}}},"error":null}`+"\n", l.CustomID)
			j.failed++
			continue
		}
		if s.unusable != nil && s.unusable(l.CustomID, s.submitted[l.CustomID]) {
			fmt.Fprintf(&out, `{"id":"r","custom_id":%q,"response":{"status_code":200,"body":{"id":"chatcmpl-x","object":"chat.completion","model":"loopback-llm","choices":[]}},"error":null}`+"\n", l.CustomID)
			continue
		}
		req := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(l.Body))
		req.Header.Set("Authorization", "Bearer "+llmKey)
		rec := httptest.NewRecorder()
		s.llm.handle(rec, req)
		fmt.Fprintf(&out, `{"id":"r","custom_id":%q,"response":{"status_code":%d,"body":%s},"error":null}`+"\n", l.CustomID, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
	}
	j.output, j.error = j.id+"-out", j.id+"-err"
	s.files[j.output], s.files[j.error] = out.Bytes(), errs.Bytes()
	j.status = "completed"
	if expire {
		j.status = "expired"
	}
}

// batchExperiment is llmExperiment in batch mode with a short poll and a price.
func batchExperiment(t *testing.T, url string, batch bool) *experiment.Experiment {
	return batchExperimentMode(t, url, map[bool]string{true: "execution: {mode: batch, poll: 1ms}\n"}[batch])
}

func batchExperimentMode(t *testing.T, url, execution string) *experiment.Experiment {
	t.Helper()
	exp := llmExperiment(t, url, 12, 1, 4)
	src, err := os.ReadFile(exp.File)
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, "prices: {loopback-llm: {input: 100, output: 400}}\n"...)
	src = append(src, execution...)
	if err := os.WriteFile(exp.File, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if exp, err = experiment.Load(exp.File); err != nil {
		t.Fatal(err)
	}
	return exp
}

func TestOpenAIBatchKillAndResume(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	t.Run("execution.mode", func(t *testing.T) { testBatchKillAndResume(t, false) })
	// --batch: the resume, given no flag, keeps batch mode.
	t.Run("--batch", func(t *testing.T) { testBatchKillAndResume(t, true) })
}

func testBatchKillAndResume(t *testing.T, flag bool) {
	llm := newLLMServer(t)
	s := newOpenAIBatchServer(t, llm)
	llm.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		if d.agent == 1 && d.scenario == "donating" && d.turn == 0 {
			return 200, nil, "8" // out of range: re-asked in a follow-up batch
		}
		return 200, nil, normal
	}
	// The synchronous run the batch run must equal.
	exp := batchExperiment(t, s.URL, false)
	llm.learn(exp)
	syncDir := filepath.Join(t.TempDir(), "sync")
	syncRes, err := Run(context.Background(), exp, Options{Out: syncDir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	_, wantBytes := llmReadCSV(t, syncDir)

	// Three requests fail in their first job: retried in a new job.
	var failing sync.Map
	s.fail = func(id string, submission int) bool {
		if submission > 1 {
			return false
		}
		n := 0
		failing.Range(func(any, any) bool { n++; return true })
		if _, ok := failing.Load(id); ok || n < 3 {
			failing.Store(id, true)
			return true
		}
		return false
	}
	// Killed while the first job is in progress.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.onStatus = func(job string, n int) {
		if job == "batch_1" && n == 2 {
			cancel()
		}
	}
	exp = batchExperiment(t, s.URL, true)
	if flag {
		exp = batchExperimentMode(t, s.URL, "execution: {poll: 1ms}\n")
	}
	dir := filepath.Join(t.TempDir(), "batch")
	if _, err := Run(ctx, exp, Options{Out: dir, NoCache: true, Batch: flag}); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("a run cancelled mid-batch returned %v", err)
	}
	s.onStatus = nil
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := st.Batches()
	st.Close()
	if err != nil || len(jobs) != 1 || jobs[0].ID != "batch_1" || len(jobs[0].CustomIDs) != 72 {
		t.Fatalf("journaled jobs after the kill: %+v, %v", jobs, err)
	}
	res, err := Resume(context.Background(), dir, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	// batch_1 was polled, not resubmitted; the 3 failed requests went into batch_2 and the
	// re-ask of agent 1's donating rating into a follow-up job.
	if s.creates != 3 {
		t.Errorf("%d jobs created, want 3 (the first, the retry of failed requests, the re-ask)", s.creates)
	}
	for id, n := range s.submitted {
		_, failed := failing.Load(id)
		if want := map[bool]int{true: 2, false: 1}[failed]; n != want {
			t.Errorf("request %s was submitted %d times, want %d", id, n, want)
		}
	}
	s.mu.Unlock()
	if res.Decisions != 72 {
		t.Fatalf("%d decisions recorded, want 72", res.Decisions)
	}
	if _, got := llmReadCSV(t, dir); !bytes.Equal(got, wantBytes) {
		t.Fatal("the batch run's decisions.csv differs from the synchronous run's")
	}
	// Billed at the batch price: half the synchronous cost for the same tokens.
	sc, bc := syncRes.Usage[0], res.Usage[0]
	if sc.InputTokens != bc.InputTokens || sc.OutputTokens != bc.OutputTokens || math.Abs(bc.CostUSD-sc.CostUSD/2) > 1e-12 {
		t.Errorf("sync %d+%d tokens $%v; batch %d+%d tokens $%v", sc.InputTokens, sc.OutputTokens, sc.CostUSD, bc.InputTokens, bc.OutputTokens, bc.CostUSD)
	}
}

func TestOpenAIBatchExpiredAndFailedRequests(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	llm := newLLMServer(t)
	s := newOpenAIBatchServer(t, llm)
	s.inProgress = 0
	llm.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	exp := batchExperiment(t, s.URL, true)
	llm.learn(exp)
	// The first job expires half done; one request fails in every job: after batchAttempts
	// jobs it is recorded invalid with the provider's reason (on_error: record).
	s.expire = func(job int) bool { return job == 1 }
	var stubborn string
	var once sync.Once
	s.fail = func(id string, submission int) bool {
		once.Do(func() { stubborn = id })
		return id == stubborn
	}
	dir := filepath.Join(t.TempDir(), "batch")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 72 {
		t.Fatalf("%d decisions, want 72", res.Decisions)
	}
	s.mu.Lock()
	if n := s.submitted[stubborn]; n != batchAttempts {
		t.Errorf("the failing request was submitted %d times, want %d", n, batchAttempts)
	}
	s.mu.Unlock()
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	invalid := 0
	st.Decisions(func(d store.Decision) error {
		if !d.Reply.Valid() {
			invalid++
			if !strings.Contains(d.Reply.Invalid, "HTTP 500") || !strings.HasPrefix(d.Reply.Invalid, errorReason) {
				t.Errorf("invalid reason %q", d.Reply.Invalid)
			}
		}
		return nil
	})
	if invalid != 1 {
		t.Errorf("%d decisions invalid, want 1", invalid)
	}
	lines := 0
	for _, n := range s.submitted {
		lines += n
	}
	checkBatchCalls(t, dir, st, res, lines, 71)
}

// checkBatchCalls checks that a batch run's calls are the lines its jobs held, lines in all,
// succeeded of which came back with a reply (QA12 #7): every other line (an error for it, or
// none when its job expired) is a call and a failed call, as a 5xx is in synchronous mode, in
// the run's usage (the summary), prosim.db and decisions.csv; the decision recorded invalid
// after batchAttempts jobs has that many calls, all failed, and no cost.
func checkBatchCalls(t *testing.T, dir string, st *store.Store, res *Result, lines, succeeded int) {
	t.Helper()
	failed := lines - succeeded
	for _, u := range [][]BackendUsage{res.Usage, res.RunUsage} {
		if u[0].Calls != lines || u[0].FailedCalls != failed {
			t.Errorf("usage: %d calls, %d failed; want %d lines, %d without a reply", u[0].Calls, u[0].FailedCalls, lines, failed)
		}
	}
	calls, failedCalls := 0, 0
	st.Decisions(func(d store.Decision) error {
		calls += d.Reply.Calls
		failedCalls += d.Reply.FailedCalls
		if !d.Reply.Valid() && (d.Reply.Calls != batchAttempts || d.Reply.FailedCalls != batchAttempts || d.Reply.CostUSD != 0) {
			t.Errorf("the invalid decision: %d calls, %d failed, $%v; want %d, %d, 0", d.Reply.Calls, d.Reply.FailedCalls, d.Reply.CostUSD, batchAttempts, batchAttempts)
		}
		return nil
	})
	if calls != lines || failedCalls != failed {
		t.Errorf("prosim.db: %d calls, %d failed; want %d, %d", calls, failedCalls, lines, failed)
	}
	recs, col := decisionsCSV(t, dir)
	calls, failedCalls = 0, 0
	for _, r := range recs[1:] {
		c, _ := strconv.Atoi(r[col["calls"]])
		f, _ := strconv.Atoi(r[col["failed_calls"]])
		calls, failedCalls = calls+c, failedCalls+f
	}
	if calls != lines || failedCalls != failed {
		t.Errorf("decisions.csv: %d calls, %d failed; want %d, %d", calls, failedCalls, lines, failed)
	}
}

// Every LLM provider runs in batch mode: OpenAI, Anthropic and Gemini are accepted.
func TestBatchModeProviders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.yaml")
	if err := os.WriteFile(path, []byte(`name: a
study: vignettes
seed: 1
population: {source: sample, n: 2}
scenarios: [volunteering]
execution: {mode: batch}
backends:
  - provider: openai
    model: gpt-4o-mini
  - provider: anthropic
    model: claude-haiku-4-5
  - provider: gemini
    model: gemini-2.5-flash
`), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Prepare(exp, Options{Offline: true})
	if err != nil {
		t.Fatalf("openai, anthropic and gemini in batch mode: %v", err)
	}
	r.Close()
}

// A budget in batch mode: each request of the step reserves its worst case at the batch
// price; those that do not fit wait for the job of the others to settle and go in a follow-up
// job if they fit then, until one fits with none in flight; the run stops resumable, and
// resumed with a higher cap it equals a synchronous run.
func TestOpenAIBatchWithBudget(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	llm, s := newAnsweringBatchServer(t)
	exp := batchExperiment(t, s.URL, false)
	llm.learn(exp)
	syncDir := filepath.Join(t.TempDir(), "sync")
	syncRes, err := Run(context.Background(), exp, Options{Out: syncDir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	_, wantBytes := llmReadCSV(t, syncDir)
	cap := syncRes.Usage[0].CostUSD // the batch run costs half of this, but reserves more
	exp = batchExperiment(t, s.URL, true)
	dir := filepath.Join(t.TempDir(), "batch")
	var progress syncBuffer
	_, err = Run(context.Background(), exp, Options{Out: dir, NoCache: true, MaxCost: cap / 2, Progress: &progress})
	var stop *BudgetStop
	if !errors.As(err, &stop) {
		t.Fatalf("a capped batch run returned %v", err)
	}
	settled, _, n := runSpend(t, dir)
	if settled > cap/2 || n == 0 || n >= 72 {
		t.Fatalf("capped batch run: %d decisions, $%v spent of a $%v cap", n, settled, cap/2)
	}
	// It stops where a sequential run would (QA12 #8: it stopped when the first job's worst
	// case left no room, with room for more calls once it settled): the requests refused
	// beside the first job go in smaller follow-up jobs while they fit, and the stop comes
	// with none in flight, the next call's worst case more than the cap leaves.
	s.mu.Lock()
	jobs := s.creates
	s.mu.Unlock()
	if jobs < 2 || stop.Reserved != 0 || stop.Spent+stop.NextUSD <= stop.CapUSD || stop.Spent != settled {
		t.Errorf("capped batch run: %d jobs, stop %+v, $%v settled", jobs, *stop, settled)
	}
	if out := progress.String(); !strings.Contains(out, "more requests of the step wait for the spend cap: each goes in a follow-up job") {
		t.Errorf("progress does not say why the first job is smaller than the step:\n%s", out)
	}
	if msg := stop.Error(); !strings.Contains(msg, "none was in flight") || !strings.Contains(msg, "more than the $") {
		t.Errorf("stop message: %s", msg)
	}
	// Room for every request's worst case (bytes as tokens: about four times the actual input).
	if _, err := Resume(context.Background(), dir, Options{NoCache: true, MaxCost: 3 * cap}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	for id, k := range s.submitted {
		if k != 1 {
			t.Errorf("request %s submitted %d times", id, k)
		}
	}
	s.mu.Unlock()
	if _, got := llmReadCSV(t, dir); !bytes.Equal(got, wantBytes) {
		t.Fatal("the capped, resumed batch run's decisions.csv differs from the synchronous run's")
	}
}

// Two conditions with the same policy ask identical requests in one step: they share one line
// of the job (the copy is marked cached and costs nothing) and the step does not wait forever.
func TestOpenAIBatchIdenticalRequests(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	llm, s := newAnsweringBatchServer(t)
	exp := twinsExperiment(t, s.URL, true)
	llm.learn(exp)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, exp, Options{Out: filepath.Join(t.TempDir(), "dup"), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 108 || res.Usage[0].Calls != 72 || res.Usage[0].CacheHits != 36 {
		t.Fatalf("%d decisions, %d calls, %d shared; want 108, 72, 36", res.Decisions, res.Usage[0].Calls, res.Usage[0].CacheHits)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.submitted) != 72 {
		t.Errorf("%d distinct requests submitted, want 72", len(s.submitted))
	}
}

// The reply cache works in batch mode as in synchronous mode: a second run of the same
// experiment is served from it and submits no job.
func TestOpenAIBatchCacheReplay(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	llm, s := newAnsweringBatchServer(t)
	exp := batchExperiment(t, s.URL, true)
	llm.learn(exp)
	cache := filepath.Join(t.TempDir(), "cache.db")
	first := filepath.Join(t.TempDir(), "first")
	if _, err := Run(context.Background(), exp, Options{Out: first, CachePath: cache}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	jobs := s.creates
	s.mu.Unlock()
	second := filepath.Join(t.TempDir(), "second")
	res, err := Run(context.Background(), exp, Options{Out: second, CachePath: cache})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.creates != jobs || res.Usage[0].Calls != 0 || res.Usage[0].CacheHits != 72 {
		t.Fatalf("replay: %d new jobs, %d calls, %d cache hits", s.creates-jobs, res.Usage[0].Calls, res.Usage[0].CacheHits)
	}
	a, _ := llmReadCSV(t, first)
	b, _ := llmReadCSV(t, second)
	if !llmEqual(llmWithout(a, "cached"), llmWithout(b, "cached")) {
		t.Fatal("the replay's decisions differ")
	}
}

// twinsExperiment is batchExperiment with a second condition of the same policy, none2: its
// requests are identical to none's (twins), one draw each pair.
func twinsExperiment(t *testing.T, url string, batch bool) *experiment.Experiment {
	exp := batchExperiment(t, url, batch)
	exp.Conditions = append(exp.Conditions, experiment.Condition{Name: "none2", Policy: "none"})
	return exp
}

// Twins under a spend cap (QA13 F1): two conditions of one policy ask identical requests, and
// the cap holds some requests while a job is in flight. A twin held while its line went in an
// earlier job is still a copy: every call recorded is a line the server received, the spend is
// the sum of the paid lines, and each copy is recorded cached at no cost. (A held twin was given
// its line's reply again from the journaled job as a first waiter: both twins recorded one call
// at the same cost, the spend overstated by each.)
func TestOpenAIBatchTwinsUnderBudget(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	llm, s := newAnsweringBatchServer(t)
	exp := twinsExperiment(t, s.URL, false)
	llm.learn(exp)
	syncRes, err := Run(context.Background(), exp, Options{Out: filepath.Join(t.TempDir(), "sync"), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	exp = twinsExperiment(t, s.URL, true)
	dir := filepath.Join(t.TempDir(), "batch")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var progress syncBuffer
	_, err = Run(ctx, exp, Options{Out: dir, NoCache: true, MaxCost: syncRes.Usage[0].CostUSD / 2, Progress: &progress})
	if _, ok := errors.AsType[*BudgetStop](err); !ok {
		t.Fatalf("a capped batch run returned %v", err)
	}
	s.mu.Lock()
	lines, jobs := 0, s.creates
	for _, j := range s.jobs {
		lines += j.total
	}
	s.mu.Unlock()
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	var calls, copies, n int
	var cost float64
	byKey := map[string]store.Decision{}
	err = st.Decisions(func(d store.Decision) error {
		n++
		calls += d.Reply.Calls
		cost += d.Reply.CostUSD
		if d.Reply.Cached {
			copies++
			if d.Reply.Calls != 0 || d.Reply.CostUSD != 0 {
				t.Errorf("a copy recorded %d calls at $%v", d.Reply.Calls, d.Reply.CostUSD)
			}
		}
		// The twins of none and none2 (run ids none.r1, none2.r1): the same agent and scenario.
		if cond, rep, _ := strings.Cut(d.RunID, "."); cond == "none" || cond == "none2" {
			k := fmt.Sprintf("%d/%s/%s", d.AgentID, d.Scenario, rep)
			if o, ok := byKey[k]; ok && o.Reply.Calls > 0 && d.Reply.Calls > 0 {
				t.Errorf("twins %s both recorded as calls", k)
			}
			byKey[k] = d
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	settled, _, _ := runSpend(t, dir)
	t.Logf("%d jobs of %d lines; %d decisions recorded %d calls and %d copies at $%v, $%v spent", jobs, lines, n, calls, copies, cost, settled)
	if jobs < 2 || copies == 0 || calls != lines || math.Abs(settled-cost) > 1e-9 {
		t.Errorf("%d jobs of %d lines; %d decisions recorded %d calls and %d copies at $%v, $%v spent", jobs, lines, n, calls, copies, cost, settled)
	}
	// Each job's end is told once (QA13 F2: the held twins waited on the earlier jobs again,
	// and 10 jobs printed 71 "completed" lines).
	if done := strings.Count(progress.String(), ": completed "); done != jobs {
		t.Errorf("%d jobs, %d completed lines in the progress:\n%s", jobs, done, progress.String())
	}
}
