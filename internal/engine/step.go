package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/backend/tokens"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// backendOf maps a cell to its backend entry.
func (r *Runner) backendOf(c *study.Cell) *backendEntry {
	for _, b := range r.backends {
		if b.label == c.Backend {
			return b
		}
	}
	panic("engine: cell of unknown backend " + c.Backend)
}

// recorded reports whether the study journals its decisions.
func (r *Runner) recorded() bool {
	u, ok := r.study.(study.Unrecorded)
	return !ok || !u.Unrecorded()
}

// runStudy steps a registered study to its end: each batch is decided in full before the
// next is asked for.
func (r *Runner) runStudy(ctx context.Context) error {
	_, contingent := r.study.(study.Contingent)
	r.prog = newProgressAgain(r.opt.Progress, r.study.Expected(), r.done.len(), r.exp.Name, contingent, r.reask).watching(r.watch, r.refusing)
	r.offerTyped()
	for {
		b, err := r.study.Next()
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		if err := r.decideBatch(ctx, b); err != nil {
			return err
		}
	}
}

// recordedReplies returns the recorded replies of a task, read from the store, if every
// decision of it is recorded (r.done); ok is false otherwise.
func (r *Runner) recordedReplies(t *study.Task) (replies []backend.Reply, ok bool, err error) {
	if r.done == nil || !r.allDone(t) {
		return nil, false, nil
	}
	out := make([]backend.Reply, len(t.Keys))
	for i, k := range t.Keys {
		d, found, err := r.st.Decision(k)
		if err != nil {
			return nil, false, err
		}
		if !found {
			// Its key's hash is another recorded key's (keyset.go): ask it.
			return nil, false, nil
		}
		out[i] = replyOf(d.Reply)
	}
	return out, true, nil
}

// maxHeld is the most decisions whose replies a replay keeps in memory from its first pass
// (Runner.held): about 370 bytes each (heldReplies), so 95 MB at most. Reading them again a
// step at a time was half of a replay of 200,000 decisions (prosim serve's first load of a
// results page), and a third of its CPU is saved; a larger run is read twice, a step at a
// time (its memory a step's replies).
const maxHeld = 250_000

// readRecorded reads the recorded replies of a batch's tasks that are all recorded, for a
// resumed run of a batch with Keys and Absorb: their keys, in the key's order, are sought many
// to a query (Store.DecisionsAt), so the seeks walk the index forward. One query per decision
// was most of a resume with nothing left to ask; a range read over the step's agents read
// the rows of their other rounds and stages too (Study 2's trial positions: every trial of
// the run at each). Memory is a batch's worth (a round, a games step).
func (r *Runner) readRecorded(b *study.Batch) (map[store.Key]backend.Reply, error) {
	if r.done == nil || r.st == nil || b.Keys == nil || b.Absorb == nil {
		return nil, nil
	}
	if r.held != nil {
		return nil, nil // every recorded reply is held (stepReply)
	}
	var keys []store.Key
	for i := range b.Len() {
		kt := b.Keys(i)
		if r.deps.isStale(kt.Cell.ID) || !r.allDone(&kt) {
			continue
		}
		keys = append(keys, kt.Keys...)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	slices.SortFunc(keys, store.CompareKeys)
	out := make(map[store.Key]backend.Reply, len(keys))
	err := r.st.DecisionsAt(keys, func(d store.Decision) error {
		out[d.Key] = replyOf(d.Reply)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stepReply returns a task's replies from those readRecorded read; ok is false when one of
// its keys was not read (none were, or its key's hash is another recorded key's: keyset.go).
func (r *Runner) stepReply(t *study.Task) (replies []backend.Reply, ok bool) {
	if r.held != nil {
		out := make([]backend.Reply, len(t.Keys))
		for i, k := range t.Keys {
			if out[i], ok = r.held.reply(k); !ok {
				return nil, false // not recorded: its key's hash is another recorded key's
			}
		}
		return out, true
	}
	if r.stepReplies == nil {
		return nil, false
	}
	out := make([]backend.Reply, len(t.Keys))
	for i, k := range t.Keys {
		rep, found := r.stepReplies[k]
		if !found {
			return nil, false
		}
		out[i] = rep
	}
	return out, true
}

// decideBatch makes a batch's decisions with bounded concurrency, skipping those already
// journaled, and journals each (for recorded studies) as it comes. A pool of
// r.exp.Concurrency workers pulls task indices in order (a goroutine per decision costs more
// than a behavioural-model decision: a fresh stack grown anew each time, and the scheduling).
// The first error cancels the others, which take no further task; so does an interrupt. A
// call refused by the spend cap cancels nothing: the workers take no further task and the
// decisions in flight finish and are journaled (they are paid for).
func (r *Runner) decideBatch(ctx context.Context, b *study.Batch) error {
	rec := r.recorded()
	if b.Typed != nil && !rec && r.group == nil {
		return r.decideTyped(ctx, b)
	}
	n := b.Len()
	pre, err := r.readRecorded(b)
	if err != nil {
		return err
	}
	r.stepReplies = pre
	defer func() { r.stepReplies = nil }()
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	var stopped, capped atomic.Bool
	var capErr atomic.Pointer[error]
	workers := min(r.exp.Concurrency, n)
	if r.group != nil {
		// Batch mode: every decision of the step is asked at once, and the group submits the
		// calls as one job once every worker waits on it (see backend.BatchGroup).
		workers = n
		r.group.Begin(gctx, workers)
	}
	for range workers {
		g.Go(func() (err error) {
			if r.group != nil {
				defer r.group.Done()
			}
			// The worker's last paid reply may still be committing: it is awaited on every
			// way out (an error, a cancel, the batch's end), so the step's replies are in the
			// store when the batch ends and a received reply is never abandoned.
			var c commitSlot
			defer func() {
				if cerr := c.wait(); err == nil {
					err = cerr
				}
			}()
			for {
				if capped.Load() {
					return nil
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if gctx.Err() != nil {
					stopped.Store(true) // a decision failed or the run was interrupted: take no more
					return nil
				}
				if err := r.decideTask(gctx, b, i, rec, &c); err != nil {
					if errors.Is(err, backend.ErrBudget) {
						capErr.CompareAndSwap(nil, &err)
						capped.Store(true)
						return nil
					}
					return err
				}
			}
		})
	}
	err = g.Wait()
	r.deps.endStep()
	if p := capErr.Load(); err == nil && p != nil {
		err = *p
	}
	if err == nil && stopped.Load() {
		// Interrupted between decisions, with every decision in flight ending well: the
		// ones never taken are still missing, so the run must not be taken as complete.
		err = ctx.Err()
	}
	if r.st != nil {
		if ferr := r.st.Flush(); ferr != nil && err == nil {
			err = ferr
		}
	}
	return err
}

// decideTask makes task i of a batch: from the store when it is recorded there (a resumed
// run), else from its backend (recorded for recorded studies); then gives the replies to
// Absorb. A recorded task of a batch without Absorb is only counted: its study reads no reply
// while it runs (or reads it from the store itself, Env.Reply). c is the worker's commit slot.
func (r *Runner) decideTask(ctx context.Context, b *study.Batch, i int, rec bool, c *commitSlot) error {
	if r.done != nil && b.Keys != nil {
		// A recorded task is read back from its keys, without building its request.
		if kt := b.Keys(i); !r.deps.isStale(kt.Cell.ID) && r.allDone(&kt) {
			if b.Absorb == nil {
				return nil
			}
			if ok, err := r.absorbRecorded(b, i, &kt); ok || err != nil {
				return err
			}
		}
	}
	t, err := b.Task(i)
	if err != nil {
		return err
	}
	replaced := 0
	if r.done != nil && r.deps.isStale(t.Cell.ID) {
		replaced = r.recordedCount(&t) // answered an outdated prompt: asked again (reasked.go)
	} else if r.done != nil && b.Absorb == nil && r.allDone(&t) {
		return nil // counted by the progress from the start, with the saved
	} else if r.done != nil {
		if ok, err := r.absorbRecorded(b, i, &t); ok || err != nil {
			return err
		}
	}
	replies, stop := r.ask(ctx, &t)
	if stop != nil && replies == nil {
		return stop
	}
	r.deps.wasAsked(t.Cell.ID, replaced)
	if rec {
		ds := c.decisions(len(t.Keys))
		for j, k := range t.Keys {
			ds[j] = store.Decision{Key: k, Params: t.Params[j], Reply: record(replies[j])}
		}
		// A paid reply's commit starts at once (group commit: one transaction for the
		// replies of all workers arriving meanwhile) and the worker asks its next decision
		// while it runs. The reply is exposed to a crash from its arrival until that write
		// either way; waiting would only idle the worker (the disk's fsync follows within
		// 10 ms, store/sync.go). Each worker keeps one commit outstanding
		// when it sends a call (it awaits the last after starting the next, commitSlot.start),
		// so a kill -9 loses at most the calls in flight and the replies being committed:
		// 2 x concurrency. The behavioural model's and the cache's replies are free to make
		// again and go in batches.
		if r.backendOf(t.Cell).paid() && !allCached(replies) {
			err = c.start(r.st, ds)
		} else {
			for _, d := range ds {
				if err = r.st.Add(d); err != nil {
					break
				}
			}
		}
		clear(ds) // queued: the store has its copy
		if err != nil {
			return errors.Join(stop, err)
		}
	}
	if r.prog != nil {
		// Made, even when the run then stops: it is saved. Its keys that were saved before
		// (an outdated prompt's, asked again) are counted among the saved already.
		r.prog.add(len(t.Keys) - replaced)
	}
	if stop != nil {
		return stop // replies recorded, then the run stops (errRejectsAll)
	}
	if b.Absorb != nil {
		return b.Absorb(i, &t, replies)
	}
	return nil
}

// absorbRecorded gives b.Absorb task i's replies when every decision of it, t, is recorded:
// those readRecorded read for the step (stepReply), else the store's (recordedReplies). ok is
// false, with no error, when one is not recorded: the task is to be asked. stepReply finds
// nothing for a task readRecorded passed over (a stale or not fully recorded one, or a batch
// without Keys), so the task path may ask it too.
func (r *Runner) absorbRecorded(b *study.Batch, i int, t *study.Task) (ok bool, err error) {
	replies, ok := r.stepReply(t)
	if !ok {
		if replies, ok, err = r.recordedReplies(t); err != nil || !ok {
			return false, err
		}
	}
	return true, b.Absorb(i, t, replies)
}

// commitSlot is a worker's outstanding commit of paid replies: at most one.
type commitSlot struct {
	p    store.Pending
	busy bool
	buf  []store.Decision // a task's decisions until the store queues them (a copy)
}

// decisions is the slot's buffer for n decisions.
func (c *commitSlot) decisions(n int) []store.Decision {
	c.buf = slices.Grow(c.buf[:0], n)[:n]
	return c.buf
}

// start starts committing ds, then awaits the slot's earlier commit, if any, and keeps the
// new one in the slot. Starting first lets ds join the group gathering while the earlier
// one is written, rather than the group after it (which, when the worker waited first, was
// closed by the time that write ended: with n workers, groups of about n/2). The worker
// still has at most one reply uncommitted when it sends its next call. When the earlier
// commit failed, ds are still queued (a later write, the store's closing flush, tries them
// again) and its error is returned: the run fails as a failed commit always has.
func (c *commitSlot) start(st *store.Store, ds []store.Decision) error {
	p := st.Start(ds...)
	err := c.wait()
	c.p, c.busy = p, true
	return err
}

// wait awaits the slot's commit, if any, and empties the slot.
func (c *commitSlot) wait() error {
	if !c.busy {
		return nil
	}
	c.busy = false
	return c.p.Wait()
}

// allDone reports whether every decision of t is recorded (r.done).
func (r *Runner) allDone(t *study.Task) bool {
	for _, k := range t.Keys {
		if !r.done.has(k) {
			return false
		}
	}
	return true
}

// allCached reports whether every reply came from the response cache, with no provider call.
func allCached(replies []backend.Reply) bool {
	for _, rep := range replies {
		if !rep.Cached || rep.Calls > 0 {
			return false
		}
	}
	return true
}

// ask puts one task to its backend and splits the reply into one per decision.
func (r *Runner) ask(ctx context.Context, t *study.Task) ([]backend.Reply, error) {
	be := r.backendOf(t.Cell)
	if r.estimating {
		return r.placeholder(t), nil
	}
	if r.replaying {
		k := t.Keys[0]
		return nil, fmt.Errorf("%w: no decision is recorded for agent %d, %s, round %d, trial %d, run %s (continue it with prosim resume)",
			errIncomplete, k.AgentID, k.Scenario, k.Round, k.Trial, t.Cell.ID)
	}
	reply, err := r.decide(ctx, be, t)
	if err != nil {
		if bs, ok := errors.AsType[*backendStop](err); ok && bs.kind == errRejectsAll {
			// Recorded invalid like the asks before it, so that the run's calls add up to
			// the server's (QA10: the one that stopped the run was missing); then the stop.
			return r.recordInvalid(be, t, reply, bs.cause), fmt.Errorf("agent %d, %s, run %s: %w", t.Keys[0].AgentID, t.Keys[0].Scenario, t.Cell.ID, err)
		}
		if errors.Is(err, errServerGone) {
			r.noteUnrecorded(be, err, reply)
			return nil, fmt.Errorf("agent %d, %s, run %s: %w", t.Keys[0].AgentID, t.Keys[0].Scenario, t.Cell.ID, err)
		}
		if errors.Is(err, backend.ErrBudget) && reply.UnusableCalls > 0 {
			// The cap refused the retry of a reply that came with HTTP 200 but could not be
			// used, or of a call that timed out after sending, which may have been billed: recorded invalid with the refusal as its
			// reason, so that prosim.db's calls and cost hold it, then the run stops at the
			// cap. A resume asks it again (loadRecorded).
			return r.recordInvalid(be, t, reply, err), err
		}
		if !r.recordsError(ctx, be, err) {
			r.noteUnrecorded(be, err, reply)
			switch {
			case rejectsStructured(err):
				err = fmt.Errorf("%w\nthis server rejects response_format: set structured_output: json_object (or off) on backend %s", err, be.label)
			case backend.Unreachable(err) && !be.reached.Load():
				err = fmt.Errorf("%w\nbackend %s: no call has reached its server: %s", err, be.label, backend.Reason(err))
			}
			return nil, fmt.Errorf("agent %d, %s, run %s: %w", t.Keys[0].AgentID, t.Keys[0].Scenario, t.Cell.ID, err)
		}
		// on_error: record: the decision is recorded invalid with the error as its reason
		// (resume --retry-invalid asks it again); its calls are in the backend's meter. The
		// reason is the provider's error alone: the row names the agent, scenario and run, and
		// equal failures then count as one reason in the summary's most common reasons.
		// Its calls are the attempts that reached the provider (the reply returned with the
		// error counts them), on the task's first decision only, so that the run's calls sum
		// to what the provider counted.
		return r.recordInvalid(be, t, reply, err), nil
	}
	r.account(be, reply, len(t.Keys))
	if t.Split != nil {
		return t.Split(reply), nil
	}
	return []backend.Reply{reply}, nil
}

// recordInvalid is the replies of task t whose ask of be failed with err: each invalid, the
// error its reason; reply's calls and tokens go on the first (see ask).
func (r *Runner) recordInvalid(be *backendEntry, t *study.Task, reply backend.Reply, err error) []backend.Reply {
	rep := backend.Reply{Invalid: errorReason + err.Error(), Provider: be.cfg.Provider, Model: be.cfg.Model}
	out := make([]backend.Reply, len(t.Keys))
	for i := range out {
		out[i] = rep
	}
	out[0].Calls, out[0].FailedCalls, out[0].InputTokens, out[0].OutputTokens, out[0].CostUSD = reply.Calls, reply.FailedCalls, reply.InputTokens, reply.OutputTokens, reply.CostUSD
	out[0].UnusableCalls, out[0].NoUsageCalls = reply.UnusableCalls, reply.NoUsageCalls
	r.account(be, out[0], len(t.Keys))
	return out
}

// errServerGone marks the stop of a run whose server stopped answering (decide).
var errServerGone = errors.New("the server stopped answering")

// decide asks be for task t. A decision whose every call was refused after the server had
// answered (a server that died or restarts; backend.Refused) is asked again, not recorded
// invalid: a refused call costs nothing and was not answered. When refusalLimit asks of the
// backend in a row were refused, with no answer between, the run stops with errServerGone,
// leaving those decisions to resume. Only answers of the batch's other asks, which are
// finite, keep a refused decision from the limit (one sent to the dead endpoint of several
// is answered by another, or left alone reaches the limit). The reply returned counts the
// calls of the refused asks before it too (an attempt sent, then refused retries), so that
// the decisions' calls sum to the backend meter's.
func (r *Runner) decide(ctx context.Context, be *backendEntry, t *study.Task) (backend.Reply, error) {
	var spent, failed int // calls of the refused asks
	for {
		reply, err := be.be.Decide(ctx, t.Req)
		if reply.Calls > 0 {
			be.reached.Store(true)
		}
		if (err == nil && !reply.Cached) || reply.OutputTokens > 0 { // a re-ask's 400 after an answer too
			be.answered.Store(true)
		}
		refused := err != nil && backend.Refused(err)
		if !refused && reply.Calls > 0 {
			be.refused.Store(0) // the server answered (a cached reply says nothing of it)
		}
		reply.Calls, reply.FailedCalls = reply.Calls+spent, reply.FailedCalls+failed
		if !refused {
			if se := r.rejectsAll(ctx, be, reply, err); se != nil {
				if be.answered.Load() {
					return reply, r.stopBackend(be, err, errRejectsAll, fmt.Sprintf("%d asks in a row failed with HTTP 400 after it had answered, none answered between, so every decision would (the server says: %s); asks already in flight then are recorded invalid with them. The account or the server refuses every request now (a credit balance too low, a key's limit): fix it, then run `prosim resume %s --retry-invalid` to ask the decisions it rejected again",
						r.refusalLimit(), se.Body, r.dir))
				}
				return reply, r.stopBackend(be, err, errRejectsAll, fmt.Sprintf("its first %d asks all failed with HTTP 400 and none was answered, so every decision would (the server says: %s); asks already in flight then are recorded invalid with them. Fix the setting it names (the backend's, or a factor's level) and start the run again; if the server was at fault, run `prosim resume %s --retry-invalid` once it is fixed",
					r.refusalLimit(), se.Body, r.dir))
			}
			return reply, err
		}
		if r.group != nil || !be.reached.Load() || !r.recordsError(ctx, be, err) {
			return reply, err // stops the run (the start-up rule, on_error: stop, an interrupt) or a batch job's
		}
		spent, failed = reply.Calls, reply.FailedCalls
		n := be.refused.Add(1)
		if n >= int64(r.refusalLimit()) {
			return reply, r.stopBackend(be, err, errServerGone, fmt.Sprintf("%s (%d asks in a row refused in every call; their decisions are not recorded): run `prosim resume %s` once it is back",
				backend.Reason(err), n, r.dir))
		}
	}
}

// errRejectsAll marks the stop of a run whose server refused refusalLimit asks in a row with
// HTTP 400 (decide, rejectsAll).
var errRejectsAll = errors.New("the server rejects the run's requests")

// backendStop is the stop of a run on a backend's failure: kind (errServerGone,
// errRejectsAll) says why; cause is the ask's own failure (for errRejectsAll, recorded as its
// decision's reason).
type backendStop struct {
	cause, kind error
	msg         string
}

func (e *backendStop) Error() string   { return e.msg }
func (e *backendStop) Unwrap() []error { return []error{e.cause, e.kind} }

// stopBackend stops the run on err, a failed ask of be: it says so on the progress output and
// returns the stop, err's message followed by "backend LABEL: KIND: DETAIL".
func (r *Runner) stopBackend(be *backendEntry, err, kind error, detail string) error {
	if r.prog != nil {
		r.prog.stopping(fmt.Sprintf("%s: %s", kind, backend.Reason(err)))
	}
	return &backendStop{cause: err, kind: kind, msg: fmt.Sprintf("%v\nbackend %s: %v: %s", err, be.label, kind, detail)}
}

// rejectsAll counts the asks of be in a row that failed with HTTP 400, with no answer
// between, and returns the HTTP 400 of this one, reply and err, when it makes refusalLimit;
// nil otherwise. A 400 is a
// request the server will not take: one prompt may be too long, but it is asked once; when
// refusalLimit asks in a row meet it, the cause is a setting every request carries (a
// temperature, a parameter the model does not take) or the account (Anthropic answers a
// credit balance too low with a 400), and recording every remaining decision invalid would
// only spend the run. An answer, or another failure that reached the server, ends the row.
// The asks before the limit are recorded invalid as usual; the one at it stops the run.
// Batch jobs and on_error: stop are not counted (those stop at the first failure, or keep
// their own journal).
func (r *Runner) rejectsAll(ctx context.Context, be *backendEntry, reply backend.Reply, err error) *backend.StatusError {
	se, ok := errors.AsType[*backend.StatusError](err)
	if !ok || se.Status != 400 || reply.OutputTokens > 0 {
		if reply.Calls > 0 { // a cached reply says nothing of the server
			be.rejected.Store(0)
		}
		return nil
	}
	if r.group != nil || !r.recordsError(ctx, be, err) {
		return nil
	}
	if be.rejected.Add(1) < int64(r.refusalLimit()) {
		return nil
	}
	return se
}

// refusing says, for the progress output, how close each backend is to stopping the run on
// refusals ("" when none is refusing).
func (r *Runner) refusing() string {
	var s []string
	for _, b := range r.backends {
		if n := b.refused.Load(); n > 0 {
			s = append(s, fmt.Sprintf("backend %s: %d asks in a row refused (the run stops at %d)", b.label, n, r.refusalLimit()))
		}
	}
	return strings.Join(s, ", ")
}

// refusalLimit is how many asks of a backend in a row may be refused (backend.Refused)
// before the run stops: twice the concurrency, at least 8. Each ask has spent its whole
// retry budget (by default 6 attempts, their back-offs 8 s on average) and the workers ask in
// parallel, so every call for about two retry budgets has been refused whatever the
// concurrency (eight budgets with one or two workers): a server restarting for a moment does
// not stop the run, one that is gone stops it in about 20 s at the default retries, not after
// asking every decision.
func (r *Runner) refusalLimit() int { return max(8, 2*r.exp.Concurrency) }

// placeholder answers a task while estimating: the study's own placeholder when it has one,
// else every field at the middle of its range (the first option of a choice).
func (r *Runner) placeholder(t *study.Task) []backend.Reply {
	var rep backend.Reply
	if e, ok := r.study.(study.Estimator); ok {
		rep = e.Placeholder(t)
	} else {
		rep = study.Midpoint(t.Req.Schema)
	}
	if t.Split != nil {
		return t.Split(rep)
	}
	return []backend.Reply{rep}
}

// estimateStudy counts what each backend would be asked. Nothing is written. When no
// backend needs its requests' tokens (every one is the behavioural model) and the study
// counts its decisions itself (study.Counted), that count is the answer: no request is built.
// Otherwise the study is played with placeholder answers, each request built, counted and
// dropped. With cache, the run's reply cache, a request it holds makes no call (Cached) and the
// study gets its cached replies, as the run will; one built after a placeholder reply reached
// the study is not looked up (Unknown).
func (r *Runner) estimateStudy(by map[*backendEntry]*Estimate, cache backend.CacheStore) (note string, err error) {
	r.estimating = true
	r.env.Estimate = true
	if e, ok := r.study.(study.Estimator); ok {
		note = e.EstimateNote()
	}
	if c, ok := r.study.(study.Counted); ok && !slices.ContainsFunc(r.backends, func(b *backendEntry) bool { return b.cfg.Provider != "builtin" }) {
		for _, cell := range r.env.Cells {
			by[r.backendOf(cell)].Decisions += c.CellDecisions(cell)
		}
		return note, nil
	}
	prices := r.callPrices()
	counters := map[*backendEntry]*tokens.Counter{}
	for _, b := range r.backends {
		if b.cfg.Provider != "builtin" {
			counters[b] = tokens.For(b.cfg.Provider, b.cfg.Model)
			by[b].Tokenizer = counters[b].Tokenizer()
		}
	}
	// An agent's identical requests are one draw (runcache.go): a copy makes no call.
	keys := map[*backendEntry]map[backend.Key]struct{}{}
	var lookupErr error
	// held looks a task's request up in the cache as the run's chain does (Validate over the
	// cache: a repair turn is looked up too): the replies the run would get, or ok false on a
	// miss (the run would call).
	var held []backend.Reply
	lookups := map[*backendEntry]backend.Backend{}
	if cache != nil {
		errMiss := errors.New("not in the reply cache")
		for _, b := range r.backends {
			if b.cfg.Provider == "builtin" {
				continue
			}
			id, _, err := r.cacheID(b.cfg)
			if err != nil {
				return "", err
			}
			lookups[b] = backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
				rep, ok, err := cache.Get(ctx, backend.KeyOf(id, req))
				switch {
				case err != nil:
					lookupErr = fmt.Errorf("reading the reply cache: %w", err)
					return backend.Reply{}, err
				case !ok:
					return backend.Reply{}, errMiss
				}
				rep.Cached = true
				return rep, nil
			}), *r.exp.MaxRepairs)
		}
		r.cachedReplies = func(*study.Task) ([]backend.Reply, bool) {
			h := held
			held = nil
			return h, h != nil
		}
		defer func() { r.cachedReplies = nil }()
	}
	lookup := func(be *backendEntry, t *study.Task) bool {
		rep, err := lookups[be].Decide(context.Background(), t.Req)
		if err != nil {
			return false
		}
		held = []backend.Reply{rep}
		if t.Split != nil {
			held = t.Split(rep)
		}
		return true
	}
	err = r.playSteps(func(t *study.Task, _ int, placeheld bool) bool {
		be := r.backendOf(t.Cell)
		e := by[be]
		e.Decisions += len(t.Keys)
		if be.cfg.Provider != "builtin" {
			ks := keys[be]
			if ks == nil {
				ks = map[backend.Key]struct{}{}
				keys[be] = ks
			}
			k := backend.KeyOf(backend.BackendID{}, t.Req)
			if _, ok := ks[k]; ok {
				e.Copies++
				if cache != nil && !placeheld {
					lookup(be, t) // the twin's reply, when cached, is the copy's
				}
				return lookupErr == nil
			}
			if len(ks) < maxCopyKeys {
				ks[k] = struct{}{}
			} else {
				e.copiesCut = true
			}
			if cache != nil && placeheld {
				e.Unknown++
			} else if cache != nil {
				if lookup(be, t) {
					e.Cached++
					return true
				}
				if lookupErr != nil {
					return false
				}
			}
		}
		e.Calls++
		e.MaxTokens = max(e.MaxTokens, t.Req.Sampling.MaxTokens)
		e.JSONOutputTokens += backend.ExpectedOutputTokens(t.Req)
		in, out := backend.EstimateIO(t.Req)
		if c := counters[be]; c != nil && c.Tokenizer() != "" {
			in, out = backend.EstimateIOWith(t.Req, c.Count)
		}
		e.InputTokens += in
		e.OutputTokens += out
		if r.budgetCap() > 0 {
			// What a spend cap reserves for the call: its worst case at the price calls are billed.
			// Replicates asked in one call (n) reserve n replies' output: the group's size bounds it.
			req := t.Req
			req.N = r.sampleGroup(be)
			wi, wo := backend.WorstCase(req, providers.DefaultMaxTokens(be.cfg.Provider))
			if c, ok := prices.Cost(canonicalProvider(be.cfg.Provider), be.cfg.Model, wi, wo); ok {
				e.WorstCallUSD = max(e.WorstCallUSD, c)
			}
		}
		return true
	})
	if err == nil {
		err = lookupErr
	}
	return note, err
}

// errorReason begins the invalid reason of a decision recorded after its backend failed.
const errorReason = "error: "

// recordsError reports whether a failure of backend be is recorded as an invalid decision
// (on_error: record, the default) rather than stopping the run: not when the run is
// interrupted, and not for failures that every decision would meet (a rejected key, an
// unknown model or endpoint, a worker's backend that cannot be built, a server that no call
// has reached after its retries), which are better fixed than recorded.
func (r *Runner) recordsError(ctx context.Context, be *backendEntry, err error) bool {
	if r.exp.OnError == "stop" || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, backend.ErrBudget) {
		return false
	}
	var se *backend.StatusError
	if errors.As(err, &se) && (se.Status == 401 || se.Status == 403 || se.Status == 404) {
		return false
	}
	if _, ok := errors.AsType[*backend.ConfigError](err); ok {
		return false
	}
	if backend.Unreachable(err) && !be.reached.Load() {
		// Not one call of this invocation has reached the server (none started, a wrong
		// address): every decision would be recorded invalid. Once one has, a refusal is
		// asked again until too many in a row stop the run (decide).
		return false
	}
	if rejectsStructured(err) {
		return false // every decision would fail alike: stop with the fix (see ask)
	}
	if _, ok := errors.AsType[*backend.BatchJobError](err); ok {
		return false // the job is journaled: resume collects it
	}
	return true
}

// rejectsStructured reports whether a call failed because the server refuses the structured
// output it was asked for: an HTTP 400 whose body names response_format or json_schema.
func rejectsStructured(err error) bool {
	se, ok := errors.AsType[*backend.StatusError](err)
	return ok && se.Status == 400 && (strings.Contains(se.Body, "response_format") || strings.Contains(se.Body, "json_schema"))
}

// erred reports whether a recorded decision is one that failed with an error (on_error: record).
func erred(d store.Decision) bool { return strings.HasPrefix(d.Reply.Invalid, errorReason) }

// budgetRefused reports whether a recorded decision is one whose retry the spend cap refused
// (ask): its reason is the budget's refusal (backend.BudgetError).
func budgetRefused(d store.Decision) bool {
	return strings.HasPrefix(d.Reply.Invalid, errorReason+"budget of $")
}
