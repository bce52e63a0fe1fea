package backend

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// WrapReplicates is Wrap for a next that can return several samples of one request in one
// call (its client implements Multi, and Request.N travels down to it), when every request is
// asked as replicates 1..replicates that differ only in Request.Replicate (and Seed).
//
// The replicates of a request form a group, and one group's first turns are decided one at a
// time. The first replicate to miss the cache asks, in one call with N set, for every replicate
// of its group not yet cached, and stores the samples under the replicates' own keys in
// ascending replicate order: sample i goes to the i-th missing replicate. If the server returns
// fewer samples than asked, the rest are asked for again at once, until every missing
// replicate has its sample. The other replicates, asked later or meanwhile, are then cache hits.
//
// Whether the server honours n is probed once, by the first group call: other group calls wait
// for its answer. The finding is kept in the cache's store per provider, model and base URL,
// so a later run with the same cache does not probe again (a fresh cache probes anew). A server that accepts n but returns one choice (Ollama) is remembered as
// ignoring it, and from then on every replicate is asked alone, as with n: off, so that each
// call is counted on the decision it served and no replicate reads as a cache hit that was in
// fact a call. The probe's reply is then dropped, since it was drawn with the group's seed and
// which group probes depends on scheduling; its one call is counted on the decision that made
// it. Each call of a group is sent with a seed derived from
// the request's content and the replicates it asks for, not from any one replicate's Seed.
//
// So which replicate happens to ask first, which depends on scheduling, changes nothing: given
// the cache's contents (empty, for a new experiment) and a deterministic server, the results do
// not depend on concurrency, and a replay reads back exactly what the run recorded. (They
// differ from one call per replicate, whose seeds differ.)
//
// The decision whose request made the calls carries their calls, tokens and cost; the
// replicates served by them are cache hits and cost nothing, so usage counts each call once.
// Repair turns are asked alone: they continue one replicate's conversation.
//
// seed is mixed into the seeds of group calls, so that a new experiment seed draws new samples
// from servers that honour seeds, as it does when each replicate is asked alone; it is not part
// of the cache key (no seed is).
func (c *Cache) WrapReplicates(next Backend, id BackendID, replicates int, seed uint64) Backend {
	if replicates < 2 {
		return c.wrap(next, id, nil)
	}
	return c.wrap(next, id, &fanOut{c: c, id: id, n: replicates, seed: seed, locks: map[Key]*groupLock{},
		probe: make(chan struct{}, 1), known: make(chan struct{})})
}

// What the fan-out knows of the server's n.
const (
	nUnknown int32 = iota
	nHonoured
	nIgnored
)

type fanOut struct {
	c    *Cache
	id   BackendID
	n    int
	seed uint64

	mu    sync.Mutex
	locks map[Key]*groupLock

	// nState is nUnknown until the first group call has answered; probe is the token of the
	// one group call that may ask meanwhile, known is closed when nState is set.
	nState   atomic.Int32
	probe    chan struct{}
	known    chan struct{}
	recalled sync.Once
}

// settle records what the probe learnt (or what an earlier run's probe learnt), once.
func (f *fanOut) settle(state int32) bool {
	if f.nState.CompareAndSwap(nUnknown, state) {
		close(f.known)
		return true
	}
	return false
}

// What a probe learnt is kept in the cache's store under a key of its own (nProbeKey), so
// that a later run against the same endpoint and model, with the same cache, does not probe
// again: its Raw is one of these.
const (
	nMemoryHonoured = "n honoured"
	nMemoryIgnored  = "n ignored"
)

// nProbeKey is where the probe's finding for id's endpoint and model is kept: a key no request
// can have (KeyOf hashes a different version string first).
func nProbeKey(id BackendID) Key {
	return KeyOf(BackendID{Provider: "prosim-n-probe-v1\x00" + id.Provider, Model: id.Model, BaseURL: id.BaseURL}, Request{})
}

// recall settles the state from an earlier run's probe, if the store has one.
func (f *fanOut) recall(ctx context.Context) {
	f.recalled.Do(func() {
		honoured, known, err := RememberedN(ctx, f.c.store, f.id)
		switch {
		case err != nil || !known:
			// unknown: probe
		case honoured:
			f.settle(nHonoured)
		default:
			f.settle(nIgnored)
		}
	})
}

// RememberedN is what an earlier run's probe learnt about whether id's endpoint and model
// honour n, as kept in s: known is false when no run has probed them with this store.
func RememberedN(ctx context.Context, s CacheStore, id BackendID) (honoured, known bool, err error) {
	r, ok, err := s.Get(ctx, nProbeKey(id))
	if err != nil || !ok {
		return false, false, err
	}
	switch r.Raw {
	case nMemoryHonoured:
		return true, true, nil
	case nMemoryIgnored:
		return false, true, nil
	}
	return false, false, nil
}

// remember settles the state from this run's probe and keeps it for later runs. It is written
// straight to the store (not queued as a reply), so cache statistics count replies only; a
// failed write only means a later run probes again.
func (f *fanOut) remember(ctx context.Context, state int32) {
	if !f.settle(state) {
		return
	}
	raw := nMemoryHonoured
	if state == nIgnored {
		raw = nMemoryIgnored
	}
	e := CacheEntry{Key: nProbeKey(f.id), Reply: Reply{Raw: raw, Provider: f.id.Provider, Model: f.id.Model}}
	if err := f.c.store.Put(context.WithoutCancel(ctx), []CacheEntry{e}); err != nil {
		f.c.warn("write", err)
	}
}

// turn waits until a group call may be made: it returns the state of n, and probing true when
// the caller is to make the probe (and then must call release).
func (f *fanOut) turn(ctx context.Context) (state int32, probing bool, release func(), err error) {
	f.recall(ctx)
	for {
		if s := f.nState.Load(); s != nUnknown {
			return s, false, nil, nil
		}
		select {
		case f.probe <- struct{}{}:
			if s := f.nState.Load(); s != nUnknown { // settled while we waited for the token
				<-f.probe
				return s, false, nil, nil
			}
			return nUnknown, true, func() { <-f.probe }, nil
		case <-f.known:
		case <-ctx.Done():
			return nUnknown, false, nil, ctx.Err()
		}
	}
}

type groupLock struct {
	ch   chan struct{}
	refs int
}

// applies reports whether req is a replicate's first turn, which its group shares.
func (f *fanOut) applies(req Request) bool {
	return len(req.Repair) == 0 && req.N <= 1 && req.Replicate >= 1 && req.Replicate <= f.n
}

// lock takes the group's lock, or fails when ctx ends first.
func (f *fanOut) lock(ctx context.Context, gk Key) (unlock func(), err error) {
	f.mu.Lock()
	l := f.locks[gk]
	if l == nil {
		l = &groupLock{ch: make(chan struct{}, 1)}
		f.locks[gk] = l
	}
	l.refs++
	f.mu.Unlock()
	release := func() {
		f.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(f.locks, gk)
		}
		f.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// decide serves req, whose key k missed the cache, as described at WrapReplicates.
func (f *fanOut) decide(ctx context.Context, next Backend, req Request, k Key) (Reply, error) {
	g := req
	g.Replicate = -1
	gk := KeyOf(f.id, g)
	start := time.Now()
	unlock, err := f.lock(ctx, gk)
	if err != nil {
		return Reply{}, err
	}
	defer unlock()
	// Another replicate's calls may have served this one while it waited.
	if r, ok, err := f.c.lookup(ctx, k); err != nil || ok {
		f.c.hits.Add(b2i64(ok))
		r.Latency = time.Since(start)
		return r, err
	}
	f.c.misses.Add(1)
	var missing []int
	for rep := 1; rep <= f.n; rep++ {
		q := req
		q.Replicate = rep
		if rep == req.Replicate {
			missing = append(missing, rep)
		} else if _, ok, err := f.c.lookup(ctx, KeyOf(f.id, q)); err != nil {
			return Reply{}, err
		} else if !ok {
			missing = append(missing, rep)
		}
	}
	if len(missing) < 2 {
		return f.c.ask(ctx, next, req, k) // only this one is missing: ask it as it is
	}
	state, probing, release, err := f.turn(ctx)
	if err != nil {
		return Reply{}, err
	}
	if state == nIgnored {
		return f.c.ask(ctx, next, req, k)
	}
	var mine, spent Reply
	for len(missing) > 0 {
		q := req
		q.Replicate, q.N = missing[0], len(missing)
		if q.Seed != 0 {
			q.Seed = groupSeed(f.seed, gk, missing)
		}
		rep, err := next.Decide(ctx, q)
		spent = addSpent(spent, rep)
		if err != nil {
			if probing {
				release() // unsettled: the next group call probes
			}
			return spent, err
		}
		samples := append([]Reply{rep}, rep.Samples...)
		if probing {
			probing = false
			if len(samples) == 1 && len(missing) > 1 {
				f.remember(ctx, nIgnored)
				release()
				r, err := f.c.ask(ctx, next, req, k)
				r = addSpent(r, spent)
				r.Latency = time.Since(start)
				return r, err
			}
			f.remember(ctx, nHonoured)
			release()
		}
		served := min(len(samples), len(missing))
		for i, m := range missing[:served] {
			s := samples[i]
			s.Samples = nil
			if Cacheable(s) {
				q.Replicate = m
				if err := f.c.Put(context.WithoutCancel(ctx), KeyOf(f.id, q), s); err != nil {
					f.c.fail("write", err)
				}
			}
			if m == req.Replicate {
				mine = s
			}
		}
		missing = missing[served:]
	}
	mine = addSpent(mine.Unspent(), spent) // the group calls' spending, other models' included
	mine.Latency, mine.Cached = time.Since(start), false
	return mine, nil
}

// groupSeed is the seed of a group's call for the given replicates: a function of the
// experiment's seed, the request's content and which replicates are asked for.
func groupSeed(seed uint64, gk Key, missing []int) uint64 {
	h := sha256.New()
	h.Write(binary.BigEndian.AppendUint64(nil, seed))
	h.Write(gk[:])
	for _, m := range missing {
		h.Write([]byte(strconv.Itoa(m) + ","))
	}
	return binary.BigEndian.Uint64(h.Sum(nil)) | 1 // never 0, which means no seed
}

// addSpent adds what a call spent to r: its calls (failed ones too), tokens and cost.
func addSpent(r, call Reply) Reply {
	if r.Provider != "" {
		r.Others = othersOf(r, call, r.Provider, r.Model)
	} else {
		r.Others = othersOf(r, call, call.Provider, call.Model)
	}
	r.Calls += call.Calls
	r.FailedCalls += call.FailedCalls
	r.UnusableCalls += call.UnusableCalls
	r.NoUsageCalls += call.NoUsageCalls
	r.UnusableInputTokens += call.UnusableInputTokens
	r.UnusableOutputTokens += call.UnusableOutputTokens
	r.InputTokens += call.InputTokens
	r.OutputTokens += call.OutputTokens
	r.CostUSD += call.CostUSD
	if r.Provider == "" {
		r.Provider, r.Model, r.ModelVersion = call.Provider, call.Model, call.ModelVersion
	}
	return r
}
