package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// seedServer is an OpenAI-compatible server that answers from the request's seed: every field
// of the response schema gets a value drawn from it (choice i of n from seed+i), so two
// requests that differ only in their seed get different replies, as a server honouring seeds
// gives them. It counts its calls.
func seedServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Seed           int64 `json:"seed"`
			N              int   `json:"n"`
			ResponseFormat struct {
				JSONSchema struct {
					Schema struct {
						Properties map[string]struct {
							Type    string   `json:"type"`
							Minimum float64  `json:"minimum"`
							Maximum float64  `json:"maximum"`
							Enum    []string `json:"enum"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"json_schema"`
			} `json:"response_format"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Seed == 0 {
			t.Errorf("server: a request without a seed or unreadable: %v %.200s", err, body)
		}
		var choices []string
		for i := range max(1, req.N) {
			sd := uint64(req.Seed) + uint64(i)
			vals := map[string]any{}
			for name, p := range req.ResponseFormat.JSONSchema.Schema.Properties {
				if len(p.Enum) > 0 {
					vals[name] = p.Enum[sd%uint64(len(p.Enum))]
				} else {
					vals[name] = int64(p.Minimum) + int64(sd%uint64(p.Maximum-p.Minimum+1))
				}
			}
			content, _ := json.Marshal(vals)
			c, _ := json.Marshal(string(content))
			choices = append(choices, fmt.Sprintf(`{"index":%d,"finish_reason":"stop","message":{"role":"assistant","content":%s}}`, i, c))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[%s],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, strings.Join(choices, ","))
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

// levelGames is a games run under option_order on the server at url: a dictator game (no
// options, so its texts are the same at both levels) and an ultimatum game (whose responder
// has options), 6 agents, replicates 2.
func levelGames(t *testing.T, url string) *experiment.Experiment {
	t.Helper()
	t.Setenv("PROSIM_LEVELKEY_TEST_KEY", "sk-test")
	src := fmt.Sprintf(`name: levels
study: games
seed: 11
replicates: 2
population: {source: sample, n: 6}
games:
  - {game: dictator, endowment: 100}
  - {game: ultimatum, endowment: 50}
factors:
  option_order: [original, shuffled]
conditions: [{name: none, policy: none}]
max_repairs: 0
backends:
  - provider: openai
    model: m
    base_url: %s/v1
    api_key_env: PROSIM_LEVELKEY_TEST_KEY
    seed: "on"
`, url)
	path := filepath.Join(t.TempDir(), "levels.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A decision's seed derives from its factor levels, so the cache keys the levels too: on a
// fresh cache every decision of a games run under option_order is its own call (none a copy
// of another level's reply, as the dictators' were when the key left the levels out), and the
// results are those of --no-cache. (Games' replicates ask their own prompts, so the n-samples
// fan-out does not apply: TestReplicateGroupsKeepLevelsApart covers it.)
func TestFactorLevelsAreInTheCacheKey(t *testing.T) {
	srv, calls := seedServer(t)
	var want [][]string
	for _, noCache := range []bool{false, true} {
		exp := levelGames(t, srv.URL)
		dir := filepath.Join(t.TempDir(), "run")
		opt := Options{Out: dir, NoCache: noCache}
		if !noCache {
			opt.CachePath = filepath.Join(t.TempDir(), "cache.db")
		}
		before := calls.Load()
		if _, err := Run(context.Background(), exp, opt); err != nil {
			t.Fatal(err)
		}
		recs, _ := llmReadCSV(t, dir)
		decisions := len(recs) - 1
		cached := slices.Index(recs[0], "cached")
		copies := 0
		for _, r := range recs[1:] {
			if r[cached] != "0" {
				copies++
			}
		}
		if got := int(calls.Load() - before); got != decisions || copies != 0 {
			t.Errorf("no-cache %v: %d decisions, %d calls and %d recorded cached, want a call each and none cached",
				noCache, decisions, got, copies)
		}
		got := llmWithout(recs, "cached")
		if want == nil {
			want = got
		} else if !llmEqual(got, want) {
			t.Error("decisions differ between the cache and --no-cache")
		}
	}
}
