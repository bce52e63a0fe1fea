package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/tokens"
	"github.com/prosim/prosim/internal/experiment"
)

// recorder answers every decision by a rule and records the requests.
type recorder struct {
	mu     sync.Mutex
	reqs   []backend.Request
	answer func(req backend.Request) string
}

func (c *recorder) backends() func(experiment.Backend) (backend.Backend, error) {
	return func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			c.mu.Lock()
			c.reqs = append(c.reqs, req)
			c.mu.Unlock()
			return backend.Reply{Raw: c.answer(req), Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}
}

// matches checks that the recorded requests are exactly what estimate e counted: as many
// decisions, as many distinct requests (an agent's identical requests are one call), and the
// same token estimates for those.
func (c *recorder) matches(t *testing.T, e Estimate) {
	t.Helper()
	var in, out int
	var count *tokens.Counter
	if e.Tokenizer != "" { // the model's tokenizer: every text of these small runs counted exactly
		count = tokens.For("openai", "gpt-4o-mini")
		if n := 2 * len(c.reqs); n > tokens.Exact {
			t.Fatalf("%d texts: more than are counted exactly, so the total would depend on their order", n)
		}
	}
	distinct := map[backend.Key]bool{}
	for _, req := range c.reqs {
		k := backend.KeyOf(backend.BackendID{}, req)
		if distinct[k] {
			continue
		}
		distinct[k] = true
		i, o := backend.EstimateIO(req)
		if count != nil {
			i, o = backend.EstimateIOWith(req, count.Count)
		}
		in += i
		out += o
	}
	if len(c.reqs) != e.Decisions || len(distinct) != e.Calls || in != e.InputTokens || out != e.OutputTokens {
		t.Errorf("run with the placeholder answers: %d requests, %d distinct, %d input and %d output tokens; estimate %d, %d, %d, %d",
			len(c.reqs), len(distinct), in, out, e.Decisions, e.Calls, e.InputTokens, e.OutputTokens)
	}
}

func estimateOf(t *testing.T, src string) Estimate {
	t.Helper()
	r, err := Prepare(load(t, src, 4), Options{NoCache: true, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	est, err := r.Estimate()
	if err != nil {
		t.Fatal(err)
	}
	if len(est) != 1 {
		t.Fatalf("%d estimates, want 1", len(est))
	}
	return est[0]
}

// TestEstimateNetwork: when every agent answers 4 and 4, as the estimate assumes, a Study 3
// run asks exactly the requests the estimate counted, with the same prompts (observations and
// history included), so the same token estimate.
func TestEstimateNetwork(t *testing.T) {
	src := strings.Replace(netExp, "concurrency: CONC\n", "", 1) + "backends:\n  - {provider: openai, model: gpt-4o-mini}\n"
	e := estimateOf(t, src)
	if !strings.Contains(e.Note, "placeholder") || math.IsNaN(e.CostUSD) || e.CostUSD <= 0 {
		t.Errorf("estimate note %q, cost %v", e.Note, e.CostUSD)
	}
	if math.Abs(e.BatchCostUSD-e.CostUSD/2) > 1e-12 {
		t.Errorf("batch cost %v of a synchronous cost %v: want half", e.BatchCostUSD, e.CostUSD)
	}
	// 60 agents x 4 rounds x (reward + its control) x 2 replicates; the reward world's requests
	// that equal its control's (before its treatment reaches an agent) are no call.
	if e.Decisions != 60*4*2*2 || e.Calls >= e.Decisions || e.Copies != e.Decisions-e.Calls || e.MaxCalls != e.Decisions ||
		!strings.Contains(e.Note, fmt.Sprintf("%d requests are an agent's identical requests", e.Copies)) || !strings.Contains(e.Note, fmt.Sprintf("at most %d calls", e.Decisions)) {
		t.Errorf("estimate: %d decisions, %d calls, %d copies, at most %d calls; want %d decisions, the copies no call\nnote: %s", e.Decisions, e.Calls, e.Copies, e.MaxCalls, 60*4*2*2, e.Note)
	}
	rec := &recorder{answer: func(backend.Request) string { return `{"willingness": 4, "unfairness": 4}` }}
	exp := load(t, src, 4)
	if _, err := Run(context.Background(), exp, Options{Out: t.TempDir() + "/run", NoCache: true, Backends: rec.backends()}); err != nil {
		t.Fatal(err)
	}
	rec.matches(t, e)
}

// TestEstimateCountsBuiltinWithoutPlaying: on the behavioural model a study that counts its
// decisions (study.Counted) is estimated from that count, which must equal what playing the
// study counts (the same design on an LLM backend) and what the run asks. network.store:
// summary is estimated too (it panicked: it has no per-decision params to journal).
func TestEstimateCountsBuiltinWithoutPlaying(t *testing.T) {
	vig := "name: v\nstudy: vignettes\nseed: 2\nreplicates: 2\npopulation: {source: sample, n: 7}\n" +
		"scenarios: [volunteering, donating, sharing]\nconditions:\n  - {name: none, policy: none}\n  - {name: moral, policy: moral}\n"
	net := strings.Replace(netExp, "concurrency: CONC\n", "", 1)
	for name, src := range map[string]string{
		"vignettes":       vig,
		"vignettes joint": vig + "prompt: {mode: joint}\n",
		"network":         net,
		"network summary": strings.Replace(net, "  history: 2\n", "  history: 2\n  store: summary\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			counted := estimateOf(t, src+"backends:\n  - {provider: builtin}\n")
			played := estimateOf(t, src+"backends:\n  - {provider: openai, model: gpt-4o-mini}\n")
			res, err := Run(context.Background(), load(t, src+"backends:\n  - {provider: builtin}\n", 4), Options{Out: t.TempDir() + "/run", NoCache: true})
			if err != nil {
				t.Fatal(err)
			}
			if counted.Decisions == 0 || counted.Decisions != played.Decisions || counted.Decisions != res.Decisions {
				t.Errorf("builtin estimate %d decisions, LLM estimate %d, the run %d", counted.Decisions, played.Decisions, res.Decisions)
			}
			if res.Asked != res.Decisions { // a fresh run asks every decision, also when a prompt carries several
				t.Errorf("the run recorded %d decisions but says %d were asked", res.Decisions, res.Asked)
			}
			if counted.Calls != 0 || counted.InputTokens != 0 {
				t.Errorf("builtin estimate: %d calls, %d tokens", counted.Calls, counted.InputTokens)
			}
		})
	}
}

// TestEstimateAssumesN: Study 1 on an OpenAI-compatible server asks a request's replicates in
// one call with n samples; the estimate counts that and says it assumes n is honoured. With
// n: off every replicate is a call.
func TestEstimateAssumesN(t *testing.T) {
	src := "name: v\nstudy: vignettes\nseed: 2\nreplicates: 3\npopulation: {source: sample, n: 5}\n" +
		"scenarios: [volunteering, donating]\nconditions: [{name: none, policy: none}]\n" +
		"backends: [{provider: ollama, model: tiny%s}]\n"
	perReplicate := estimateOf(t, fmt.Sprintf(src, ", n: off"))
	grouped := estimateOf(t, fmt.Sprintf(src, ""))
	if perReplicate.Calls != 5*2*3 || grouped.Calls != 5*2 || grouped.Decisions != perReplicate.Decisions {
		t.Fatalf("calls %d with n: off (want 30), %d with n (want 10); decisions %d, %d",
			perReplicate.Calls, grouped.Calls, perReplicate.Decisions, grouped.Decisions)
	}
	if !strings.Contains(grouped.Note, "assumes the server honours n") || !strings.Contains(grouped.Note, "takes 30 calls") ||
		strings.Contains(perReplicate.Note, "honours n") {
		t.Fatalf("notes %q and %q", grouped.Note, perReplicate.Note)
	}
	if grouped.OutputTokens != perReplicate.OutputTokens || grouped.InputTokens*3 < perReplicate.InputTokens {
		t.Fatalf("tokens: %+v against %+v", grouped, perReplicate)
	}
}

// TestEstimateRemembersN: once a run has probed a server's n, the estimate reads what it found
// from the run's reply cache: a server that ignores n (Ollama) is estimated at one call per
// replicate, one that honours it (vLLM) at one call per request, each note naming the cache.
// Another server (base URL) is still assumed to honour n. The run's own requests are cached
// then, so it is another seed's (other keys, one server) that is estimated.
func TestEstimateRemembersN(t *testing.T) {
	serve := func(honour bool) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				N int `json:"n"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				t.Errorf("body: %v", err)
			}
			n := 1
			if honour {
				n = max(1, body.N)
			}
			choices := make([]string, n)
			for i := range choices {
				choices[i] = fmt.Sprintf(`{"index":%d,"message":{"role":"assistant","content":"{\"willingness\": 4}"}}`, i)
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"model":"m","choices":[%s],"usage":{"prompt_tokens":5,"completion_tokens":2}}`, strings.Join(choices, ","))
		}))
	}
	ignores, honours := serve(false), serve(true)
	defer ignores.Close()
	defer honours.Close()
	cache := filepath.Join(t.TempDir(), "cache.db")
	src := "name: v\nstudy: vignettes\nseed: %d\nreplicates: 3\npopulation: {source: sample, n: 2}\n" +
		"scenarios: [volunteering]\nconditions: [{name: none, policy: none}]\n" +
		"backends: [{provider: ollama, model: tiny, base_url: %q}]\n"
	estimate := func(url string, seed int) Estimate {
		t.Helper()
		r, err := Prepare(load(t, fmt.Sprintf(src, seed, url), 4), Options{CachePath: cache, Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		est, err := r.Estimate()
		if err != nil {
			t.Fatal(err)
		}
		return est[0]
	}
	for _, srv := range []*httptest.Server{ignores, honours} {
		e := estimate(srv.URL+"/v1", 2)
		if e.Calls != 2 || !strings.Contains(e.Note, "assumes the server honours n") || !strings.Contains(e.Note, "no run has probed this server with the reply cache "+cache) {
			t.Fatalf("before any run: %d calls (want 2), note %q", e.Calls, e.Note)
		}
		if _, err := Run(context.Background(), load(t, fmt.Sprintf(src, 2, srv.URL+"/v1"), 4), Options{Out: filepath.Join(t.TempDir(), "run"), CachePath: cache}); err != nil {
			t.Fatal(err)
		}
		if e := estimate(srv.URL+"/v1", 2); e.Calls != 0 || e.Cached != 6 {
			t.Errorf("the run's own design after it: %d calls, %d cached (want 0, 6)", e.Calls, e.Cached)
		}
	}
	if e := estimate(ignores.URL+"/v1", 3); e.Calls != 6 || !strings.Contains(e.Note, "the server ignores n (an earlier run found so, remembered in "+cache) {
		t.Errorf("server ignoring n: %d calls (want 6), note %q", e.Calls, e.Note)
	}
	if e := estimate(honours.URL+"/v1", 3); e.Calls != 2 || !strings.Contains(e.Note, "the server honours n (an earlier run found so") {
		t.Errorf("server honouring n: %d calls (want 2), note %q", e.Calls, e.Note)
	}
	if e := estimate("http://127.0.0.1:1/v1", 2); e.Calls != 2 || !strings.Contains(e.Note, "assumes the server honours n") {
		t.Errorf("a server never probed: %d calls (want 2), note %q", e.Calls, e.Note)
	}
}
