package engine

// End-to-end tests of batch mode against loopback servers that speak Anthropic's Message
// Batches API and Gemini's batch jobs (create, status transitions, results with some failed
// lines, expiry). Each serves its synchronous API too, with the same answers, so that a batch
// run's decisions can be compared with a synchronous run's.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// provRequest is what the fake servers read of a request, whatever the protocol.
type provRequest struct {
	customID       string
	system, prompt string
	turns          int
}

// provServer is a loopback Anthropic or Gemini endpoint, synchronous and batch.
type provServer struct {
	*httptest.Server
	t    *testing.T
	kind string // anthropic or gemini
	// inProgress is how many status requests a job answers as running before it ends.
	inProgress int
	// fail, if set, makes a request's result an error (by custom id and how many jobs held
	// that id so far).
	fail func(customID string, submission int) bool
	// unusable, if set, makes a request's result one the provider billed but that cannot be
	// used (Anthropic: a succeeded result that is not a message; Gemini: an empty response).
	unusable func(customID string, submission int) bool
	// expire, if set, makes a job expire with only its first half answered.
	expire func(job int) bool
	// onStatus, if set, is called with the job and how many times its status was asked.
	onStatus func(job string, n int)

	mu        sync.Mutex
	jobs      map[string]*provJob
	submitted map[string]int // custom id -> jobs that held it
	creates   int
	syncCalls int
}

type provJob struct {
	id      string
	num, n  int
	reqs    []provRequest
	ended   bool
	expired bool
	results []json.RawMessage // one per answered or failed request, in order
	failed  int
}

const provVersion = "loopback-llm-20260101" // the snapshot the servers say answered

func newProvServer(t *testing.T, kind string) *provServer {
	s := &provServer{t: t, kind: kind, inProgress: 2, jobs: map[string]*provJob{}, submitted: map[string]int{}}
	mux := http.NewServeMux()
	switch kind {
	case "anthropic":
		mux.HandleFunc("POST /v1/messages", s.anthropicMessage)
		mux.HandleFunc("POST /v1/messages/batches", s.anthropicCreate)
		mux.HandleFunc("GET /v1/messages/batches/{id}", s.anthropicGet)
		mux.HandleFunc("GET /v1/messages/batches/{id}/results", s.anthropicResults)
	case "gemini":
		mux.HandleFunc("POST /v1beta/models/{call}", s.geminiModels)
		mux.HandleFunc("GET /v1beta/batches/{id}", s.geminiGet)
	}
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *provServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	h := map[string]string{"anthropic": "X-Api-Key", "gemini": "X-Goog-Api-Key"}[s.kind]
	if r.Header.Get(h) != llmKey {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return false
	}
	return true
}

// answer is a request's rating, a function of what was asked; tokens are the prompt's
// length / 4 in and 9 out.
func (s *provServer) answer(q provRequest) (content string, in, out int) {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d", q.system, q.prompt, q.turns)))
	return fmt.Sprintf(`{"willingness": %d}`, 1+int(sum[0])%7), (len(q.system) + len(q.prompt)) / 4, 9
}

// --- Anthropic ---

type anthropicBody struct {
	System []struct {
		Text string `json:"text"`
	} `json:"system"`
	Messages []llmMessage `json:"messages"`
}

func (b anthropicBody) request(customID string) provRequest {
	q := provRequest{customID: customID, turns: (len(b.Messages) - 1) / 2}
	for _, x := range b.System {
		q.system += x.Text
	}
	if len(b.Messages) > 0 {
		q.prompt = b.Messages[0].text()
	}
	return q
}

func (s *provServer) anthropicMessageJSON(q provRequest) json.RawMessage {
	content, in, out := s.answer(q)
	return json.RawMessage(fmt.Sprintf(`{"id":"msg_1","type":"message","role":"assistant","model":%q,"content":[{"type":"tool_use","id":"toolu_1","name":"response","input":%s}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":%d}}`,
		provVersion, content, in, out))
}

func (s *provServer) anthropicMessage(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var b anthropicBody
	json.NewDecoder(r.Body).Decode(&b)
	s.mu.Lock()
	s.syncCalls++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.anthropicMessageJSON(b.request("")))
}

func (s *provServer) anthropicCreate(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var body struct {
		Requests []struct {
			CustomID string        `json:"custom_id"`
			Params   anthropicBody `json:"params"`
		} `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Requests) == 0 {
		http.Error(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad batch"}}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creates++
	j := &provJob{id: fmt.Sprintf("msgbatch_%d", s.creates), num: s.creates}
	for _, q := range body.Requests {
		j.reqs = append(j.reqs, q.Params.request(q.CustomID))
		s.submitted[q.CustomID]++
	}
	s.jobs[j.id] = j
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.anthropicJobJSON(j))
}

func (s *provServer) anthropicJobJSON(j *provJob) []byte {
	status, counts := "in_progress", map[string]int{"processing": len(j.reqs)}
	if j.ended {
		status = "ended"
		counts = map[string]int{"succeeded": len(j.results) - j.failed, "errored": j.failed, "expired": len(j.reqs) - len(j.results)}
	}
	b, _ := json.Marshal(map[string]any{"id": j.id, "type": "message_batch", "processing_status": status, "request_counts": counts,
		"created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-02T00:00:00Z", "ended_at": nil, "archived_at": nil,
		"cancel_initiated_at": nil, "results_url": map[bool]any{true: s.URL + "/v1/messages/batches/" + j.id + "/results"}[j.ended]})
	return b
}

// step advances a job on a status request and returns how many it has had (s.mu held).
func (s *provServer) step(j *provJob) int {
	j.n++
	if !j.ended && j.n > s.inProgress {
		s.finish(j)
	}
	return j.n
}

// finish answers a job's requests (s.mu held).
func (s *provServer) finish(j *provJob) {
	j.ended = true
	j.expired = s.expire != nil && s.expire(j.num)
	for i, q := range j.reqs {
		if j.expired && i >= len(j.reqs)/2 {
			if s.kind == "anthropic" {
				j.results = append(j.results, json.RawMessage(fmt.Sprintf(`{"custom_id":%q,"result":{"type":"expired"}}`, q.customID)))
				j.failed++
			}
			continue
		}
		if s.fail != nil && s.fail(q.customID, s.submitted[q.customID]) {
			j.failed++
			if s.kind == "anthropic" {
				j.results = append(j.results, json.RawMessage(fmt.Sprintf(`{"custom_id":%q,"result":{"type":"errored","error":{"type":"error","error":{"type":"api_error","message":"server error"}}}}`, q.customID)))
			} else {
				j.results = append(j.results, json.RawMessage(fmt.Sprintf(`{"error":{"code":500,"message":"server error"},"metadata":{"custom_id":%q}}`, q.customID)))
			}
			continue
		}
		if s.unusable != nil && s.unusable(q.customID, s.submitted[q.customID]) {
			if s.kind == "anthropic" {
				j.results = append(j.results, json.RawMessage(fmt.Sprintf(`{"custom_id":%q,"result":{"type":"succeeded","message":{"id":"msg_x","type":"message"}}}`, q.customID)))
			} else {
				j.results = append(j.results, json.RawMessage(fmt.Sprintf(`{"response":{},"metadata":{"custom_id":%q,"max_output_tokens":"2048"}}`, q.customID)))
			}
			continue
		}
		if s.kind == "anthropic" {
			j.results = append(j.results, json.RawMessage(fmt.Sprintf(`{"custom_id":%q,"result":{"type":"succeeded","message":%s}}`, q.customID, s.anthropicMessageJSON(q))))
		} else {
			j.results = append(j.results, json.RawMessage(fmt.Sprintf(`{"response":%s,"metadata":{"custom_id":%q,"max_output_tokens":"2048"}}`, s.geminiResponseJSON(q), q.customID)))
		}
	}
}

func (s *provServer) anthropicGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	j, ok := s.jobs[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		http.Error(w, `{"type":"error","error":{"type":"not_found_error","message":"no such batch"}}`, http.StatusNotFound)
		return
	}
	n := s.step(j)
	body, hook := s.anthropicJobJSON(j), s.onStatus
	s.mu.Unlock()
	if hook != nil {
		hook(j.id, n)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (s *provServer) anthropicResults(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	j, ok := s.jobs[r.PathValue("id")]
	if !ok || !j.ended {
		s.mu.Unlock()
		http.Error(w, `{"type":"error","error":{"type":"invalid_request_error","message":"batch not ended"}}`, http.StatusBadRequest)
		return
	}
	var out bytes.Buffer
	for _, l := range j.results {
		out.Write(l)
		out.WriteByte('\n')
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-jsonl")
	w.Write(out.Bytes())
}

// --- Gemini ---

type geminiContent struct {
	Parts []struct {
		Text string `json:"text"`
	} `json:"parts"`
}

func (c geminiContent) text() string {
	var b strings.Builder
	for _, p := range c.Parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

type geminiBody struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
}

func (b geminiBody) request(customID string) provRequest {
	q := provRequest{customID: customID, turns: (len(b.Contents) - 1) / 2}
	if b.SystemInstruction != nil {
		q.system = b.SystemInstruction.text()
	}
	if len(b.Contents) > 0 {
		q.prompt = b.Contents[0].text()
	}
	return q
}

func (s *provServer) geminiResponseJSON(q provRequest) json.RawMessage {
	content, in, out := s.answer(q)
	c, _ := json.Marshal(content)
	return json.RawMessage(fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":%q}`,
		c, in, out, in+out, provVersion))
}

func (s *provServer) geminiModels(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	_, call, _ := strings.Cut(r.PathValue("call"), ":")
	w.Header().Set("Content-Type", "application/json")
	switch call {
	case "generateContent":
		var b geminiBody
		json.NewDecoder(r.Body).Decode(&b)
		s.mu.Lock()
		s.syncCalls++
		s.mu.Unlock()
		w.Write(s.geminiResponseJSON(b.request("")))
	case "batchGenerateContent":
		var body struct {
			Batch struct {
				InputConfig struct {
					Requests struct {
						Requests []struct {
							Request  geminiBody        `json:"request"`
							Metadata map[string]string `json:"metadata"`
						} `json:"requests"`
					} `json:"requests"`
				} `json:"inputConfig"`
			} `json:"batch"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Batch.InputConfig.Requests.Requests) == 0 {
			http.Error(w, `{"error":{"code":400,"message":"bad batch","status":"INVALID_ARGUMENT"}}`, http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.creates++
		j := &provJob{id: fmt.Sprintf("batches/job%d", s.creates), num: s.creates}
		for _, q := range body.Batch.InputConfig.Requests.Requests {
			id := q.Metadata["custom_id"]
			j.reqs = append(j.reqs, q.Request.request(id))
			s.submitted[id]++
		}
		s.jobs[j.id] = j
		w.Write(s.geminiJobJSON(j))
	default:
		http.NotFound(w, r)
	}
}

func (s *provServer) geminiJobJSON(j *provJob) []byte {
	meta := map[string]any{"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
		"model": "models/loopback-llm", "displayName": "prosim", "state": "BATCH_STATE_PENDING"}
	op := map[string]any{"name": j.id, "metadata": meta}
	switch {
	case j.ended:
		meta["state"] = map[bool]string{false: "BATCH_STATE_SUCCEEDED", true: "BATCH_STATE_EXPIRED"}[j.expired]
		meta["output"] = map[string]any{"inlinedResponses": map[string]any{"inlinedResponses": j.results}}
		op["done"] = true
	case j.n > 1:
		meta["state"] = "BATCH_STATE_RUNNING"
	}
	b, _ := json.Marshal(op)
	return b
}

func (s *provServer) geminiGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	j, ok := s.jobs["batches/"+r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		http.Error(w, `{"error":{"code":404,"message":"no such batch","status":"NOT_FOUND"}}`, http.StatusNotFound)
		return
	}
	n := s.step(j)
	body, hook := s.geminiJobJSON(j), s.onStatus
	s.mu.Unlock()
	if hook != nil {
		hook(j.id, n)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// provExperiment is a small Study 1 (12 agents x 3 scenarios x 2 conditions: 72 decisions)
// on the server's provider, priced, in batch mode or not.
func provExperiment(t *testing.T, s *provServer, execution string) *experiment.Experiment {
	t.Helper()
	src := fmt.Sprintf(`name: prov
study: vignettes
seed: 5
concurrency: 4
max_repairs: 1
population: {source: sample, n: 12}
scenarios: [volunteering, donating, recycling]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
backends:
  - provider: %s
    model: loopback-llm
    base_url: %s
    api_key_env: %s
    temperature: 1.0
prices: {loopback-llm: {input: 100, output: 400}}
%s`, s.kind, s.URL, llmKeyEnv, execution)
	path := filepath.Join(t.TempDir(), "prov.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Killed while its first job is in progress, a batch run resumes by polling that job (no
// request is submitted twice but those that failed in it), records every decision once, equals
// a synchronous run, costs half as much for the same tokens, and records the model version.
func TestProviderBatchKillAndResume(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	for _, kind := range []string{"anthropic", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			s := newProvServer(t, kind)
			syncDir := filepath.Join(t.TempDir(), "sync")
			syncRes, err := Run(context.Background(), provExperiment(t, s, ""), Options{Out: syncDir, NoCache: true})
			if err != nil {
				t.Fatal(err)
			}
			recs, wantBytes := llmReadCSV(t, syncDir)
			if s.syncCalls != 72 {
				t.Fatalf("%d synchronous calls, want 72", s.syncCalls)
			}
			col := -1
			for i, h := range recs[0] {
				if h == "model_version" {
					col = i
				}
			}
			if col < 0 || recs[1][col] != provVersion {
				t.Fatalf("model_version column %d: %v", col, recs[1])
			}

			// Three requests fail in their first job: retried in a new one.
			var failing sync.Map
			var nfail int
			s.fail = func(id string, submission int) bool { // called with s.mu held
				if submission > 1 {
					return false
				}
				if _, ok := failing.Load(id); ok || nfail < 3 {
					if !ok {
						nfail++
					}
					failing.Store(id, true)
					return true
				}
				return false
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s.onStatus = func(job string, n int) {
				if s.creates == 1 && n == 2 {
					cancel()
				}
			}
			dir := filepath.Join(t.TempDir(), "batch")
			if _, err := Run(ctx, provExperiment(t, s, "execution: {mode: batch, poll: 1ms}\n"), Options{Out: dir, NoCache: true}); err == nil || !strings.Contains(err.Error(), "interrupted") {
				t.Fatalf("a run cancelled mid-batch returned %v", err)
			}
			s.mu.Lock()
			s.onStatus = nil
			s.mu.Unlock()
			st, err := store.Open(filepath.Join(dir, dbFile))
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := st.Batches()
			st.Close()
			if err != nil || len(jobs) != 1 || len(jobs[0].CustomIDs) != 72 {
				t.Fatalf("journaled jobs after the kill: %d, %v", len(jobs), err)
			}
			res, err := Resume(context.Background(), dir, Options{NoCache: true})
			if err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			if s.creates != 2 {
				t.Errorf("%d jobs created, want 2 (the first, polled again on resume, and the retry of its failed requests)", s.creates)
			}
			for id, n := range s.submitted {
				_, failed := failing.Load(id)
				if want := map[bool]int{true: 2, false: 1}[failed]; n != want {
					t.Errorf("request %s was submitted %d times, want %d", id, n, want)
				}
			}
			if len(s.submitted) != 72 || s.syncCalls != 72 {
				t.Errorf("%d distinct requests submitted, %d synchronous calls; want 72, none new", len(s.submitted), s.syncCalls-72)
			}
			s.mu.Unlock()
			if res.Decisions != 72 {
				t.Fatalf("%d decisions recorded, want 72", res.Decisions)
			}
			if _, got := llmReadCSV(t, dir); !bytes.Equal(got, wantBytes) {
				t.Fatal("the batch run's decisions.csv differs from the synchronous run's")
			}
			sc, bc := syncRes.Usage[0], res.Usage[0]
			if sc.InputTokens != bc.InputTokens || sc.OutputTokens != bc.OutputTokens || sc.CostUSD == 0 || math.Abs(bc.CostUSD-sc.CostUSD/2) > 1e-12 {
				t.Errorf("sync %d+%d tokens $%v; batch %d+%d tokens $%v", sc.InputTokens, sc.OutputTokens, sc.CostUSD, bc.InputTokens, bc.OutputTokens, bc.CostUSD)
			}
		})
	}
}

// A job that expires half done sends its unanswered requests into a new job; a request that
// fails in every job is recorded invalid with the provider's reason after batchAttempts jobs.
func TestProviderBatchExpiredAndFailedRequests(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	for _, kind := range []string{"anthropic", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			s := newProvServer(t, kind)
			s.inProgress = 0
			s.expire = func(job int) bool { return job == 1 }
			var stubborn string
			s.fail = func(id string, submission int) bool {
				if stubborn == "" {
					stubborn = id
				}
				return id == stubborn
			}
			dir := filepath.Join(t.TempDir(), "batch")
			res, err := Run(context.Background(), provExperiment(t, s, "execution: {mode: batch, poll: 1ms}\n"), Options{Out: dir, NoCache: true})
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
			expired := 0
			for id, n := range s.submitted {
				if id != stubborn && n == 2 {
					expired++
				} else if id != stubborn && n != 1 {
					t.Errorf("request %s submitted %d times", id, n)
				}
			}
			if expired != 36 {
				t.Errorf("%d requests resubmitted after the expiry, want 36", expired)
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
					if !strings.Contains(d.Reply.Invalid, "server error") || !strings.HasPrefix(d.Reply.Invalid, errorReason) {
						t.Errorf("invalid reason %q", d.Reply.Invalid)
					}
				} else if d.Reply.ModelVersion != provVersion {
					t.Errorf("model version %q", d.Reply.ModelVersion)
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
		})
	}
}

// Anthropic's and Gemini's batch jobs under a spend cap: the requests that do not fit beside
// the first job go in follow-up jobs while they fit, and the run stops with none in flight,
// the spend within the cap (QA12 #8).
func TestProviderBatchWithBudget(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	for _, kind := range []string{"anthropic", "gemini"} {
		t.Run(kind, func(t *testing.T) {
			s := newProvServer(t, kind)
			s.inProgress = 0
			exp := provExperiment(t, s, "execution: {mode: batch, poll: 1ms}\n")
			dir := filepath.Join(t.TempDir(), "batch")
			_, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, MaxCost: 1})
			var stop *BudgetStop
			if !errors.As(err, &stop) {
				t.Fatalf("a capped batch run returned %v", err)
			}
			settled, _, n := runSpend(t, dir)
			s.mu.Lock()
			jobs := s.creates
			s.mu.Unlock()
			if settled > 1 || n == 0 || n >= 72 || jobs < 2 || stop.Reserved != 0 || stop.Spent+stop.NextUSD <= stop.CapUSD {
				t.Fatalf("%d decisions in %d jobs, $%v spent; stop %+v", n, jobs, settled, *stop)
			}
		})
	}
}
