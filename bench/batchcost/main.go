// Command batchcost compares what a Study 1 run costs in batch mode and in synchronous mode,
// per 10,000 decisions, against a loopback server that speaks each provider's synchronous and
// batch APIs (OpenAI: chat completions, file upload, batch create, status, output file;
// Anthropic: messages and Message Batches; Gemini: generateContent and inline batch jobs) and
// reports the same usage for the same request either way.
//
//	go run ./bench/batchcost [-n 10000] [-provider all|openai|anthropic|gemini] [-model M]
//
// Both runs go through the real engine and chain (cache off); costs are the engine's own
// meter at the price table's list price (synchronous) and batch price (batch mode). The ratio
// should be 0.5: the providers bill batch jobs at half price.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prosim/prosim/bench/internal/study1"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

func main() {
	n := flag.Int("n", 10000, "decisions per run (rounded up to whole agents)")
	prov := flag.String("provider", "all", "openai, anthropic, gemini or all")
	model := flag.String("model", "", "model name (priced from the default price table); default gpt-4o-mini, claude-haiku-4-5, gemini-2.5-flash")
	flag.Parse()
	// The loopback server checks no key, but the Anthropic and Gemini clients require one: a
	// dummy, in this process's environment only.
	os.Setenv(keyEnv, "loopback-key")
	provs := []string{"openai", "anthropic", "gemini"}
	if *prov != "all" {
		provs = []string{*prov}
	}
	for _, p := range provs {
		m := *model
		if m == "" {
			m = defaultModel[p]
		}
		if m == "" {
			fmt.Fprintf(os.Stderr, "batchcost: unknown provider %q\n", p)
			os.Exit(2)
		}
		if err := bench(*n, p, m); err != nil {
			fmt.Fprintln(os.Stderr, "batchcost:", err)
			os.Exit(1)
		}
	}
}

const keyEnv = "PROSIM_BATCHCOST_KEY"

var defaultModel = map[string]string{"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}

const scenarios, conditions = study1.Scenarios, study1.Conditions

func bench(n int, prov, model string) error {
	tmp, err := os.MkdirTemp("", "prosim-batchcost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	srv := newServer()
	defer srv.Close()
	agents := study1.Agents(n, 1)
	decisions := agents * scenarios * conditions
	fmt.Printf("study 1: %d agents x %d scenarios x %d conditions = %d decisions, %s:%s on a loopback server\n", agents, scenarios, conditions, decisions, prov, model)
	base := srv.URL + map[string]string{"openai": "/v1"}[prov]
	var costs [2]float64
	for i, mode := range []string{"sync", "batch"} {
		exp, err := experiment.Parse([]byte(study1.YAML("batchcost", 1, 32, agents,
			fmt.Sprintf("execution: {mode: %s%s}\n", mode, map[string]string{"batch": ", poll: 10ms"}[mode]),
			fmt.Sprintf(`  - provider: %s
    model: %s
    base_url: %s
    api_key_env: %s
    temperature: 1.0`, prov, model, base, keyEnv))), filepath.Join(tmp, mode+".yaml"))
		if err != nil {
			return err
		}
		start := time.Now()
		res, err := engine.Run(context.Background(), exp, engine.Options{Out: filepath.Join(tmp, mode), NoCache: true})
		if err != nil {
			return fmt.Errorf("%s run: %w", mode, err)
		}
		u := res.Usage[0]
		if !u.CostKnown {
			return fmt.Errorf("no price for %s", model)
		}
		costs[i] = u.CostUSD
		fmt.Printf("%-5s: %d decisions, %d calls, %d input + %d output tokens, $%.4f ($%.4f per 10,000 decisions), %s\n",
			mode, res.Decisions, u.Calls, u.InputTokens, u.OutputTokens, u.CostUSD, u.CostUSD*10000/float64(res.Decisions), time.Since(start).Round(time.Millisecond))
	}
	srv.mu.Lock()
	fmt.Printf("server: %d synchronous calls, %d batch jobs (largest %d bytes, %.2f MiB)\n", srv.calls, srv.jobs, srv.largest, float64(srv.largest)/(1<<20))
	srv.calls, srv.jobs, srv.largest = 0, 0, 0
	srv.mu.Unlock()
	fmt.Printf("cost ratio batch/sync: %.4f\n", costs[1]/costs[0])
	return nil
}

// server is a loopback OpenAI chat completions and Batch API.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	polls map[string]int
	calls int
	jobs  int
	// largest is the largest batch creation request, in bytes.
	largest int
	// Anthropic and Gemini jobs: their answers, ready when polled a second time.
	answers map[string][]json.RawMessage
}

func newServer() *server {
	s := &server{files: map[string][]byte{}, polls: map[string]int{}, answers: map[string][]json.RawMessage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.calls++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(completion(body))
	})
	mux.HandleFunc("POST /v1/files", func(w http.ResponseWriter, r *http.Request) {
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, `{"error":{"message":"no file"}}`, http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(f)
		s.mu.Lock()
		id := fmt.Sprintf("file-%d", len(s.files)+1)
		s.files[id] = data
		s.mu.Unlock()
		fmt.Fprintf(w, `{"id":%q,"object":"file","bytes":%d,"created_at":1700000000,"filename":"in.jsonl","purpose":"batch","status":"processed"}`, id, len(data))
	})
	mux.HandleFunc("GET /v1/files/{id}/content", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		data := s.files[r.PathValue("id")]
		s.mu.Unlock()
		w.Write(data)
	})
	mux.HandleFunc("POST /v1/batches", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			InputFileID string `json:"input_file_id"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		s.mu.Lock()
		s.jobs++
		s.largest = max(s.largest, len(s.files[req.InputFileID]))
		id := fmt.Sprintf("batch_%d|%s", s.jobs, req.InputFileID)
		s.mu.Unlock()
		fmt.Fprintf(w, `{"id":%q,"object":"batch","endpoint":"/v1/chat/completions","input_file_id":%q,"completion_window":"24h","created_at":1700000000,"status":"validating"}`, id, req.InputFileID)
	})
	mux.HandleFunc("GET /v1/batches/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		input := id[bytes.IndexByte([]byte(id), '|')+1:]
		s.mu.Lock()
		s.polls[id]++
		status, out := "in_progress", ""
		if s.polls[id] > 1 { // in progress once, then completed: answer every line
			status, out = "completed", id+"-out"
			if _, done := s.files[out]; !done {
				s.files[out] = answerAll(s.files[input])
			}
		}
		s.mu.Unlock()
		fmt.Fprintf(w, `{"id":%q,"object":"batch","endpoint":"/v1/chat/completions","input_file_id":%q,"completion_window":"24h","created_at":1700000000,"status":%q,"output_file_id":%q}`, id, input, status, out)
	})
	s.anthropic(mux)
	s.gemini(mux)
	s.Server = httptest.NewServer(mux)
	return s
}

// answerAll answers every line of a batch input file as the chat completions endpoint would.
func answerAll(in []byte) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l struct {
			CustomID string          `json:"custom_id"`
			Body     json.RawMessage `json:"body"`
		}
		json.Unmarshal(sc.Bytes(), &l)
		fmt.Fprintf(&out, `{"id":"r","custom_id":%q,"response":{"status_code":200,"body":%s},"error":null}`+"\n", l.CustomID, completion(l.Body))
	}
	return out.Bytes()
}

// completion answers a chat completion body: a valid rating, the model as a dated snapshot (as
// OpenAI names it), and usage by the body's length, so that a request costs the same tokens in
// either mode.
func completion(body []byte) []byte {
	sum := sha256.Sum256(body)
	var req struct {
		Model string `json:"model"`
	}
	json.Unmarshal(body, &req)
	content, _ := json.Marshal(fmt.Sprintf(`{"willingness": %d}`, 1+int(sum[0])%7))
	return fmt.Appendf(nil, `{"id":"c","object":"chat.completion","created":1700000000,"model":%q,"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":%s}}],"usage":{"prompt_tokens":%d,"completion_tokens":8,"total_tokens":%d}}`,
		req.Model+"-2024-07-18", content, len(body)/4, len(body)/4+8)
}
