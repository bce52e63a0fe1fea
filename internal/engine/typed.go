package engine

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/study"
)

// typedChunk is how many decisions a worker takes at a time on the typed path: a few
// milliseconds of work, so an interrupt is still seen at once and the progress stays live.
const typedChunk = 4096

// offerTyped gives a study that can use them (study.TypedBackends) its cells' typed backends:
// the behavioural model when it runs in this process. Only for a run that journals nothing:
// a journaled decision needs its reply.
func (r *Runner) offerTyped() {
	ts, ok := r.study.(study.TypedBackends)
	if !ok || r.recorded() || r.estimating || r.replaying || r.group != nil {
		return
	}
	ts.UseTyped(func(c *study.Cell) situation.Typed { return r.typedOf(r.backendOf(c)) })
}

// typedOf is backend be as a situation.Typed, or nil: the behavioural model built here
// (buildBackend wraps it in Validate, which a typed decision skips: it cannot be invalid), or
// an injected backend (Options.Backends) that is one itself.
func (r *Runner) typedOf(be *backendEntry) situation.Typed {
	if r.opt.Backends != nil {
		t, _ := be.be.(situation.Typed)
		return t
	}
	if be.cfg.Provider == "builtin" && (r.opt.Remote == nil || r.opt.Offline) {
		return behavioral.New()
	}
	return nil
}

// decideTyped makes a batch's decisions through b.Typed: the workers take chunks of indices
// in order; what account does for each reply (decisions asked, model versions) is done per
// chunk. An interrupt or error stops the workers between chunks, as decideBatch does between
// decisions.
func (r *Runner) decideTyped(ctx context.Context, b *study.Batch) error {
	n := b.Len()
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	var stopped atomic.Bool
	versions := map[*backendEntry]string{}
	for _, be := range r.backends {
		if t := r.typedOf(be); t != nil {
			versions[be] = t.ModelVersion()
		}
	}
	for range min(r.exp.Concurrency, (n+typedChunk-1)/typedChunk) {
		g.Go(func() error {
			for {
				lo := int(next.Add(typedChunk) - typedChunk)
				if lo >= n {
					return nil
				}
				if gctx.Err() != nil {
					stopped.Store(true)
					return nil
				}
				hi := min(lo+typedChunk, n)
				if err := b.Typed(lo, hi); err != nil {
					return err
				}
				r.mu.Lock()
				r.asked += hi - lo
				for be, v := range versions {
					if be.versions == nil {
						be.versions = map[string]bool{}
					}
					be.versions[v] = true
				}
				r.mu.Unlock()
				if r.prog != nil {
					r.prog.add(hi - lo)
				}
			}
		})
	}
	err := g.Wait()
	if err == nil && stopped.Load() {
		err = ctx.Err()
	}
	return err
}
