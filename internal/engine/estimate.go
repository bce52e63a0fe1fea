package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/tokens"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/usd"
)

// Estimate is what a run will ask, before it runs.
type Estimate struct {
	Backend      string
	Calls        int // first attempts; re-asks of invalid replies and retries come on top
	Decisions    int
	InputTokens  int
	OutputTokens int
	CostUSD      float64 // NaN when the model's price is unknown
	// BatchCostUSD is the same at the batch price (execution: {mode: batch}); NaN when unknown.
	BatchCostUSD float64
	Note         string
	// WorstCallUSD is the most a spend cap reserves for one of the backend's calls (its worst
	// case, see backend.WorstCase); 0 without a cap or a price.
	WorstCallUSD float64
	// Tokenizer names the tokenizer input tokens were counted with (OpenAI's models, see
	// internal/backend/tokens); empty when they are approximated from text length.
	Tokenizer string
	// Copies are the requests counted as no call: an agent's identical requests are one draw
	// (runcache.go), as the placeholder replies build them. Calls+Copies (with the same n
	// grouping) bounds the calls from above: real replies may make fewer copies.
	Copies int
	// MaxCalls is that upper bound on Calls.
	MaxCalls int
	// Cached are the requests whose replies the run's reply cache already holds (an earlier
	// run's): they make no call and cost nothing, and are not in Calls or the tokens.
	Cached int
	// Unknown are the requests built on placeholder replies to earlier ones that the cache
	// does not hold (Study 3's later rounds, a second mover's choice): what the run sends
	// depends on the real replies, so whether the cache holds them cannot be known without
	// asking. They are in Calls. (Cached replies are given to the study as the run gets them.)
	Unknown int
	// MaxTokens is the backend's max_tokens, 0 when not set: each call's output tokens are
	// counted as that, an upper bound. JSONOutputTokens is about what the JSON replies take,
	// which OutputTokens is without max_tokens.
	MaxTokens        int
	JSONOutputTokens int
	copiesCut        bool // more distinct requests than maxCopyKeys: copies among the rest not found
}

// maxCopyKeys bounds the requests an estimate remembers to find copies (32 bytes and a map
// entry each: about 100 MB at the bound); past it, later requests count as calls.
const maxCopyKeys = 1 << 21

// Estimate counts the calls, tokens and cost of the run the experiment describes, per backend,
// from the very requests the run would make: the study is played with placeholder replies.
// Input tokens are counted with the model's tokenizer where prosim has one (OpenAI's models:
// the first requests exactly, the rest scaled by length), else estimated from text length
// (about four characters a token). An agent's identical requests are one draw, counted as one
// call (Copies). Requests whose replies the run's reply cache holds from earlier runs (the same
// key, backend.KeyOf, as the run looks up) are no call either (Cached); the study is played on
// those replies, as the run will be, but requests built on placeholders for replies not cached
// have keys only the real replies decide (Unknown). Where a run would ask a
// request's replicates in one call with n samples, calls follow what an earlier run's probe of
// the server found, kept in the run's reply cache, else assume the server honours n; the note
// says which.
func (r *Runner) Estimate() ([]Estimate, error) {
	by := map[*backendEntry]*Estimate{}
	var out []*Estimate
	for _, b := range r.backends {
		e := &Estimate{Backend: b.label}
		by[b] = e
		out = append(out, e)
	}
	rc := r.cacheToRead()
	if rc.store != nil {
		defer rc.store.Close()
	}
	note, err := r.estimateStudy(by, rc.store)
	if err != nil {
		return nil, err
	}
	prices := r.prices()
	res := make([]Estimate, len(out))
	for i, e := range out {
		b := r.backends[i]
		e.Note = note
		switch {
		case b.cfg.Provider == "builtin":
			e.Calls, e.InputTokens, e.OutputTokens, e.CostUSD, e.BatchCostUSD = 0, 0, 0, 0, 0
			e.Note = "behavioural model: no provider calls"
		default:
			requests := e.Calls + e.Cached // distinct requests, before n groups them
			e.MaxCalls = e.Calls + e.Copies
			if g := r.sampleGroup(b); g > 1 {
				// One call asks for a request's g replicates (n samples) where the server honours
				// n: its prompt is sent once. What an earlier run's probe found is in the cache.
				honoured, known, where, err := rc.rememberedN(b)
				switch {
				case known && !honoured:
					e.Note = joinNotes(e.Note, fmt.Sprintf("the server ignores n (an earlier run found so, remembered in %s): one call per replicate", where))
				default:
					perReplicate := e.Calls
					e.Calls = (e.Calls + g - 1) / g
					e.MaxCalls = (e.MaxCalls + g - 1) / g
					e.InputTokens = (e.InputTokens + g - 1) / g
					if known {
						e.Note = joinNotes(e.Note, fmt.Sprintf("the server honours n (an earlier run found so, remembered in %s): one call for a request's %d replicates", where, g))
						break
					}
					why := "no reply cache is read here to know otherwise"
					switch {
					case err != nil:
						why = "the reply cache could not be read: " + err.Error()
					case where != "":
						why = "no run has probed this server with the reply cache " + where
					}
					e.Note = joinNotes(e.Note, fmt.Sprintf("assumes the server honours n (one call for a request's %d replicates; %s); one that ignores it (Ollama) takes %d calls, as n: off does", g, why, perReplicate))
				}
			}
			if e.Copies > 0 {
				e.Note = joinNotes(e.Note, fmt.Sprintf("%d requests are an agent's identical requests (one draw: Study 3's inequity world before its treatment reaches an agent asks as its control; conditions that differ only by policy), counted as no call; the placeholder replies may make copies that real ones would not: at most %d calls", e.Copies, e.MaxCalls))
			}
			switch {
			case rc.err != nil:
				e.Note = joinNotes(e.Note, fmt.Sprintf("the reply cache %s could not be read (%v): replies it holds are not subtracted", rc.where, rc.err))
			case rc.where == experiment.CacheNATS:
				e.Note = joinNotes(e.Note, "the broker's shared reply cache (cache: nats) is not read here: replies it holds are not subtracted")
			case rc.where != "":
				cached := fmt.Sprintf("%d of %d requests are in the reply cache %s and cost nothing", e.Cached, requests, rc.where)
				if rc.store == nil {
					cached += " (it does not exist yet)"
				}
				if e.Unknown > 0 {
					cached += fmt.Sprintf("; %d are built on replies not in the cache (later rounds, a second mover's choice), so what they will be, and whether they are cached, cannot be known without asking: they are counted as calls", e.Unknown)
				}
				e.Note = joinNotes(e.Note, cached)
			}
			if e.MaxTokens > 0 {
				e.Note = joinNotes(e.Note, fmt.Sprintf("output tokens are max_tokens (%d a reply), an upper bound: replies of the JSON asked take about %d", e.MaxTokens, e.JSONOutputTokens))
			} else if e.Calls > 0 {
				e.Note = joinNotes(e.Note, "output tokens are about what the JSON replies take (no max_tokens)")
			}
			if e.copiesCut {
				e.Note = joinNotes(e.Note, fmt.Sprintf("identical requests looked for among the first %d distinct ones only: fewer calls may be made", maxCopyKeys))
			}
			if e.Tokenizer != "" {
				e.Note = joinNotes(e.Note, fmt.Sprintf("input tokens counted with OpenAI's %s tokenizer (the first %d texts exactly, the rest scaled by their length)", e.Tokenizer, tokens.Exact))
			}
			e.CostUSD = estimateCost(prices, b, e)
			e.BatchCostUSD = estimateCost(prices.Scaled(batchDiscount), b, e)
		}
		res[i] = *e
	}
	return res, nil
}

// SpendCap is the run's spend cap in USD (--max-cost, else budget.usd); 0 for none.
func (r *Runner) SpendCap() float64 { return r.budgetCap() }

// BudgetNote compares a run's estimate with its spend cap; "" without a cap. A cap below one
// call's worst case lets the run make no call at all (QA9: estimate said nothing of a $0.001
// budget under a $0.011 reservation, and the run stopped at once).
func BudgetNote(capUSD float64, est []Estimate) string {
	if capUSD <= 0 {
		return ""
	}
	total, worst := 0.0, 0.0
	for _, e := range est {
		if !math.IsNaN(e.CostUSD) {
			total += e.CostUSD
		}
		worst = max(worst, e.WorstCallUSD)
	}
	head := fmt.Sprintf("Spend cap $%s: ", usd.Exact(capUSD))
	switch {
	case worst > capUSD:
		return head + fmt.Sprintf("one call's worst case is $%s, more than the cap, so the run would make no call; a cap of at least $%s covers the estimate and one call's worst case.", usd.String(worst), SuggestCap(0, total, worst))
	case total > capUSD:
		return head + fmt.Sprintf("the estimate, $%s, passes it: the run would stop at the cap (exit 3), to be continued with a higher one; a cap of at least $%s covers the estimate and one call's worst case.", usd.String(total), SuggestCap(0, total, worst))
	case total+worst > capUSD:
		// A call is made only while its worst case fits in what the cap leaves: the last
		// calls of a run that spends its estimate may not.
		return head + fmt.Sprintf("the estimate, $%s, is within it, but a call is made only while its worst case (up to $%s) fits in what the cap leaves, so the run may stop at the cap near its end (exit 3); a cap of at least $%s covers the estimate and one call's worst case.", usd.String(total), usd.String(worst), SuggestCap(0, total, worst))
	}
	return head + fmt.Sprintf("the estimate, $%s, is within it (while in flight, each call reserves its worst case, up to $%s).", usd.String(total), usd.String(worst))
}

// sampleGroup is how many replicates a run asks in one call with n samples on backend b (1:
// each its own call): as buildBackend's chain does (outside batch mode), for studies whose replicates share their
// prompts, on OpenAI-compatible clients, with the reply cache on and n not off.
func (r *Runner) sampleGroup(b *backendEntry) int {
	if b.cfg.N == "off" || provider.Protocol(b.cfg.Provider) != "openai" || r.exp.Cache == "off" || r.batchMode() || !r.sharedReplicates() {
		return 1
	}
	return max(1, r.exp.Replicates)
}

// readCache is the reply cache a run would read replies of earlier runs from, opened for the
// estimate's look-ups. Nothing is created.
type readCache struct {
	store backend.CacheStore // nil when none is read
	// where is the file's path; experiment.CacheNATS for the broker's shared cache (not read
	// here); "" when the run reads no earlier run's replies (--no-cache, cache: off: its own).
	where string
	err   error // the file could not be opened
}

// cacheToRead opens the run's reply cache as openCache finds it (--cache, else the
// experiment's cache:, else the default), when the file exists.
func (r *Runner) cacheToRead() readCache {
	path := r.opt.CachePath
	if path == "" {
		path = r.exp.Cache
	}
	if r.ownCache() || path == "off" {
		return readCache{}
	}
	if path == experiment.CacheNATS {
		return readCache{where: path}
	}
	if path == "" {
		var err error
		if path, err = backend.DefaultCachePath(); err != nil {
			return readCache{where: "in the user cache directory", err: err}
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return readCache{where: path}
	}
	s, err := backend.OpenSQLiteStore(path)
	if err != nil {
		return readCache{where: path, err: err}
	}
	return readCache{store: s, where: path}
}

// rememberedN is what the run's reply cache remembers of whether b's server honours n (see
// backend.RememberedN), and the cache file's path ("" when no cache file is read). Without a
// cache (off, NoCache), with a shared cache on a broker, or when the cache file does not
// exist, nothing is known.
func (rc readCache) rememberedN(b *backendEntry) (honoured, known bool, where string, err error) {
	if rc.where == experiment.CacheNATS {
		return false, false, "", nil
	}
	if rc.store == nil {
		return false, false, rc.where, rc.err
	}
	urls := b.cfg.URLs()
	id := backend.BackendID{Provider: canonicalProvider(b.cfg.Provider), Model: b.cfg.Model, BaseURL: urls[0]}
	honoured, known, err = backend.RememberedN(context.Background(), rc.store, id)
	return honoured, known, rc.where, err
}

func (r *Runner) sharedReplicates() bool {
	sr, ok := r.study.(study.SharedReplicates)
	return ok && sr.SharedReplicates()
}

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func estimateCost(prices backend.Prices, b *backendEntry, e *Estimate) float64 {
	if c, ok := prices.Cost(canonicalProvider(b.cfg.Provider), b.cfg.Model, e.InputTokens, e.OutputTokens); ok {
		return c
	}
	return math.NaN()
}

// prices are the default price table with the experiment's overrides.
func (r *Runner) prices() backend.Prices {
	over := backend.Prices{}
	for m, p := range r.exp.Prices {
		over[m] = backend.Price{InputPerMTok: p.Input, OutputPerMTok: p.Output}
	}
	return backend.DefaultPrices().With(over)
}

// FirstRequest is the system text and prompt of the study's first request, as a run builds
// it (for `prosim scenarios ID`, which shows a scenario's full prompt). Nothing is asked.
func (r *Runner) FirstRequest() (system, prompt string, err error) {
	r.env.Estimate = true
	b, err := r.study.Next()
	if err != nil {
		return "", "", err
	}
	if b == nil || b.Len() == 0 {
		return "", "", fmt.Errorf("study %s asks nothing", r.exp.Study)
	}
	t, err := b.Task(0)
	if err != nil {
		return "", "", err
	}
	return t.Req.System, t.Req.Prompt, nil
}
