package engine

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/yamlx"
)

// batchKey is the store meta key that says the run was started with --batch (a resume keeps
// batch mode).
const batchKey = "option.batch"

// batchAttempts is how many batch jobs a request is put in before it is recorded invalid
// (an expired, cancelled or failed job, or an error for that request, starts a new job).
const batchAttempts = 3

// checkBatch says which backends cannot run in batch mode: OpenAI's Batch API (and servers
// speaking it), Anthropic's Message Batches and Gemini's batch jobs are spoken. The
// behavioural model decides in process as always.
func (r *Runner) checkBatch() error {
	if !r.batchMode() {
		return nil
	}
	l := yamlx.NewList(r.exp.File)
	for i, b := range r.backends {
		if _, known := provider.Lookup(b.cfg.Provider); !known {
			continue // reported
		}
		switch provider.Protocol(b.cfg.Provider) {
		case "openai", "anthropic", "gemini", provider.Builtin:
		default:
			l.Add(r.BackendErrorf(i, "provider", "batch mode not supported for %s (execution: {mode: batch} works with OpenAI, Anthropic and Gemini; run this backend without batch mode)", b.cfg.Provider))
		}
		if len(b.cfg.Endpoints) > 1 {
			l.Add(r.BackendErrorf(i, "endpoints", "batch mode sends one job to one endpoint: give base_url"))
		}
	}
	if err := l.Err(); err != nil {
		return err
	}
	for _, b := range r.backends {
		if b.paid() { // the behavioural model alone needs no batches
			r.group = backend.NewBatchGroup()
		}
	}
	return nil
}

// defaultPoll is the poll interval of --batch on an experiment without execution.poll.
const defaultPoll = 30 * time.Second

// buildBatchBackend is buildBackend in batch mode: the chain of backend.Stack over a
// Collector, which puts the step's calls in batch jobs of the provider's client. There are
// no rate limits or per-call retries: the provider schedules a job's requests, and a failed
// request goes into a new job.
func (r *Runner) buildBatchBackend(b experiment.Backend, spec providers.Spec, id backend.BackendID, cache *backend.Cache, usage *backend.Usage) (backend.Backend, error) {
	cl, err := providers.New(spec)
	if err != nil {
		return nil, err
	}
	bc, ok := cl.(backend.Batcher)
	if !ok {
		return nil, fmt.Errorf("batch mode not supported for %s yet", b.Provider)
	}
	label := b.LabelOrDefault()
	poll := time.Duration(r.exp.Execution.Poll)
	if poll <= 0 {
		poll = defaultPoll
	}
	col := backend.NewCollector(backend.CollectorConfig{
		ID:        id,
		Client:    bc,
		Group:     r.group,
		Journal:   &batchJournal{r: r, backend: label},
		Name:      label,
		Poll:      poll,
		Attempts:  batchAttempts,
		MaxOutput: providers.DefaultMaxTokens(b.Provider),
		Progress:  r.batchProgress,
	})
	return backend.Stack([]backend.Backend{col}, backend.StackConfig{
		ID:         id,
		Cache:      cache,
		MaxRepairs: *r.exp.MaxRepairs,
		Prices:     r.callPrices(),
		Usage:      usage,
		SampleSeed: seed.Derive(*r.exp.Seed, "samples", label),
		Budget:     r.budget,
		MaxOutput:  providers.DefaultMaxTokens(b.Provider),
		Batch:      col,
	}), nil
}

// batchProgress shows a batch job's state changes with the progress output.
func (r *Runner) batchProgress(line string) {
	if w := r.opt.Progress; w != nil {
		fmt.Fprintf(w, "\n  %s\n", strings.TrimSpace(line))
	}
}

// batchJournal keeps a backend's batch jobs in the run store.
type batchJournal struct {
	r       *Runner
	backend string
	once    sync.Once
	mu      sync.Mutex
	byID    map[string]string // custom id -> most recent job holding it
	err     error
}

func (j *batchJournal) load() {
	j.once.Do(func() {
		j.byID = map[string]string{}
		bs, err := j.r.st.Batches()
		if err != nil {
			j.err = err
			return
		}
		for _, b := range bs {
			if b.Backend != j.backend {
				continue
			}
			for _, id := range b.CustomIDs {
				j.byID[id] = b.ID
			}
		}
	})
}

func (j *batchJournal) Lookup(customID string) (string, bool) {
	j.load()
	j.mu.Lock()
	defer j.mu.Unlock()
	b, ok := j.byID[customID]
	return b, ok
}

func (j *batchJournal) Record(batchID string, customIDs []string) error {
	j.load()
	if j.err != nil {
		return j.err
	}
	if err := j.r.st.PutBatch(store.Batch{Backend: j.backend, ID: batchID, CustomIDs: customIDs}); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range customIDs {
		j.byID[id] = batchID
	}
	return nil
}

// recordBatch keeps --batch for resumes.
func recordBatch(st *store.Store, opt Options) error {
	if !opt.Batch {
		return nil
	}
	return st.SetMeta(batchKey, "1")
}

// reuseBatch applies the run's recorded --batch.
func reuseBatch(st *store.Store, opt *Options) error {
	v, err := st.Meta(batchKey)
	if v == "1" {
		opt.Batch = true
	}
	return err
}
