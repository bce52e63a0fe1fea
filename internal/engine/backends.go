package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/study"
)

// clients makes an LLM backend's provider clients, one per URL, without a call: none for the
// behavioural model, offline, on remote workers or with Options.Backends. Prepare makes them
// with its checks, so that a missing API key is reported with the file's problems.
func (r *Runner) clients(b experiment.Backend) ([]backend.Backend, error) {
	// Decisions on a broker's workers call no provider here: the workers' keys are theirs.
	if r.opt.Backends != nil || b.Provider == "builtin" || r.opt.Offline || r.onBroker() {
		return nil, nil
	}
	extra, err := b.ExtraBodyJSON()
	if err != nil {
		return nil, fmt.Errorf("extra_body: %w", err)
	}
	var eps []backend.Backend
	for _, u := range b.URLs() {
		spec := providers.Spec{Provider: b.Provider, Model: b.Model, BaseURL: u, APIKeyEnv: b.APIKeyEnv,
			StructuredOutput: b.StructuredOutput, MaxTokensField: b.MaxTokensField, NoSeed: b.Seed == "off",
			ConnectTimeout: time.Duration(b.ConnectTimeout), MaxReply: b.MaxReplyOrDefault(),
			FirstByteTimeout: time.Duration(b.FirstByteTimeout), Timeout: b.TimeoutOrDefault(), ExtraBody: extra}
		if w := providers.PlainHTTPKeyWarning(spec); w != "" {
			fmt.Fprintf(os.Stderr, "prosim: warning: backend %s: %s\n", b.LabelOrDefault(), w)
		}
		be, err := providers.New(spec)
		if err != nil {
			return nil, err
		}
		eps = append(eps, be)
	}
	return eps, nil
}

// missingKey is the error r.clients would give for backend i's API key missing from the
// environment, for a backend whose client is not made: the file's backends have problems
// (QA12 #9: a missing key came a run after the temperature out of range beside it). It
// looks only at the fields that say which key is wanted (provider, api_key_env, the base
// URLs), and not at all when one of them has a problem: an api_key_env holding the key itself
// must not be echoed as a variable's name.
func (r *Runner) missingKey(i int) error {
	b := r.backends[i].cfg
	if r.opt.Backends != nil || b.Provider == "builtin" || r.opt.Offline || r.onBroker() {
		return nil
	}
	if b.Spec == "" { // a --backend SPEC was parsed whole, apart from the file
		var path string
		switch hasList, hasBlock := r.doc.Has("backends"), r.doc.Has("backend"); {
		case hasList && !hasBlock:
			path = fmt.Sprintf("backends[%d]", i)
		case hasBlock && !hasList && i == 0:
			path = "backend"
		default:
			return nil // both given: which is meant is the file's problem
		}
		for _, f := range []string{"provider", "api_key_env", "base_url", "endpoints"} {
			if !r.exp.SoundField(path + "." + f) {
				return nil
			}
		}
	}
	for _, u := range b.URLs() {
		if err := providers.MissingKey(providers.Spec{Provider: b.Provider, BaseURL: u, APIKeyEnv: b.APIKeyEnv}); err != nil {
			return err
		}
	}
	return nil
}

// onBroker reports whether the decisions go to a broker's workers: a run on one (opt.Remote),
// or an experiment that names one (execution.nats; validate, which has no --nats, checks it
// so; prosim run and resume connect to that broker, and a run not connected to it stops at
// its first decision: buildBackend).
func (r *Runner) onBroker() bool { return r.opt.Remote != nil || r.exp.Execution.NATS != "" }

// ErrBatchWithWorkers refuses batch mode in a distributed run. The CLI checks it before it
// starts a broker or workers too (QA12 #16: they were started, then the run refused).
var ErrBatchWithWorkers = errors.New("batch mode (execution.mode: batch or --batch) sends each step to the provider's batch API from this process: it cannot be combined with NATS workers (--nats, --workers, execution.nats)")

// buildBackend makes the decision backend for one backends: entry over its clients. The
// behavioural model is deterministic and free, so it gets no cache, limits or retries: only a
// schema check. Every LLM backend gets the full chain of backend.Stack.
func (r *Runner) buildBackend(b experiment.Backend, path string, eps []backend.Backend, usage *backend.Usage) (backend.Backend, io.Closer, error) {
	if r.opt.Backends != nil {
		be, err := r.opt.Backends(b)
		return be, nil, err
	}
	remote := r.opt.Remote != nil && !r.opt.Offline
	if remote && r.batchMode() {
		return nil, nil, ErrBatchWithWorkers
	}
	if b.Provider == "builtin" {
		if remote {
			be, err := r.opt.Remote(b)
			return backend.Validate(be, 0), nil, err
		}
		return backend.Validate(behavioral.New(), 0), nil, nil
	}
	if r.opt.Offline {
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
			return backend.Reply{}, errors.New("offline: no provider client was built")
		}), nil, nil
	}
	if r.onBroker() && r.opt.Remote == nil {
		// execution.nats, and this process not connected to the broker (validate; prosim
		// serve's resume): clients skipped the provider's clients, so no decision could be
		// made here. Failing each call with a config error stops a run before it records any,
		// and validate calls none; the shared cache is not opened.
		err := &backend.ConfigError{Err: fmt.Errorf("execution.nats: the decisions go to the prosim workers of the NATS broker %s, and this process is not connected to it: run or resume the run with prosim run or prosim resume, which connect to the broker",
			experiment.StripCredentials(r.exp.Execution.NATS))}
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
			return backend.Reply{}, err
		}), nil, nil
	}
	urls := b.URLs()
	id, extra, err := r.cacheID(b)
	if err != nil {
		return nil, nil, err
	}
	cache, err := r.openCache()
	if err != nil {
		return nil, nil, err
	}
	timeout, attempts := b.TimeoutOrDefault(), b.MaxAttemptsOrDefault()
	if r.watch == nil {
		r.watch = backend.NewWatch()
	}
	limits := backend.Limits{Concurrency: b.MaxConcurrency, RPM: b.RPM, TPM: b.TPM, Watch: r.watch}
	// With a first-byte timeout the client bounds the wait and the generation itself; the
	// call's deadline allows both.
	timeout = providers.CallTimeout(providers.Spec{FirstByteTimeout: time.Duration(b.FirstByteTimeout)}, timeout)
	retry := backend.RetryPolicy{MaxAttempts: attempts, Timeout: timeout, TimeoutName: timeoutName(b, path), MaxRetryAfter: b.MaxRetryAfterOrDefault(),
		Seed: seed.Derive(*r.exp.Seed, "retry", b.LabelOrDefault()), Watch: r.watch}
	// Load-balanced endpoints are alike: the first one's URL decides.
	var adaptive *backend.AdaptiveConfig
	if providers.AdaptiveOn(b.AdaptiveConcurrency, urls[0]) {
		adaptive = &backend.AdaptiveConfig{Max: b.MaxConcurrency}
	}
	if remote {
		be, err := r.opt.Remote(b)
		if err != nil {
			return nil, nil, err
		}
		// The workers retry and count each call (a zero policy: Stack adds no Retry).
		eps, limits, retry, adaptive = []backend.Backend{be}, backend.Limits{}, backend.RetryPolicy{}, nil
	}
	if r.group != nil {
		spec := providers.Spec{Provider: b.Provider, Model: b.Model, BaseURL: urls[0], APIKeyEnv: b.APIKeyEnv,
			StructuredOutput: b.StructuredOutput, MaxTokensField: b.MaxTokensField, NoSeed: b.Seed == "off", ExtraBody: extra}
		be, err := r.buildBatchBackend(b, spec, id, cache, usage)
		return be, nil, err
	}
	// Study 1's replicates ask the same prompts (their requests differ only in replicate and
	// seed), so they can be served by one call with n samples where the provider supports it.
	// Elsewhere a replicate's prompts are its own (schedules, joint order, history, network).
	replicates := 0
	if sr, ok := r.study.(study.SharedReplicates); ok && sr.SharedReplicates() {
		replicates = r.exp.Replicates
	}
	chain := backend.Stack(eps, backend.StackConfig{
		ID:         id,
		Cache:      cache,
		MaxRepairs: *r.exp.MaxRepairs,
		Limits:     limits,
		Adaptive:   adaptive,
		Retry:      retry,
		Prices:     r.callPrices(),
		Budget:     r.budget,
		MaxOutput:  providers.DefaultMaxTokens(b.Provider),
		Usage:      usage,
		Replicates: replicates,
		NoN:        b.N == "off",
		SampleSeed: seed.Derive(*r.exp.Seed, "samples", b.LabelOrDefault()),
	})
	return chain, nil, nil
}

// cacheID is what names backend b's model in its replies' cache keys (backend.KeyOf), and its
// extra_body fields as sent: the run's chain and the estimate's look-ups use the same.
func (r *Runner) cacheID(b experiment.Backend) (backend.BackendID, []byte, error) {
	extra, err := b.ExtraBodyJSON()
	if err != nil {
		return backend.BackendID{}, nil, fmt.Errorf("backend %s: extra_body: %w", b.LabelOrDefault(), err)
	}
	// Load-balanced endpoints serve one model: they share cache entries under the first URL.
	id := backend.BackendID{Provider: canonicalProvider(b.Provider), Model: b.Model, BaseURL: b.URLs()[0]}
	if id.Provider != "anthropic" && b.Seed != "off" { // OpenAI's and Gemini's clients send each decision's seed
		id.Seed = fmt.Sprintf("run:%d", *r.exp.Seed)
	}
	// The key names the request options that were set; "auto" is the provider's default.
	id.StructuredOutput = b.StructuredOutput
	if id.StructuredOutput == "auto" || id.StructuredOutput == "json_schema" { // the same request
		id.StructuredOutput = ""
	}
	id.MaxTokensField = b.MaxTokensField
	id.ExtraBody = string(extra)
	return id, extra, nil
}

// paid reports whether the backend's replies cost a provider call (every backend but the
// embedded behavioural model): those are committed one by one as they arrive.
func (b *backendEntry) paid() bool { return b.cfg.Provider != "builtin" }

// canonicalProvider names the wire protocol: vllm and ollama speak OpenAI's.
func canonicalProvider(p string) string { return provider.Protocol(p) }

// checkSharedCache refuses the shared cache (cache: nats, --cache nats) without a broker to
// keep it on, whatever the backends: the config names a cache that cannot exist, located at
// its own line rather than told under the first LLM backend that would open it.
func (r *Runner) checkSharedCache() error {
	if r.ownCache() || r.opt.SharedCache != nil || r.exp.Execution.NATS != "" {
		return nil
	}
	const why = "the shared cache lives on a NATS broker: give --nats URL or --workers N (or execution.nats), or another cache"
	switch {
	case r.opt.CachePath == experiment.CacheNATS:
		return fmt.Errorf("--cache nats: %s", why)
	case r.opt.CachePath == "" && r.exp.Cache == experiment.CacheNATS:
		return r.doc.Errorf("cache", "nats: %s", why)
	}
	return nil
}

// checkRecordedCache refuses a resume whose recorded cache file (the run's --cache, or its
// experiment's cache:, an absolute path) is gone: opening it would start an empty cache there,
// with its folders, and ask again, and pay for, every reply the moved file holds (QA11: the
// experiment's folder was moved). The user cache directory's default is not the run's to check.
func (r *Runner) checkRecordedCache(path string) error {
	if !r.opt.Recorded || r.opt.CacheFlag || path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the run's reply cache %s does not exist (moved or deleted?): give --cache PATH (the file where it is now) or --no-cache, or --cache NEW to start a new one", path)
	}
	return nil
}

// openCache opens the response cache once per run; every LLM backend shares it. Without
// one (--no-cache, cache: off) it is the run's own (runcache.go: the rule of identical requests).
func (r *Runner) openCache() (*backend.Cache, error) {
	if r.cache != nil {
		return r.cache, nil
	}
	if r.ownCache() {
		c := r.runCache()
		r.cache = c
		r.closers = append(r.closers, c)
		return c, nil
	}
	path := r.opt.CachePath
	if path == "" {
		path = r.exp.Cache
	}
	if path == experiment.CacheNATS {
		if err := r.checkSharedCache(); err != nil {
			return nil, err
		}
		if r.opt.SharedCache == nil { // execution.nats with Remote but no SharedCache (a library caller)
			return nil, errors.New("cache nats: the broker's shared cache is not open in this process (prosim run and prosim resume open it on the run's broker; Options.SharedCache)")
		}
		s, err := r.opt.SharedCache()
		if err != nil {
			return nil, err
		}
		c := backend.NewCache(s)
		r.cache = c
		r.closers = append(r.closers, c)
		return c, nil
	}
	if err := r.checkRecordedCache(path); err != nil {
		return nil, err
	}
	if path == "" {
		var err error
		if path, err = backend.DefaultCachePath(); err != nil {
			return nil, err
		}
	}
	c, err := backend.OpenCache(path)
	if err != nil {
		return nil, err
	}
	r.cache = c
	r.closers = append(r.closers, c)
	return c, nil
}

// timeoutName says where a backend's per-call timeout is set, for the reason of a call that
// timed out: path is the backend's place in the file ("backends[0]").
func timeoutName(b experiment.Backend, path string) string {
	if b.Spec != "" {
		return "the default for --backend " + b.Spec
	}
	t := path + ".timeout"
	if b.Timeout == 0 {
		t += ", the default"
	}
	if b.FirstByteTimeout > 0 {
		return path + ".first_byte_timeout + " + t
	}
	return t
}
