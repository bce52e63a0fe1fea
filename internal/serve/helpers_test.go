package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

const testKeyEnv = "PROSIM_SERVE_TEST_KEY"

// slowLLM is a loopback OpenAI-compatible server that answers after a delay. Every fifth
// first request, and every re-ask, gets a reply that is not JSON, so some decisions end
// invalid and the valid rate moves while the run goes on.
type slowLLM struct {
	*httptest.Server
	delay atomic.Int64 // nanoseconds; a test may change it while a run goes on
	n     atomic.Int64
}

func newSlowLLM(t testing.TB, delay time.Duration) *slowLLM {
	s := &slowLLM{}
	s.delay.Store(int64(delay))
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *slowLLM) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Messages []json.RawMessage `json:"messages"`
		N        int               `json:"n"`
	}
	json.Unmarshal(body, &req)
	select {
	case <-time.After(time.Duration(s.delay.Load())):
	case <-r.Context().Done():
		return
	}
	k := s.n.Add(1)
	var choices []string
	for i := range max(1, req.N) {
		content := fmt.Sprintf(`{"willingness": %d}`, 1+(k+int64(i))%7)
		if k%5 == 0 || len(req.Messages) > 2 {
			content = `I would rather not say <b>anything</b>.`
		}
		c, _ := json.Marshal(content)
		choices = append(choices, fmt.Sprintf(`{"index":%d,"finish_reason":"stop","message":{"role":"assistant","content":%s}}`, i, c))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1700000000,"model":"loopback-llm","choices":[%s],"usage":{"prompt_tokens":%d,"completion_tokens":9,"total_tokens":%d}}`,
		k, strings.Join(choices, ","), len(body)/4, len(body)/4+9)
}

// llmExperiment is a small Study 1 on the slow loopback server, priced so cost is known.
func llmExperiment(t testing.TB, url string, agents, concurrency int) *experiment.Experiment {
	t.Helper()
	t.Setenv(testKeyEnv, "sk-serve-test-not-a-key")
	src := fmt.Sprintf(`name: live
study: vignettes
seed: 3
replicates: 1
concurrency: %d
max_repairs: 1
population: {source: sample, n: %d}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
prices:
  loopback-llm: {input: 0.15, output: 0.60}
backends:
  - provider: openai
    model: loopback-llm
    base_url: %s/v1
    api_key_env: %s
    max_concurrency: %d
`, concurrency, agents, url, testKeyEnv, concurrency)
	path := filepath.Join(t.TempDir(), "live.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// builtinRun runs a small Study 1 on the behavioural model into root/name.
func builtinRun(t testing.TB, root, name string) string {
	t.Helper()
	return builtinRunN(t, root, name, 6)
}

// builtinRunN is builtinRun with n agents (4n decisions).
func builtinRunN(t testing.TB, root, name string, n int) string {
	t.Helper()
	src := `name: small
study: vignettes
seed: 5
replicates: 1
population: {source: sample, n: ` + strconv.Itoa(n) + `}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
`
	path := filepath.Join(t.TempDir(), "small.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, name)
	if _, err := engine.Run(context.Background(), e, engine.Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}
