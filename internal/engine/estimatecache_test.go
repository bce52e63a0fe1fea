package engine

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeChat is an OpenAI-compatible server answering every call with content, counting calls.
func fakeChat(t *testing.T, content string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":%q}}],"usage":{"prompt_tokens":50,"completion_tokens":5}}`, content)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestEstimateCountsCachedReplies (QA16 F4): a request whose reply the run's cache holds is no
// call and costs nothing in the estimate, as in the run. A cache filled by a run of half the
// design (one scenario of two) counts half; after a run of the whole design, which makes
// exactly the calls the estimate said, the estimate is 0 calls and $0.
func TestEstimateCountsCachedReplies(t *testing.T) {
	srv, calls := fakeChat(t, `{"willingness": 4}`)
	cache := filepath.Join(t.TempDir(), "cache.db")
	src := "name: v\nstudy: vignettes\nseed: 2\npopulation: {source: sample, n: 4}\n" +
		"scenarios: [%s]\nconditions: [{name: none, policy: none}]\nprices: {tiny: {input: 1, output: 2}}\n" +
		"backends: [{provider: vllm, model: tiny, n: off, base_url: " + srv.URL + "/v1}]\n"
	half, whole := fmt.Sprintf(src, "volunteering"), fmt.Sprintf(src, "volunteering, donating")
	estimate := func(src string) Estimate {
		t.Helper()
		r, err := Prepare(load(t, src, 4), Options{CachePath: cache, Offline: true})
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
	run := func(src string) {
		t.Helper()
		if _, err := Run(context.Background(), load(t, src, 4), Options{Out: filepath.Join(t.TempDir(), "run"), CachePath: cache}); err != nil {
			t.Fatal(err)
		}
	}
	fresh := estimate(whole)
	if fresh.Calls != 8 || fresh.Cached != 0 || !strings.Contains(fresh.Note, "0 of 8 requests are in the reply cache "+cache+" and cost nothing (it does not exist yet)") {
		t.Fatalf("before any run: %d calls, %d cached (want 8, 0), note %q", fresh.Calls, fresh.Cached, fresh.Note)
	}
	run(half)
	before := calls.Load()
	e := estimate(whole)
	rest := estimate(fmt.Sprintf(src, "donating")) // the half not cached
	if e.Calls != 4 || e.Cached != 4 || e.InputTokens != rest.InputTokens || e.CostUSD <= 0 || e.CostUSD != rest.CostUSD ||
		!strings.Contains(e.Note, "4 of 8 requests are in the reply cache "+cache+" and cost nothing") {
		t.Errorf("half the design cached: %d calls, %d cached, %d input tokens, $%v; the uncached half's %d, $%v; note %q",
			e.Calls, e.Cached, e.InputTokens, e.CostUSD, rest.InputTokens, rest.CostUSD, e.Note)
	}
	run(whole)
	if made := calls.Load() - before; made != int64(e.Calls) {
		t.Errorf("the run made %d calls, the estimate said %d", made, e.Calls)
	}
	e = estimate(whole)
	if e.Calls != 0 || e.Cached != 8 || e.InputTokens != 0 || e.OutputTokens != 0 || e.CostUSD != 0 ||
		!strings.Contains(e.Note, "8 of 8 requests are in the reply cache") {
		t.Errorf("the whole design cached: %d calls, %d cached, %d/%d tokens, $%v; note %q", e.Calls, e.Cached, e.InputTokens, e.OutputTokens, e.CostUSD, e.Note)
	}
	// --no-cache: the run reads no earlier run's replies, nor does its estimate.
	r, err := Prepare(load(t, whole, 4), Options{CachePath: cache, NoCache: true, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	est, err := r.Estimate()
	if err != nil {
		t.Fatal(err)
	}
	if est[0].Calls != 8 || est[0].Cached != 0 || strings.Contains(est[0].Note, "reply cache") {
		t.Errorf("--no-cache: %d calls, %d cached (want 8, 0), note %q", est[0].Calls, est[0].Cached, est[0].Note)
	}
}

// TestEstimateSaysWhatCacheCannotKnow: Study 3's later rounds are built from the replies to
// earlier ones. Where those are cached the estimate plays the study on them, so the later
// requests are the run's own: after a whole run, 0 calls. With some replies gone from the
// cache, the requests built on placeholders for them cannot be looked up: they are counted
// as calls (an upper bound on what the run then makes), the note saying so.
func TestEstimateSaysWhatCacheCannotKnow(t *testing.T) {
	srv, calls := fakeChat(t, `{"willingness": 4, "unfairness": 4}`)
	cache := filepath.Join(t.TempDir(), "cache.db")
	src := strings.Replace(netExp, "concurrency: CONC\n", "", 1) + "backends:\n  - {provider: vllm, model: tiny, base_url: " + srv.URL + "/v1}\n"
	estimate := func() Estimate {
		t.Helper()
		r, err := Prepare(load(t, src, 4), Options{CachePath: cache, Offline: true})
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
	run := func() int64 {
		t.Helper()
		before := calls.Load()
		if _, err := Run(context.Background(), load(t, src, 4), Options{Out: filepath.Join(t.TempDir(), "run"), CachePath: cache}); err != nil {
			t.Fatal(err)
		}
		return calls.Load() - before
	}
	fresh := estimate()
	made := run()
	if e := estimate(); e.Calls != 0 || e.Unknown != 0 || e.Cached != fresh.Calls || int64(fresh.Calls) != made {
		t.Errorf("after the whole run (%d calls, estimated %d): %d calls, %d cached, %d unknown; want 0, %d, 0", made, fresh.Calls, e.Calls, e.Cached, e.Unknown, fresh.Calls)
	}
	db, err := sql.Open("sqlite", cache)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM reply_cache WHERE substr(hex(key), 1, 1) = '0' AND raw LIKE '{%'"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	e := estimate()
	known := e.Calls - e.Unknown // requests looked up and missing
	made = run()
	t.Logf("%d decisions, %d distinct requests; a sixteenth of the replies deleted: %d cached, %d calls (%d of them unknown); the run made %d", e.Decisions, fresh.Calls, e.Cached, e.Calls, e.Unknown, made)
	if e.Cached == 0 || e.Unknown == 0 || known == 0 || e.Cached+e.Calls != fresh.Calls || made < int64(known) || made > int64(e.Calls) ||
		!strings.Contains(e.Note, fmt.Sprintf("%d of %d requests are in the reply cache", e.Cached, fresh.Calls)) ||
		!strings.Contains(e.Note, fmt.Sprintf("%d are built on replies not in the cache", e.Unknown)) {
		t.Errorf("%d calls, %d cached, %d unknown, the run made %d; note %q", e.Calls, e.Cached, e.Unknown, made, e.Note)
	}
}

// TestEstimateNamesOutputTokens (QA16 F5): every backend's note says where its output tokens
// come from: max_tokens, an upper bound, or the JSON replies' size.
func TestEstimateNamesOutputTokens(t *testing.T) {
	src := "name: v\nstudy: vignettes\nseed: 2\npopulation: {source: sample, n: 4}\n" +
		"scenarios: [volunteering]\nconditions: [{name: none, policy: none}]\nprices: {tiny: {input: 1, output: 2}}\n" +
		"backends: [{provider: vllm, model: tiny, n: off, base_url: http://127.0.0.1:1/v1%s}]\n"
	plain := estimateOf(t, fmt.Sprintf(src, ""))
	capped := estimateOf(t, fmt.Sprintf(src, ", max_tokens: 64"))
	if plain.OutputTokens != plain.JSONOutputTokens || !strings.Contains(plain.Note, "output tokens are about what the JSON replies take (no max_tokens)") {
		t.Errorf("without max_tokens: %d output tokens, JSON %d, note %q", plain.OutputTokens, plain.JSONOutputTokens, plain.Note)
	}
	if capped.OutputTokens != 4*64 || !strings.Contains(capped.Note, fmt.Sprintf("output tokens are max_tokens (64 a reply), an upper bound: replies of the JSON asked take about %d", plain.OutputTokens)) {
		t.Errorf("with max_tokens 64: %d output tokens, note %q", capped.OutputTokens, capped.Note)
	}
}
