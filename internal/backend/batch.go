package backend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prosim/prosim/internal/plural"
)

// Batcher is implemented by clients whose provider runs batch jobs (billed at half price):
// many requests submitted as one job, polled, and their results downloaded. The protocol of
// each provider stays in its client package; Collector drives it.
type Batcher interface {
	// SubmitBatch submits items as one batch job and returns its id.
	SubmitBatch(ctx context.Context, items []BatchItem) (id string, err error)
	// BatchStatus returns the job's state as the provider names it, whether it has ended
	// (completed, expired, cancelled or failed: results, if any, can be fetched), and a
	// short progress note ("120/400 done").
	BatchStatus(ctx context.Context, id string) (state string, ended bool, note string, err error)
	// BatchResults returns an ended job's results by custom id. An id without a result (an
	// expired job's unfinished requests) is absent.
	BatchResults(ctx context.Context, id string) (map[string]BatchResult, error)
}

// BatchSplitter is implemented by a Batcher whose provider limits the size of one job (Gemini
// takes 20 MB of inline requests): the collector submits each part as its own job, journaled
// as it is created, so that a failure to create one part leaves the others resumable.
type BatchSplitter interface {
	// SplitBatch splits items, in order, into the jobs they must go in.
	SplitBatch(items []BatchItem) [][]BatchItem
}

// BatchItem is one request of a batch, named by a custom id unique within the batch.
type BatchItem struct {
	CustomID string
	Req      Request
}

// BatchResult is one request's outcome: a reply, or the provider's error for that request.
type BatchResult struct {
	Reply Reply
	Err   string
	// Unusable says the line is the provider's answer (HTTP 200, a succeeded result) but
	// could not be used (not a completion, cut, malformed): it was billed, as a synchronous
	// call's unusable reply is (StatusError.Unusable). Err says why; Reply names the provider
	// and model to price it and holds in UnusableInputTokens and UnusableOutputTokens the
	// usage the line said, if any (see UnusableLine; the collector counts the rest).
	Unusable bool
}

// UnusableLine is the result of a line that came back billed but could not be used (see
// BatchResult.Unusable): in and out are its usage, 0 when it said none.
func UnusableLine(provider, model, why string, in, out int) BatchResult {
	return BatchResult{Err: why, Unusable: true,
		Reply: Reply{Provider: provider, Model: model, UnusableInputTokens: in, UnusableOutputTokens: out}}
}

// BatchJournal records the batch jobs submitted, so that a resumed run polls a job that was
// in progress instead of submitting its requests again.
type BatchJournal interface {
	// Lookup returns the most recent batch job that holds the request with this custom id.
	Lookup(customID string) (batchID string, ok bool)
	// Record records a submitted job and the custom ids of its requests.
	Record(batchID string, customIDs []string) error
}

// BatchID is a request's custom id: a hash of everything sent, so that the same request in a
// resumed run has the same id (and two requests of one batch differ).
func BatchID(req Request) string {
	js, _ := json.Marshal(struct {
		S, P   string
		R      []Turn
		Sc     any
		Sa     Sampling
		Rep, N int
		Seed   uint64
	}{req.System, req.Prompt, req.Repair, req.Schema, req.Sampling, req.Replicate, req.N, req.Seed})
	sum := sha256.Sum256(js)
	return "p-" + hex.EncodeToString(sum[:12])
}

// BatchGroup gathers the calls of one step of a study into batches. The engine starts each
// step with Begin(workers) and each worker calls Done when it takes no more decisions; the
// group submits the waiting calls of every collector once every live worker is waiting on
// one, that is when the step has nothing left to ask but these. A re-ask of an invalid reply
// then waits for the next such moment: a follow-up batch. Nothing depends on timing.
type BatchGroup struct {
	mu      sync.Mutex
	ctx     context.Context
	active  int
	waiting int
	// held counts the workers waiting for the spend cap to free room (Budgeted): the calls in
	// flight they wait for settle only when their job is sent, so they count as waiting.
	held int
	cols []*Collector
}

// NewBatchGroup makes an empty group.
func NewBatchGroup() *BatchGroup { return &BatchGroup{} }

// Begin starts a step with n workers; ctx bounds the step's batches.
func (g *BatchGroup) Begin(ctx context.Context, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ctx, g.active, g.waiting, g.held = ctx, n, 0, 0
	for _, c := range g.cols {
		c.pending, c.byKey = nil, map[Key]*line{}
	}
}

// Done says a worker takes no more decisions this step.
func (g *BatchGroup) Done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	g.flush()
}

// wait queues w for the next job, or, when its line is already in a job, makes it a copy of
// that line: it is answered when the line is (at once if it was), without a job of its own.
func (g *BatchGroup) wait(c *Collector, w *waiter) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := c.byKey[w.key]
	switch {
	case l != nil && l.done:
		w.done <- copyOf(l.out)
		return
	case l != nil && l.sent:
		l.copies = append(l.copies, w)
		return
	case l == nil:
		if c.byKey == nil {
			c.byKey = map[Key]*line{}
		}
		c.byKey[w.key] = &line{}
	}
	c.pending = append(c.pending, w)
	g.waiting++
	g.flush()
}

// hold says a worker waits for the spend cap (see held) until release.
func (g *BatchGroup) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held++
	g.flush()
}

func (g *BatchGroup) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held--
}

// flush submits every collector's waiting calls when all live workers wait, on a job or on
// the spend cap (g.mu held).
func (g *BatchGroup) flush() {
	if g.waiting == 0 || g.waiting+g.held < g.active {
		return
	}
	g.waiting = 0
	for _, c := range g.cols {
		if len(c.pending) > 0 {
			ws := c.pending
			c.pending = nil
			ls := map[Key]*line{}
			for _, w := range ws {
				l := c.byKey[w.key]
				l.sent = true
				ls[w.key] = l
			}
			go c.run(g.ctx, ws, ls, g.held)
		}
	}
}

// CollectorConfig configures a Collector.
type CollectorConfig struct {
	// ID names the model for the cache key: requests of one key (KeyOf) share one line of a
	// job, as the cache and Collapse share them in synchronous mode (no more and no fewer).
	ID      BackendID
	Client  Batcher
	Group   *BatchGroup
	Journal BatchJournal // nil: nothing journaled (no resume of a job)
	// Name names the backend in progress lines.
	Name string
	// Poll is the interval between status requests.
	Poll time.Duration
	// Attempts is how many jobs a request is put in before its failure is returned (an
	// expired, cancelled or failed job, or a per-request error); at least 1.
	Attempts int
	// MaxOutput is the client's completion limit for requests that set none: a line that
	// came back unusable and said no usage counts at its request's worst case at it
	// (UnusableTokens), as a synchronous call's does.
	MaxOutput int
	// Progress, if not nil, receives a line when a job changes state.
	Progress func(line string)
}

// Collector is the bottom of a backend chain in batch mode: its Decide waits until the
// step's group submits the waiting calls as one batch job, then returns the request's result.
// The wrappers above it (cache, validity and re-asks, budget, meter) work as in synchronous
// mode.
type Collector struct {
	cfg     CollectorConfig
	pending []*waiter // guarded by cfg.Group.mu
	// byKey are the step's lines by cache key, from the moment a request of the key waits
	// (guarded by cfg.Group.mu). A request of a key whose line is already in a job is a copy
	// of it, whenever it comes: a twin the spend cap held until that job settled must not go
	// in a job of its own, or find the line's journaled job and take its reply again as a
	// call (QA13 F1: both twins recorded as calls at the same cost, the spend overstated 27%).
	byKey map[Key]*line
}

// line is one line of a job and the requests it answers beside those of its job's waiters.
type line struct {
	sent   bool      // in a job: a request that comes now is one of copies
	copies []*waiter // requests of the key that came after it was sent
	done   bool
	out    batchOutcome // the line's outcome as its paid request got it, once done
}

type waiter struct {
	id   string
	key  Key
	req  Request
	free bool // holds no reservation of the spend cap: never the line's paid request when one does
	// again, under a spend cap, reserves one more worst case for the request (Budgeted's,
	// see ReserveAgain); nil without a cap or for a free request.
	again func(context.Context) error
	done  chan batchOutcome
}

type batchOutcome struct {
	r   Reply
	err error
}

// NewCollector makes a collector and adds it to its group.
func NewCollector(cfg CollectorConfig) *Collector {
	cfg.Attempts = max(1, cfg.Attempts)
	c := &Collector{cfg: cfg}
	cfg.Group.mu.Lock()
	cfg.Group.cols = append(cfg.Group.cols, c)
	cfg.Group.mu.Unlock()
	return c
}

// Decide waits for the request's result from a batch job.
func (c *Collector) Decide(ctx context.Context, req Request) (Reply, error) {
	w := &waiter{id: BatchID(req), key: KeyOf(c.cfg.ID, req), req: req, free: ctx.Value(copyKey{}) != nil, done: make(chan batchOutcome, 1)}
	w.again = ReserveAgain(ctx)
	c.cfg.Group.wait(c, w)
	select {
	case o := <-w.done:
		return o.r, o.err
	case <-ctx.Done():
		return Reply{}, ctx.Err()
	}
}

// Key is req's cache key as the collector groups requests by it (Shares).
func (c *Collector) Key(req Request) Key { return KeyOf(c.cfg.ID, req) }

// Shares reports whether a request of cache key k (Key) is waiting for the step's next job
// or is in one: it would be a copy of its line. Budgeted reserves nothing for such a request.
func (c *Collector) Shares(k Key) bool {
	c.cfg.Group.mu.Lock()
	defer c.cfg.Group.mu.Unlock()
	return c.byKey[k] != nil
}

// copyKey marks the context of a request sent to a Collector without a reservation of the
// spend cap, since Shares said it is a copy.
type copyKey struct{}

// copyOf is a copy's outcome of a line: the reply, cached at no cost, or the error.
func copyOf(o batchOutcome) batchOutcome {
	if o.err != nil {
		return batchOutcome{err: o.err}
	}
	return batchOutcome{r: shared(o.r)}
}

// payer is the index of the request of a line's waiters that is recorded as the call: the
// first that holds a reservation of the spend cap, so that the cap settles the line's cost
// where it reserved it.
func payer(ws []*waiter) int {
	return max(0, slices.IndexFunc(ws, func(w *waiter) bool { return !w.free }))
}

// answer gives a line's outcome to its waiters in a job (ws: the paid one gets o, the others
// a copy) and to those that came after it was sent; once (a job's failure after some of the
// lines of the attempt were answered fails only the others).
func (c *Collector) answer(l *line, ws []*waiter, o batchOutcome) {
	c.cfg.Group.mu.Lock()
	defer c.cfg.Group.mu.Unlock()
	if l.done {
		return
	}
	l.done, l.out = true, o
	p := payer(ws)
	for i, w := range ws {
		if i == p {
			w.done <- o
		} else {
			w.done <- copyOf(o)
		}
	}
	for _, w := range l.copies {
		w.done <- copyOf(o)
	}
	l.copies = nil
}

// run puts waiting calls through batch jobs until each has a result or has used its
// attempts. Requests of one cache key share one line of the job (see lines); ls are those
// lines, by key, which requests of their keys that come later share.
// held is how many of the step's requests wait for the spend cap meanwhile (BatchGroup.held).
func (c *Collector) run(ctx context.Context, ws []*waiter, ls map[Key]*line, held int) {
	byID, ids := c.lines(ws)
	reasons := map[string]string{}
	// failed counts each line's attempts that came back without a reply (an error for the
	// line, or none: the job expired, failed or was cancelled first). Each was sent in a job
	// the provider took, so it is a call and a failed call, as a 5xx is in synchronous mode;
	// providers do not bill them, so they carry no tokens.
	failed := map[string]int{}
	// unusable are each line's attempts that came back billed but unusable
	// (BatchResult.Unusable): calls at their usage or worst case, as in synchronous mode
	// (Retry), whose retry in a new job reserves its worst case again under a spend cap.
	unusable := map[string]Reply{}
	for attempt := 1; len(ids) > 0 && attempt <= c.cfg.Attempts; attempt++ {
		// Requests already in a journaled job (a resumed run) wait for that job; the others,
		// and every retry, go in a new one.
		jobs := map[string][]string{}
		var fresh []string
		for _, id := range ids {
			if b, ok := c.lookup(id, attempt); ok {
				jobs[b] = append(jobs[b], id)
			} else {
				fresh = append(fresh, id)
			}
		}
		if len(fresh) > 0 {
			items := make([]BatchItem, len(fresh))
			for i, id := range fresh {
				items[i] = BatchItem{CustomID: id, Req: byID[id][0].req}
			}
			parts := [][]BatchItem{items}
			if sp, ok := c.cfg.Client.(BatchSplitter); ok {
				parts = sp.SplitBatch(items)
			}
			for _, part := range parts {
				pids := make([]string, len(part))
				for i, it := range part {
					pids[i] = it.CustomID
				}
				b, err := c.cfg.Client.SubmitBatch(ctx, part)
				if err == nil && c.cfg.Journal != nil {
					err = c.cfg.Journal.Record(b, pids)
				}
				if err != nil {
					c.fail(byID, ids, ls, err)
					return
				}
				if held > 0 {
					// Said once: why the job is smaller than the step, and what follows it.
					c.progress("batch %s submitted: %s (%s of the step wait for the spend cap: each goes in a follow-up job if its worst case fits once the jobs in flight have settled)",
						b, plural.Count(len(part), "request"), plural.Count(held, "more request"))
					held = 0
				} else {
					c.progress("batch %s submitted: %d requests", b, len(part))
				}
				jobs[b] = pids
			}
		}
		var again []string
		for _, b := range slices.Sorted(maps.Keys(jobs)) {
			res, err := c.await(ctx, b)
			if err != nil {
				c.fail(byID, ids, ls, err)
				return
			}
			for _, id := range jobs[b] {
				r, ok := res[id]
				switch {
				case !ok:
					reasons[id] = "no result (the batch ended before this request was done)"
					failed[id]++
					again = append(again, id)
				case r.Unusable:
					reasons[id] = r.Err
					u := unusable[id]
					in, out := UnusableTokens(byID[id][0].req, c.cfg.MaxOutput, r.Reply.UnusableInputTokens, r.Reply.UnusableOutputTokens)
					u.Provider, u.Model = r.Reply.Provider, r.Reply.Model // to price it
					u.UnusableCalls++
					u.UnusableInputTokens += in
					u.UnusableOutputTokens += out
					unusable[id] = u
					if attempt < c.cfg.Attempts {
						if err := c.reserveAgain(ctx, byID[id]); err != nil {
							err = fmt.Errorf("%w: %s: a batch line that came with HTTP 200 but could not be used (it was billed) was not asked again (after %s: %s)",
								err, c.cfg.Name, plural.Count(attempt, "attempt"), r.Err)
							c.answer(ls[byID[id][0].key], byID[id], batchOutcome{r: spentOn(failed[id], u), err: err})
							continue
						}
					}
					again = append(again, id)
				case r.Err != "":
					reasons[id] = r.Err
					failed[id]++
					again = append(again, id)
				default:
					// Identical requests share the line: one is the call, the others cost nothing.
					rep := CountNoUsage(r.Reply, byID[id][0].req, c.cfg.MaxOutput)
					u := unusable[id]
					rep.Calls += failed[id] + u.UnusableCalls
					rep.FailedCalls += failed[id]
					rep.UnusableCalls += u.UnusableCalls
					rep.UnusableInputTokens += u.UnusableInputTokens
					rep.UnusableOutputTokens += u.UnusableOutputTokens
					c.answer(ls[byID[id][0].key], byID[id], batchOutcome{r: rep})
				}
			}
		}
		ids = again
	}
	for _, id := range ids {
		err := fmt.Errorf("%s: batch request failed %d times: %s", c.cfg.Name, c.cfg.Attempts, reasons[id])
		// The reply returned with the error counts the line's failed and unusable calls (on
		// the paid request only, as a reply is), for the meter and the decision's record.
		c.answer(ls[byID[id][0].key], byID[id], batchOutcome{r: spentOn(failed[id], unusable[id]), err: err})
	}
}

// spentOn is the reply returned with a line's error: its failed calls and its unusable ones
// (u), as Retry returns a synchronous call's.
func spentOn(failed int, u Reply) Reply {
	u.Calls, u.FailedCalls = failed+u.UnusableCalls, failed
	return u
}

// reserveAgain reserves, under a spend cap, one more worst case for the paid request of a
// line (ws) that goes in a new job after an unusable attempt, as Retry does before a
// synchronous retry; a refusal is returned.
func (c *Collector) reserveAgain(ctx context.Context, ws []*waiter) error {
	if w := ws[payer(ws)]; !w.free && w.again != nil {
		return w.again(ctx)
	}
	return nil
}

// lines groups waiting calls by cache key: one line each, sent as the request, and under the
// custom id, that is first by custom id (which of a key's requests arrived first is timing;
// their seeds may differ where the key leaves out what they differ in, such as the round).
// A resumed run finds the line's journaled job by the same id when the same requests wait; if
// fewer do (some were recorded before the stop), by any of them found in the journal.
func (c *Collector) lines(ws []*waiter) (byID map[string][]*waiter, ids []string) {
	byKey := map[Key][]*waiter{}
	var keys []Key
	for _, w := range ws {
		k := w.key
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], w)
	}
	byID = map[string][]*waiter{}
	for _, k := range keys {
		g := byKey[k]
		slices.SortStableFunc(g, func(a, b *waiter) int { return strings.Compare(a.id, b.id) })
		id := g[0].id
		if c.cfg.Journal != nil {
			for _, w := range g {
				if _, ok := c.cfg.Journal.Lookup(w.id); ok {
					id = w.id
					break
				}
			}
		}
		if byID[id] == nil {
			ids = append(ids, id)
		}
		// The line's request is the one its id names, first in the group.
		i := slices.IndexFunc(g, func(w *waiter) bool { return w.id == id })
		g[0], g[i] = g[i], g[0]
		byID[id] = append(byID[id], g...)
	}
	return byID, ids
}

func (c *Collector) lookup(id string, attempt int) (string, bool) {
	if attempt > 1 || c.cfg.Journal == nil {
		return "", false
	}
	return c.cfg.Journal.Lookup(id)
}

// BatchJobError is a failure to submit, poll or download a batch job (not a request's own
// failure): the run stops rather than record its requests invalid, since a resumed run polls
// the journaled job again without paying for its requests twice.
type BatchJobError struct{ Err error }

func (e *BatchJobError) Error() string { return e.Err.Error() }
func (e *BatchJobError) Unwrap() error { return e.Err }

func (c *Collector) fail(byID map[string][]*waiter, ids []string, ls map[Key]*line, err error) {
	if !errors.Is(err, context.Canceled) {
		err = &BatchJobError{Err: err}
	}
	for _, id := range ids {
		c.answer(ls[byID[id][0].key], byID[id], batchOutcome{err: err})
	}
}

// await polls a job until it ends and returns its results.
func (c *Collector) await(ctx context.Context, id string) (map[string]BatchResult, error) {
	last := ""
	for {
		state, ended, note, err := c.cfg.Client.BatchStatus(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s: batch %s: %w", c.cfg.Name, id, err)
		}
		if line := state + " " + note; line != last {
			last = line
			c.progress("batch %s: %s %s", id, state, note)
		}
		if ended {
			return c.cfg.Client.BatchResults(ctx, id)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(c.cfg.Poll):
		}
	}
}

func (c *Collector) progress(format string, args ...any) {
	if c.cfg.Progress != nil {
		c.cfg.Progress(c.cfg.Name + ": " + fmt.Sprintf(format, args...))
	}
}
