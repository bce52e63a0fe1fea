package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/prosim/prosim/internal/backend"
)

// The rule of identical requests, decided here for every cache choice, concurrency, batch mode
// and timing: an agent's identical requests within a run (one cache key, backend.KeyOf: the
// same agent, texts, replicate and factor levels; conditions that differ only by policy, or
// whose texts have not yet diverged for that agent, as Study 3's inequity world before its
// treatment reaches an agent) are one draw, the common random numbers the seeds give where a
// provider honours them. Collapse shares them while one is in flight, the reply cache after,
// and in batch mode the collector gives them one line of a job (backend.CollectorConfig.ID).
// With a cache (shared by runs) the cache serves them; without one (--no-cache, cache: off)
// the run keeps a cache of its own, runCacheFile in the run folder, so that whether a request
// is a copy never depends on whether its twin is still in flight, and a resume (which reuses
// the file) shares as the run would have.

// runCacheFile is the run's own reply cache under --no-cache or cache: off: a log of replies
// (backend.LogStore), with its index runCacheIndex while the run is open. A run started before
// the log (2026-12-03) keeps its SQLite file, runCacheSQLite, which its resume goes on using.
const (
	runCacheFile   = "cache.log"
	runCacheIndex  = "cache.idx"
	runCacheSQLite = "cache.db"
)

// ownCache reports whether the run keeps its own cache (--no-cache, cache: off) rather than
// one shared by runs.
func (r *Runner) ownCache() bool { return r.opt.NoCache || r.exp.Cache == "off" }

// runCache is the run's own cache: its file is opened at the first look-up, once the run
// folder is known (Prepare builds the backends before Run makes the folder), so that
// validate, estimate and a replay that asks nothing create none.
func (r *Runner) runCache() *backend.Cache {
	return backend.NewCache(&runCacheStore{r: r})
}

// runCacheStore is a CacheStore over runCacheFile in the run folder, opened on first use.
type runCacheStore struct {
	r    *Runner
	once sync.Once
	s    backend.CacheStore
	err  error
}

func (l *runCacheStore) open() (backend.CacheStore, error) {
	l.once.Do(func() {
		if l.r.dir == "" {
			l.err = errors.New("reply cache: the run's own cache (--no-cache) needs a run folder")
			return
		}
		if old := filepath.Join(l.r.dir, runCacheSQLite); exists(old) {
			l.s, l.err = backend.OpenSQLiteStore(old)
			return
		}
		l.s, l.err = backend.OpenLogStore(filepath.Join(l.r.dir, runCacheFile), filepath.Join(l.r.dir, runCacheIndex))
		if l.err == nil && wrapRunCache != nil {
			l.s = wrapRunCache(l.s)
		}
	})
	return l.s, l.err
}

// wrapRunCache, set by tests, wraps the run's log store (to slow or watch its writes).
var wrapRunCache func(backend.CacheStore) backend.CacheStore

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (l *runCacheStore) Get(ctx context.Context, k backend.Key) (backend.Reply, bool, error) {
	s, err := l.open()
	if err != nil {
		return backend.Reply{}, false, err
	}
	return s.Get(ctx, k)
}

func (l *runCacheStore) Put(ctx context.Context, batch []backend.CacheEntry) error {
	s, err := l.open()
	if err != nil {
		return err
	}
	return s.Put(ctx, batch)
}

func (l *runCacheStore) Len(ctx context.Context) (int, error) {
	s, err := l.open()
	if err != nil {
		return 0, err
	}
	return s.Len(ctx)
}

// Close closes the file if it was opened (a store never opened stays so). A run or resume
// that holds the folder and never opened it removes an index a killed run left (QA16: a resume
// that asked nothing kept it): the index is made again from the log at each open, and is
// removed at the end of every run that opened it.
func (l *runCacheStore) Close() error {
	l.once.Do(func() { l.err = errors.New("reply cache: closed") })
	if l.s != nil {
		return l.s.Close()
	}
	if l.r.lock != nil && l.r.dir != "" {
		if err := os.Remove(filepath.Join(l.r.dir, runCacheIndex)); !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
